"""What ``/videochat`` must answer, whatever a browser sends: the fuzzed world
(its people, rooms and host config), the protocol's schemas, error codes and ack
fields, and sending an event as a browser would and checking its ack.

What must hold (``docs/protocol.md``):

- every event is answered with exactly one acknowledgement, ``{"ok": true, ...}``
  or ``{"ok": false, "error": {"code", "message"}}`` with a documented code for
  that event, never ``ERR_INTERNAL``, and nothing is logged at ``ERROR``;
- a payload that does not fit the event's schema is refused with the code
  :func:`flask_videochat.core.protocol.parse` gives; a refused event changes no state
  and nobody else hears of it;
- calls, rooms and presence agree with each other and with the open connections
  (:func:`tests.fuzz.world.check_world`), and a user who is never addressed hears
  only presence.

The test client JSON-encodes every packet and the server decodes it
(``socketio.packet``), as over a real connection; :func:`on_the_wire` does the same
to know what the server saw. ``ERR_RATE_LIMITED`` and ``ERR_TOO_LARGE`` (message
size caps) are accepted for every event: they protect the server, not the protocol
of one event. Events whose name starts with ``presence.`` are presence traffic,
whatever its shape."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator

from hypothesis import HealthCheck, settings
from socketio import packet

from flask_videochat import NAMESPACE, config
from flask_videochat.core import ratelimit
from flask_videochat.core.protocol import (
    EVENTS,
    CallAddPayload,
    CallIdPayload,
    CallMediaPayload,
    CallResumePayload,
    ChatPayload,
    ErrorCode,
    HangupPayload,
    InvitePayload,
    Payload,
    PingPayload,
    ProtocolError,
    RoomInvitePayload,
    RoomJoinPayload,
    RoomMediaPayload,
    RoomPayload,
    RoomSignalPayload,
    SignalPayload,
    parse,
)

if TYPE_CHECKING:
    from tests.harness import Tab


# -- the world ---------------------------------------------------------------------

#: The people who send fuzzed events (Eve's display name is hostile markup).
ACTORS = ("ada", "bob", "eve")
#: Connected throughout, never named by a fuzzed event: hears only presence.
BYSTANDER = "dan"
#: Room names the fuzzer uses besides random ones.
ROOMS = ("lobby", "den")
#: A call id no call has.
NO_CALL = "no-such-call"

#: The fuzzed host: 3 seats per room (the three actors fill one), no reconnect
#: grace (a closed connection loses its call and seat at once), and a ring timeout
#: no example lasts (timers firing in the middle of an example would change the
#: state between an event and its checks).
FUZZ_CONFIG: dict[str, Any] = {
    "VIDEOCHAT_RING_TIMEOUT": 60,
    "VIDEOCHAT_RECONNECT_GRACE": 0,
    "VIDEOCHAT_ROOM_CAPACITY": 3,
    "VIDEOCHAT_CHAT_HISTORY": 3,
}


def fuzz_config() -> dict[str, Any]:
    """:data:`FUZZ_CONFIG`, plus keys of newer versions when the extension has them:
    presence sent at once (the checks read it synchronously) and rate limits far
    above what one example sends (an ``ERR_RATE_LIMITED`` would hide what an event
    does)."""
    extra: dict[str, Any] = {}
    if "VIDEOCHAT_PRESENCE_WINDOW" in config.DEFAULTS:
        extra["VIDEOCHAT_PRESENCE_WINDOW"] = 0
    if "VIDEOCHAT_RATE_LIMITS" in config.DEFAULTS:
        extra["VIDEOCHAT_RATE_LIMITS"] = generous(config.DEFAULTS["VIDEOCHAT_RATE_LIMITS"])
    return {**FUZZ_CONFIG, **extra}


def generous(default: Any) -> Any:
    """Rate limits of a million events a second, shaped like ``default``: a table
    by event name (with ``"default"`` for the others), or one limit."""
    limit = "1000000/second"
    if isinstance(default, dict):
        # (Every event, and every other key the built-in table has: connecting.)
        keys = {*EVENTS, *getattr(ratelimit, "BUILT_IN_RATE_LIMITS", {})}
        return {"default": limit, **{key: limit for key in keys}}
    return limit


#: Derandomized, no example database, no deadline (Socket.IO round trips vary).
FUZZ = settings(
    database=None,
    derandomize=True,
    deadline=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.filter_too_much,
    ],
)

# -- what the protocol allows -------------------------------------------------------

#: The payload schema of every event: the oracle for refusals.
SCHEMAS: dict[str, type[Payload]] = {
    "ping": PingPayload,
    "call.invite": InvitePayload,
    "call.accept": CallIdPayload,
    "call.decline": CallIdPayload,
    "call.cancel": CallIdPayload,
    "call.hangup": HangupPayload,
    "call.media": CallMediaPayload,
    "call.resume": CallResumePayload,
    "call.add": CallAddPayload,
    "signal": SignalPayload,
    "room.join": RoomJoinPayload,
    "room.leave": RoomPayload,
    "room.resume": RoomPayload,
    "room.signal": RoomSignalPayload,
    "room.media": RoomMediaPayload,
    "room.invite": RoomInvitePayload,
    "room.decline": RoomPayload,
    "chat.send": ChatPayload,
}

E = ErrorCode
#: Codes a well-formed payload of each event may still get (docs/protocol.md).
STATE_ERRORS: dict[str, set[ErrorCode]] = {
    "ping": set(),
    "call.invite": {E.SELF_CALL, E.USER_OFFLINE, E.FORBIDDEN, E.ALREADY_IN_CALL},
    "call.accept": {E.CALL_NOT_FOUND, E.INVALID_STATE},
    "call.decline": {E.CALL_NOT_FOUND, E.INVALID_STATE},
    "call.cancel": {E.CALL_NOT_FOUND, E.INVALID_STATE},
    "call.hangup": {E.CALL_NOT_FOUND, E.INVALID_STATE},
    "call.media": {E.CALL_NOT_FOUND, E.INVALID_STATE},
    "call.resume": {E.CALL_NOT_FOUND, E.INVALID_STATE},
    "call.add": {
        E.CALL_NOT_FOUND,
        E.INVALID_STATE,
        E.SELF_CALL,
        E.USER_OFFLINE,
        E.FORBIDDEN,
        E.ROOM_FULL,
    },
    "signal": {E.CALL_NOT_FOUND, E.INVALID_STATE},
    "room.join": {E.ALREADY_IN_CALL, E.FORBIDDEN, E.ROOM_FULL, E.NOT_IN_ROOM},
    "room.leave": {E.NOT_IN_ROOM},
    "room.resume": {E.NOT_IN_ROOM},
    "room.signal": {E.NOT_IN_ROOM},
    "room.media": {E.NOT_IN_ROOM},
    "room.invite": {
        E.NOT_IN_ROOM,
        E.SELF_CALL,
        E.USER_OFFLINE,
        E.INVALID_STATE,
        E.ROOM_FULL,
        E.FORBIDDEN,
    },
    "room.decline": {E.NOT_IN_ROOM},
    "chat.send": {E.NOT_IN_ROOM, E.CALL_NOT_FOUND, E.INVALID_STATE},
}

RATE_LIMITED = "ERR_RATE_LIMITED"
#: Codes any event may get: rate limits and message size caps guard the server.
ANY_EVENT = {RATE_LIMITED, E.TOO_LARGE.value}

#: Fields of a successful ack, besides ``ok`` (``None``: exactly ``{"ok": true}``).
SUCCESS_FIELDS: dict[str, set[str] | None] = {
    "ping": None,
    "signal": None,
    "call.media": None,
    "room.signal": None,
    "room.media": None,
    "call.invite": {"call_id", "state"},
    "call.accept": {"call_id", "peer", "polite"},
    "call.decline": {"call_id"},
    "call.cancel": {"call_id"},
    "call.hangup": {"call_id"},
    "call.resume": {"call_id", "state"},
    "call.add": {"call_id", "room", "to", "state"},
    "room.join": {"room", "capacity", "members", "history"},
    "room.leave": {"room"},
    "room.resume": {"room", "capacity", "members", "history"},
    "room.invite": {"room", "to", "state"},
    "room.decline": {"room"},
    "chat.send": {"message"},
}

#: Names that are not events of the protocol, some of them tempting: Socket.IO's
#: reserved names, server-to-client events, handler method names.
NOT_EVENTS = (
    "connect",
    "disconnect",
    "connect_error",
    "message",
    "json",
    "hello",
    "presence.snapshot",
    "call.incoming",
    "call_invite",
    "on_call_invite",
    "on_connect",
    "unknown_event",
    "trigger_event",
    "__init__",
    "CALL.INVITE",
    " ping",
    "*",
    "",
)


# -- sending ----------------------------------------------------------------------


#: Python frames python-socketio's packet encoder needs: two per level of nesting
#: (``Packet.data_is_binary`` recurses), so 500 levels need more than Python's
#: default 1,000. A browser's ``JSON.stringify`` has no such limit; the server only
#: decodes (``json.loads``), which needs no Python frame per level.
ENCODER_STACK = 5_000


@contextmanager
def deep_encoding() -> Iterator[None]:
    """Let the test client encode payloads nested 500 levels deep."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, ENCODER_STACK))
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


