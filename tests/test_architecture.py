"""The package's layers (docs/architecture.md): imports only point down, there are no
import circles, and no module of the package, the tests, e2e or the benchmarks is
over 600 lines. Every import counts: those under ``TYPE_CHECKING`` and inside
functions too."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "flask_videochat"

#: Each module's layer, by the first part of its name inside the package; higher
#: numbers are higher layers. ``events`` and ``web`` are siblings (the same layer)
#: that must not import each other.
LAYERS: dict[str, int] = {
    "core": 0,
    "testing": 0,
    "config": 1,
    "signals": 1,
    "stores": 2,
    "state": 3,
    "events": 4,
    "web": 4,
    "extension": 5,
    "__init__": 6,
    "pytest_plugin": 6,
}
#: Imports allowed to run up a layer or sideways, each explained in
#: docs/architecture.md (at most two): none.
ALLOWED_UP: set[tuple[str, str]] = set()

MAX_LINES = 600


def modules() -> dict[str, Path]:
    """``core.calls`` -> its file, for every module of the package."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The package modules that module ``name`` imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                target = ".".join([*base, *([node.module] if node.module else [])])
            elif node.module and node.module.startswith("flask_videochat"):
                target = node.module[len("flask_videochat") :].lstrip(".")
            else:
                continue
            candidates = [target, *(f"{target}.{a.name}".lstrip(".") for a in node.names)]
            found.update(c for c in candidates if c in known and c != name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("flask_videochat."):
                    target = alias.name[len("flask_videochat.") :]
                    if target in known:
                        found.add(target)
    return found


def layer(name: str) -> int:
    return LAYERS[name.split(".")[0] if name else "__init__"]


def graph() -> dict[str, set[str]]:
    known = modules()
    names = set(known)
    return {name: imports_of(name, path, names) for name, path in known.items()}


def test_every_module_has_a_layer() -> None:
    assert [n for n in modules() if (n.split(".")[0] or "__init__") not in LAYERS] == []


def test_imports_only_point_down() -> None:
    wrong = []
    for name, imported in graph().items():
        for target in imported:
            up = layer(target) > layer(name)
            sideways = layer(target) == layer(name) and name.split(".")[0] != target.split(".")[0]
            if (up or sideways) and (name, target) not in ALLOWED_UP:
                wrong.append(f"{name} -> {target}")
    assert sorted(wrong) == []
    assert len(ALLOWED_UP) <= 2


def test_there_are_no_import_circles() -> None:
    edges = graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            members = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                members.append(member)
                if member == node:
                    break
            if len(members) > 1:
                circles.append(sorted(members))

    for node in edges:
        if node not in index:
            visit(node)
    assert circles == []


def test_the_checks_see_real_imports() -> None:
    # The graph is not empty by mistake: known edges are found.
    edges = graph()
    assert "core.protocol" in edges["core.calls"]
    assert "state" in edges["events.base"]
    assert "stores" in edges["state"]


def sources() -> list[Path]:
    """The project's own source files (vendored ones aside)."""
    return [
        *PACKAGE.rglob("*.py"),
        *(p for p in PACKAGE.rglob("*.js") if "vendor" not in p.parts),
        *(ROOT / "tests").rglob("*.py"),
        *(ROOT / "e2e").rglob("*.py"),
        *(ROOT / "benchmarks").rglob("*.py"),
        *(ROOT / "example_site").rglob("*.py"),
    ]


def test_no_module_is_over_600_lines() -> None:
    files = sources()
    assert len(files) > 50
    long = {
        str(path.relative_to(ROOT)): lines
        for path in files
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}
