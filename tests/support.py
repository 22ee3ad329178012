"""Helpers shared by the Socket.IO test modules (imported as ``tests.support``)."""

from __future__ import annotations

from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any, Iterator
from unittest.mock import ANY

from flask_videochat import call_ended, chat_message, room_joined, room_left

if TYPE_CHECKING:
    from blinker import NamedSignal

    from tests.harness import Host, Tab

#: A description and an ICE candidate as a browser's ``signal`` / ``room.signal``
#: carries them.
OFFER = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"}
CANDIDATE = {
    "candidate": "candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
    "usernameFragment": "abcd",
}


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


def join(tab: Tab, room: str = "standup", **media: bool) -> dict[str, Any]:
    """``tab`` joins ``room``; the join must succeed. Returns the ack."""
    ack = tab.emit("room.join", {"room": room, **media})
    assert ack["ok"] is True, ack
    return ack  # type: ignore[no-any-return]


def member(
    host: Host, user_id: str, *, mic: bool = True, cam: bool = True, screen: bool = False
) -> dict[str, Any]:
    """A member as room events list them (``seat``: any opaque seat id; ``rev``: the
    revision of their media state)."""
    return {
        **host.public(user_id),
        "mic": mic,
        "cam": cam,
        "screen": screen,
        "seat": ANY,
        "rev": ANY,
    }


def say(tab: Tab, text: str, **where: str) -> dict[str, Any]:
    """``tab`` sends ``text`` to a room or call (``room=`` / ``call_id=``); returns
    the message."""
    ack = tab.emit("chat.send", {**where, "text": text})
    assert ack["ok"] is True, ack
    assert set(ack) == {"ok", "message"}
    return ack["message"]  # type: ignore[no-any-return]


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


def call_and_room_events(tab: Tab) -> list[str]:
    """Names of the call, room, chat and signal events ``tab`` received (presence
    events left out)."""
    return [n for n in tab.names() if not n.startswith("presence.")]


def statuses(host: Host) -> dict[str, str]:
    return {user.id: status.value for user, status in host.state.presence.users()}


def others_of(host: Host, user_id: str) -> dict[str, str]:
    """Who is really online but ``user_id`` (id -> status), as the server knows it."""
    return {uid: status for uid, status in statuses(host).items() if uid != user_id}


def seen_by(tab: Tab) -> dict[str, str]:
    """Who ``tab`` believes is online (id -> status): its snapshot with every
    ``presence.changes`` applied in order, its own id ignored."""
    view = {u["id"]: u["status"] for u in tab.received("presence.snapshot")[0]["users"]}
    for change in tab.changes():
        view.update((u["id"], u["status"]) for u in change["users"])
        for uid in change["left"]:
            view.pop(uid, None)
    view.pop(str(tab.user_id), None)
    return view


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


#: The room, chat and ``call_ended`` signals a rooms test records (the host's
#: ``host_signals`` fixture of the ``test_namespace_rooms*`` modules).
ROOM_SIGNALS = {
    "joined": room_joined,
    "left": room_left,
    "chat": chat_message,
    "call_ended": call_ended,
}
