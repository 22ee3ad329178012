"""Helpers shared by the Socket.IO test modules (imported as ``tests.support``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conftest import Host, Tab


def invite(caller: Tab, callee_id: str) -> str:
    """``caller`` calls ``callee_id``; the call must ring. Returns its id."""
    ack = caller.emit("call.invite", {"to": callee_id})
    assert ack == {"ok": True, "call_id": ack.get("call_id"), "state": "ringing"}, ack
    return str(ack["call_id"])


def answered(caller: Tab, callee: Tab) -> str:
    """A call from ``caller`` answered on ``callee``; every tab's inbox is then
    cleared. Returns the call id."""
    call_id = invite(caller, str(callee.user_id))
    assert callee.emit("call.accept", {"call_id": call_id})["ok"] is True
    return call_id


def clear(*tabs: Tab) -> None:
    for tab in tabs:
        tab.clear()


def assert_error(ack: Any, code: str) -> None:
    assert isinstance(ack, dict), ack
    assert ack["ok"] is False, ack
    assert set(ack) == {"ok", "error"}
    assert ack["error"]["code"] == code, ack
    assert set(ack["error"]) == {"code", "message"}
    assert isinstance(ack["error"]["message"], str) and ack["error"]["message"]


def assert_nothing(*tabs: Tab) -> None:
    """None of ``tabs`` received anything (since they were last cleared)."""
    for tab in tabs:
        assert tab.names() == [], f"{tab.user_id} received {tab.log}"


def statuses(host: Host) -> dict[str, str]:
    return {user.id: status.value for user, status in host.state.presence.users()}
