"""The wheel: built from a clean copy of the source tree, it must carry everything
the widget needs at run time (templates, JavaScript, CSS, the vendored Socket.IO
client and its licence) and ``py.typed``."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import flask_videochat

#: The project root (the directory with ``setup.cfg``).
ROOT = Path(flask_videochat.__file__).resolve().parent.parent

#: Files of the package that a wheel must contain.
REQUIRED = (
    "flask_videochat/__init__.py",
    "flask_videochat/py.typed",
    "flask_videochat/web/templates/videochat/widget.html",
    "flask_videochat/web/templates/videochat/assets.html",
    "flask_videochat/web/templates/videochat/room.html",
    "flask_videochat/web/static/videochat/js/index.js",
    "flask_videochat/web/static/videochat/js/element.js",
    "flask_videochat/web/static/videochat/css/videochat.css",
    "flask_videochat/web/static/videochat/css/room-page.css",
    "flask_videochat/web/static/videochat/vendor/socket.io.esm.min.js",
    "flask_videochat/web/static/videochat/vendor/LICENSE-socket.io-client",
    "flask_videochat/web/static/videochat/css/icons.css",
    "flask_videochat/web/static/videochat/vendor/lucide/LICENSE",
    "flask_videochat/web/static/videochat/vendor/lucide/mic.svg",
    "flask_videochat/web/static/videochat/js/catalogue.js",
    "flask_videochat/web/static/videochat/i18n/de.json",
    "flask_videochat/web/static/videochat/i18n/fr.json",
)


def test_wheel_contains_the_run_time_files(tmp_path: Path) -> None:
    # Build from a copy, so that the build leaves nothing (build/, egg-info) in the
    # working tree and stale build artefacts cannot hide a packaging mistake.
    src = tmp_path / "src"
    shutil.copytree(
        ROOT,
        src,
        ignore=shutil.ignore_patterns(
            ".git",
            ".venv",
            "build",
            "dist",
            "*.egg-info",
            "__pycache__",
            ".pytest_cache",
            ".ruff_cache",
            "test-results",
            "e2e",
            "tests",
        ),
    )
    out = tmp_path / "dist"
    result = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "-o", str(out), str(src)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    [wheel] = out.glob("flask_videochat-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        missing = [name for name in REQUIRED if name not in names]
        assert missing == [], f"missing from {wheel.name}: {missing}"
        js_sources = {
            p.relative_to(ROOT).as_posix()
            for p in (ROOT / "flask_videochat/web/static/videochat/js").glob("*.js")
        }
        assert js_sources <= names, f"JavaScript modules not packaged: {js_sources - names}"
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        assert "videochat = flask_videochat.pytest_plugin" in archive.read(entry_points).decode()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
        requires = [line for line in metadata.decode().splitlines()
                    if line.startswith("Requires-Dist:")]
        # The example site's forms need Flask-WTF; the extension and the kit do not.
        wtf = [line for line in requires if "flask-wtf" in line.lower()]
        assert wtf and all('extra == "dev"' in line or 'extra == "test"' in line
                           for line in wtf), requires
        testing = [line for line in requires if 'extra == "testing"' in line]
        assert sorted(line.split()[1].split(">")[0].lower() for line in testing) == [
            "playwright", "pytest"], requires
    assert not any(name.startswith(("tests/", "example_site/", "e2e/")) for name in names)
