"""Helpers shared by the Socket.IO test modules (imported as ``tests.support``)."""

from __future__ import annotations

from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:
    from blinker import NamedSignal
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


def fill(value: Any, call_id: str) -> Any:
    """``value`` with every ``"{call}"`` (in nested dicts and lists) replaced by
    ``call_id``: malformed-payload tables name the live call that way."""
    if value == "{call}":
        return call_id
    if isinstance(value, dict):
        return {k: fill(v, call_id) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, call_id) for v in value]
    return value


#: Signals a host app received, in order: ``(name, kwargs)``.
Sent = list[tuple[str, dict[str, Any]]]


@contextmanager
def recording(host: Host, signals: dict[str, NamedSignal]) -> Iterator[Sent]:
    """Record every ``signals`` (name -> blinker signal) sent for ``host``'s app,
    checking that the sender is that app."""
    sent: Sent = []

    def recorder(name: str) -> Any:
        def record(sender: Any, **kwargs: Any) -> None:
            assert sender is host.app
            sent.append((name, kwargs))

        return record

    with ExitStack() as stack:
        for name, signal in signals.items():
            stack.enter_context(signal.connected_to(recorder(name), sender=host.app))
        yield sent
