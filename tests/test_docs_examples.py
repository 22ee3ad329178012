"""Every ``python`` example in the README and ``docs/*.md`` runs (how each runs:
:mod:`tests.docs_examples`): the fragments of a host app are executed in one; the
browser examples are run by ``e2e/test_docs_examples.py`` and checked here for
names they use but never define (``bob_id`` was one); the few that cannot run are
compiled, and each says why."""

from __future__ import annotations

import builtins
import symtable
from typing import Any

import pytest
from flask import Flask
from flask_socketio import SocketIO

from flask_videochat import VideoChat
from flask_videochat.testing import pytest_plugin
from tests.docs_examples import HOST_NAMES, Block, code_blocks

BLOCKS = code_blocks()

#: At most this many examples may be left unrun.
MAX_NOT_RUN = 3


def undefined_names(code: str, where: str) -> set[str]:
    """Names the code reads from its module that it never binds there (nor are
    builtins): what would raise ``NameError`` when run on its own."""
    top = symtable.symtable(code, where, "exec")
    bound = {s.get_name() for s in top.get_symbols()
             if s.is_assigned() or s.is_imported() or s.is_namespace()}
    used: set[str] = set()

    def walk(table: symtable.SymbolTable) -> None:
        for symbol in table.get_symbols():
            if symbol.is_referenced() and (table is top or symbol.is_global()):
                used.add(symbol.get_name())
        for child in table.get_children():
            walk(child)

    walk(top)
    return used - bound - set(dir(builtins))


def host_module() -> dict[str, Any]:
    """A host app's module namespace: an app with Socket.IO and the extension, and
    stand-ins for the host's own functions and data the examples call."""
    app = Flask("docs_example")
    app.config["SECRET_KEY"] = "docs example"
    socketio = SocketIO(app, async_mode="threading")
    namespace: dict[str, Any] = {
        "__name__": "docs_example",
        "app": app,
        "socketio": socketio,
        "videochat": VideoChat(app, socketio),
        "get_current_user": lambda: None,
        "is_blocked": lambda blocker_id, blocked_id: False,
        "BOARD_MEMBER_IDS": frozenset(),
        "team_of": lambda user_id: "team",
    }
    assert set(namespace) - {"__name__"} == set(HOST_NAMES)
    return namespace


def of(mode: str) -> list[Any]:
    return [pytest.param(block, id=block.where) for block in BLOCKS if block.mode == mode]


def test_the_examples_are_found() -> None:
    wheres = {block.where.split(":")[0] for block in BLOCKS}
    assert {"README.md", "docs/testing.md", "docs/guide.md", "docs/turn.md"} <= wheres
    assert len(BLOCKS) >= 13


@pytest.mark.parametrize("block", of("run"))
def test_a_host_app_fragment_runs(block: Block, monkeypatch: pytest.MonkeyPatch) -> None:
    assert undefined_names(block.code, block.where) <= set(HOST_NAMES)
    monkeypatch.setenv("TURN_SECRET", "docs example secret")  # docs/turn.md reads it
    exec(compile(block.code, block.where, "exec"), host_module())


@pytest.mark.parametrize("block", of("e2e"))
def test_a_browser_example_is_whole(block: Block) -> None:
    """Run by e2e/test_docs_examples.py; here: it compiles, uses no name it does
    not define, and its tests ask only for the kit's fixtures."""
    assert undefined_names(block.code, block.where) == set()
    namespace: dict[str, Any] = {"__name__": "docs_example"}
    exec(compile(block.code, block.where, "exec"), namespace)
    tests = {name: f for name, f in namespace.items() if name.startswith("test_")}
    assert tests, f"{block.where} is marked run: e2e but defines no test"
    fixtures = {name for name in dir(pytest_plugin) if name.startswith("videochat_")}
    for test in tests.values():
        args = set(test.__code__.co_varnames[: test.__code__.co_argcount])
        assert args <= fixtures, f"{block.where}: {test.__name__} asks for {args - fixtures}"


def test_few_examples_are_left_unrun() -> None:
    unrun = [block for block in BLOCKS if block.mode == "not-run"]
    assert len(unrun) <= MAX_NOT_RUN, [block.where for block in unrun]
    for block in unrun:
        assert len(block.why.split()) >= 3, f"{block.where}: say why it cannot run"
        compile(block.code, block.where, "exec")
        assert undefined_names(block.code, block.where) <= set(HOST_NAMES), block.where