def on_the_wire(*args: Any) -> list[Any]:
    """``args`` as the server decodes them: a Socket.IO packet, JSON-encoded (bytes
    as binary attachments) and decoded, as the test client sends it."""
    with deep_encoding():
        return _on_the_wire(args)


def _on_the_wire(args: tuple[Any, ...]) -> list[Any]:
    encoded = packet.Packet(packet.EVENT, data=["x", *args], namespace=NAMESPACE, id=1).encode()
    if isinstance(encoded, list):
        decoded = packet.Packet(encoded_packet=encoded[0])
        for attachment in encoded[1:]:
            decoded.add_attachment(attachment)
    else:
        decoded = packet.Packet(encoded_packet=encoded)
    return list(decoded.data[1:])


def send(tab: Tab, event: Any, *args: Any) -> Any:
    """Emit ``event`` with an acknowledgement callback from ``tab`` and return the
    ack, checking that exactly one ack packet, with one argument, came back.

    Does what the test client's ``emit`` does, but encodes under
    :func:`deep_encoding` only: the server handles the packet with Python's
    usual stack."""
    server = tab.host.socketio.server
    client = tab.client
    forward = server._send_packet
    acks: list[packet.Packet] = []

    def spy(eio_sid: str, pkt: packet.Packet) -> None:
        if pkt.packet_type in (packet.ACK, packet.BINARY_ACK) and eio_sid == client.eio_sid:
            acks.append(pkt)
        forward(eio_sid, pkt)

    assert tab.connected
    client.callback_counter += 1
    event_packet = packet.Packet(
        packet.EVENT, data=[event, *args], namespace=NAMESPACE, id=client.callback_counter
    )
    with deep_encoding():
        encoded = event_packet.encode()
    server._send_packet = spy
    try:
        for part in encoded if isinstance(encoded, list) else [encoded]:
            server._handle_eio_message(client.eio_sid, part)
    finally:
        server._send_packet = forward
        client.acks = None
    assert len(acks) == 1, f"{event!r} got {len(acks)} acks"
    assert len(acks[0].data) == 1, f"{event!r} was acked with {acks[0].data!r}"
    return acks[0].data[0]


