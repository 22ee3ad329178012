"""Presence says, per viewer, whom the host's ``can_call`` hook lets them call
(``"callable"``), with the answer ``call.invite`` gives; without the hook the field
is absent; together with ``can_see``, a viewer learns nothing about someone hidden."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import pytest

from tests.support import assert_error, clear, invite

#: Every test here runs on both stores: in memory, and on Redis (one process).
pytestmark = pytest.mark.parametrize("host_store", ("memory", "redis"), indirect=True)

if TYPE_CHECKING:
    from flask_videochat import User
    from tests.harness import Connector, Host, MakeHost, Tab


def callable_in_snapshot(tab: Tab) -> dict[str, bool | None]:
    return {u["id"]: u.get("callable") for u in tab.received("presence.snapshot")[0]["users"]}


def callable_in_changes(tab: Tab) -> dict[str, bool | None]:
    """The last word of ``presence.changes`` on each user: ``callable`` (None: absent)."""
    return {u["id"]: u.get("callable") for u in tab.online()}


@pytest.fixture
def forbidding(
    make_host: MakeHost, connector_for: Callable[[Host], Connector]
) -> tuple[Host, Connector]:
    """A host whose ``can_call`` forbids Ada to call Bob (only that way round)."""

    def can_call(caller: User, callee: User) -> bool:
        return (caller.id, callee.id) != ("ada", "bob")

    host = make_host(can_call=can_call)
    return host, connector_for(host)


def test_the_snapshot_says_whom_each_viewer_may_call(forbidding: tuple[Host, Connector]) -> None:
    _, connect = forbidding
    connect("bob")
    connect("cy")

    ada = connect("ada")
    bob = connect("bob")  # a second tab of Bob's

    assert callable_in_snapshot(ada) == {"bob": False, "cy": True}
    assert callable_in_snapshot(bob) == {"ada": True, "cy": True}
    # The answer is the one call.invite gives.
    assert_error(ada.emit("call.invite", {"to": "bob"}), "ERR_FORBIDDEN")
    assert bob.received("call.incoming") == []


def test_the_changes_say_whom_each_viewer_may_call(forbidding: tuple[Host, Connector]) -> None:
    _, connect = forbidding
    ada, cy = connect("ada"), connect("cy")
    clear(ada, cy)

    bob = connect("bob")  # joins: Ada may not call him, Cy may
    call_id = invite(cy, "bob")  # both ringing

    assert ("bob", "available") in ada.statuses() and ("bob", "ringing") in ada.statuses()
    assert {u["callable"] for u in ada.online() if u["id"] == "bob"} == {False}
    assert {u["callable"] for u in cy.online() if u["id"] == "bob"} == {True}
    assert callable_in_changes(bob) == {"cy": True}
    assert callable_in_changes(ada)["cy"] is True
    assert cy.emit("call.cancel", {"call_id": call_id})["ok"] is True


def test_without_the_hook_presence_has_no_callable(
    make_host: MakeHost, connector_for: Callable[[Host], Connector]
) -> None:
    connect = connector_for(make_host())
    connect("bob")
    ada = connect("ada")
    connect("cy")

    assert callable_in_snapshot(ada) == {"bob": None}
    assert callable_in_changes(ada)["cy"] is None  # (the broadcast names Ada too)


def test_a_viewer_learns_nothing_of_someone_hidden(
    make_host: MakeHost, connector_for: Callable[[Host], Connector]
) -> None:
    """With both hooks, someone ``can_see`` hides is in no message to that viewer,
    callable or not, and the ``can_call`` hook is never asked about them for them."""
    asked: list[tuple[str, str]] = []

    def can_call(caller: User, callee: User) -> bool:
        asked.append((caller.id, callee.id))
        return callee.id != "bob"

    host = make_host(can_call=can_call, can_see=lambda viewer, user: user.id != "eve" or viewer.id != "ada")
    connect = connector_for(host)
    connect("eve")
    ada = connect("ada")
    clear(ada)
    bob = connect("bob")
    call_id = invite(bob, "eve")

    assert "eve" not in callable_in_snapshot(connect("ada"))
    assert [u["id"] for u in ada.online()] == ["bob", "bob"]
    assert {u["callable"] for u in ada.online()} == {False}
    assert ("ada", "eve") not in asked
    assert callable_in_changes(bob)["eve"] is True
    assert bob.emit("call.cancel", {"call_id": call_id})["ok"] is True


def test_a_failing_can_call_says_not_callable(
    make_host: MakeHost, connector_for: Callable[[Host], Connector], caplog: pytest.LogCaptureFixture
) -> None:
    def can_call(caller: User, callee: User) -> bool:
        if callee.id == "bob":
            raise LookupError("directory down")
        return True

    connect = connector_for(make_host(can_call=can_call))
    connect("bob")
    connect("cy")

    ada = connect("ada")

    assert callable_in_snapshot(ada) == {"bob": False, "cy": True}
    assert any("can_call" in r.getMessage() for r in caplog.records)
