"""The extras in setup.cfg: ``testing`` is what host apps install for the kit
(``flask_videochat.testing`` and its pytest plugin) and holds exactly the
third-party packages the kit imports; ``dev`` is this project's own development
(tests, e2e, example site, benchmarks, docs); ``test`` is the old name of ``dev``,
kept for one release. Every extra a requirement names exists, spelled as its
package spells it (pip 23 warns about, and installs nothing for, an extra it does
not find under that spelling)."""

from __future__ import annotations

import ast
import configparser
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
KIT = ROOT / "flask_videochat" / "testing"


def extras() -> dict[str, list[Requirement]]:
    """setup.cfg's ``[options.extras_require]``: extra -> its requirements."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    section = config["options.extras_require"]
    return {
        name: [Requirement(line) for line in section[name].splitlines() if line.strip()]
        for name in section
    }


def install_requires() -> list[Requirement]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    lines = config["options"]["install_requires"].splitlines()
    return [Requirement(line) for line in lines if line.strip()]


def names(requirements: list[Requirement]) -> set[str]:
    return {canonicalize_name(r.name) for r in requirements}


def kit_imports() -> set[str]:
    """The top-level names of every module the kit imports from outside the
    standard library and the package (imports under ``TYPE_CHECKING`` and inside
    functions count)."""
    found = set()
    for path in [*KIT.glob("*.py"), ROOT / "flask_videochat" / "pytest_plugin.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {name for name in found
            if name not in sys.stdlib_module_names and name != "flask_videochat"}


def distributions_of(modules: set[str]) -> set[str]:
    """The installed distributions that provide these top-level modules."""
    provided = metadata.packages_distributions()
    missing = modules - set(provided)
    assert not missing, f"the kit imports modules no installed package provides: {missing}"
    return {canonicalize_name(dist) for module in modules for dist in provided[module]}


def test_the_testing_extra_is_exactly_what_the_kit_imports() -> None:
    found = extras()
    imported = distributions_of(kit_imports())
    assert imported == {"playwright", "pytest"}  # what the kit imports today
    testing = names(found["testing"])
    assert imported <= testing, f"the kit imports {imported - testing}, not in [testing]"
    assert testing <= imported, f"[testing] holds {testing - imported}, which the kit never imports"


def test_the_testing_extra_holds_nothing_dev_only() -> None:
    found = extras()
    testing, dev = names(found["testing"]), names(found["dev"])
    dev_only = dev - testing
    # The project's own tools are in dev only.
    assert {"build", "setuptools", "redis", "hypothesis", "python-socketio", "flask-wtf",
            "eventlet", "gevent", "sphinx", "myst-parser"} <= dev_only
    assert not testing & dev_only
    # dev is a superset: the project's own e2e suite uses the kit.
    assert {str(r) for r in found["testing"]} <= {str(r) for r in found["dev"]}


def test_test_is_an_alias_of_dev_for_one_release() -> None:
    found = extras()
    assert [str(r) for r in found["test"]] == [str(r) for r in found["dev"]]
    assert "'.[dev]'" in (ROOT / "scripts" / "test").read_text()


def test_every_extra_named_exists_as_spelled() -> None:
    """``python-socketio[asyncio_client]`` was named; python-socketio provides
    ``asyncio-client``: pip warned and installed no aiohttp for it."""
    requirements = install_requires() + [r for rs in extras().values() for r in rs]
    checked = 0
    for requirement in requirements:
        if not requirement.extras:
            continue
        try:
            dist = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:  # pragma: no cover - a message, not a skip
            raise AssertionError(
                f"{requirement.name} is not installed: pip install -e '.[dev]'") from None
        provided = set(dist.metadata.get_all("Provides-Extra") or [])
        for extra in requirement.extras:
            assert extra in provided, f"{requirement}: {requirement.name} provides {provided}"
            checked += 1
    assert checked >= 2  # redis[hiredis], python-socketio[asyncio-client]