def expected_refusal(event: Any, args: list[Any]) -> str | None:
    """The code an event must be refused with whatever the state (``args`` as the
    server decoded them), or ``None`` when its payload is well formed."""
    if not isinstance(event, str) or event not in SCHEMAS:
        return E.UNKNOWN_EVENT.value
    if len(args) != 1:
        return E.INVALID_PAYLOAD.value
    try:
        parse(SCHEMAS[event], args[0])
    except ProtocolError as exc:
        return exc.code.value
    return None


def check_ack(event: Any, args: list[Any], ack: Any) -> None:
    """``ack`` is a documented answer to ``event`` with ``args`` (as sent)."""
    assert isinstance(ack, dict), f"{event!r} acked with {ack!r}"
    assert isinstance(ack.get("ok"), bool), ack
    must_refuse = expected_refusal(event, on_the_wire(*args))
    if ack["ok"]:
        assert must_refuse is None, f"{event!r} {args!r:.300} accepted: {ack!r:.300}"
        fields = SUCCESS_FIELDS[event]
        if fields is None:
            assert ack == {"ok": True}, ack
        else:
            assert fields <= set(ack), ack
        return
    assert set(ack) == {"ok", "error"}, ack
    error = ack["error"]
    assert isinstance(error, dict) and {"code", "message"} <= set(error), ack
    assert isinstance(error["message"], str) and error["message"], ack
    code = error["code"]
    # ERR_RATE_LIMITED says when to try again; the other errors say nothing more.
    assert set(error) - {"code", "message"} <= ({"retry_after"} if code == RATE_LIMITED else set())
    assert code != E.INTERNAL.value, f"{event!r} {args!r:.500} -> {ack!r}"
    allowed = {c.value for c in STATE_ERRORS[event]} if must_refuse is None else {must_refuse}
    assert code in allowed | ANY_EVENT, f"{event!r} {args!r:.500} -> {ack!r} (allowed {allowed})"
