"""The documentation builds with Sphinx with warnings as errors, as CI builds it
(``sphinx-build -W --keep-going -b html docs OUT``), and its API reference has an
entry for everything the code offers: every configuration key of ``config.py``,
every signal, every public name of the test kit and every fixture of the pytest
plugin (``docs/_ext/videochat_reference.py`` writes those entries from the code)."""

from __future__ import annotations

import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
from blinker import NamedSignal

import flask_videochat
import flask_videochat.pytest_plugin
import flask_videochat.signals
import flask_videochat.testing
from flask_videochat.config import DEFAULTS

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def children_cpu() -> float:
    """CPU seconds (user and system) used so far by this process's ended children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """``(html directory, CPU seconds)`` of a fresh build; fails on any warning.
    The build's cost is its CPU time, which other work on the machine does not
    change (its wall time does: a loaded CI machine is not a slow build)."""
    out = tmp_path_factory.mktemp("docs")
    cpu = children_cpu()
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(out / "doctrees"), str(DOCS), str(out / "html")],
        capture_output=True, text=True, cwd=ROOT,
    )
    cpu = children_cpu() - cpu
    problems = result.stderr.strip()
    assert result.returncode == 0 and not problems, (
        f"sphinx-build failed (exit {result.returncode}):\n{problems}\n{result.stdout}"
    )
    print(f"docs built in {time.monotonic() - started:.1f} s ({cpu:.1f} s of CPU)")
    return out / "html", cpu


def anchors(page: Path) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', page.read_text(encoding="utf-8")))


def test_docs_build_without_warnings_in_under_a_minute(built: tuple[Path, float]) -> None:
    html, cpu = built
    pages = {p.stem for p in html.glob("*.html")}
    docs = {p.stem for p in DOCS.glob("*.md")}
    assert docs <= pages, f"pages not built: {sorted(docs - pages)}"
    assert cpu < 60, f"the docs took {cpu:.0f} s of CPU to build"


def test_api_reference_has_every_configuration_key_and_signal(built: tuple[Path, float]) -> None:
    found = anchors(built[0] / "api.html")
    keys = {f"flask_videochat.config.{key}" for key in DEFAULTS}
    assert keys - found == set(), "configuration keys missing from the API reference"
    signals = {f"flask_videochat.signals.{name}" for name, value in
               vars(flask_videochat.signals).items() if isinstance(value, NamedSignal)}
    assert len(signals) >= 6
    assert signals - found == set(), "signals missing from the API reference"
    assert "flask_videochat.VideoChat.init_app" in found


def test_api_reference_has_the_test_kit_and_every_fixture(built: tuple[Path, float]) -> None:
    found = anchors(built[0] / "api.html")
    kit = {f"flask_videochat.testing.{name}" for name in flask_videochat.testing.__all__}
    assert kit - found == set(), "public names of the test kit missing from the API reference"
    fixtures = {f"fixture-{name}" for name, value in vars(flask_videochat.pytest_plugin).items()
                if hasattr(value, "_fixture_function_marker")
                or hasattr(value, "_pytestfixturefunction")}
    assert len(fixtures) >= 5
    assert fixtures - found == set(), "fixtures missing from the API reference"


def test_the_changelog_is_in_the_docs(built: tuple[Path, float]) -> None:
    text = (built[0] / "changes.html").read_text(encoding="utf-8")
    assert f"Version {flask_videochat.__version__}" in text
