"""Fuzzing ``/videochat`` with hypothesis, through Flask-SocketIO's test client.

Every event of :data:`flask_videochat.core.protocol.EVENTS`, and names that are not
events, gets generated payloads: wrong types, missing and unknown keys, huge
strings, deep nesting, unknown ids, replays and events out of order, zero and
several arguments. What must hold whatever a browser sends (``docs/protocol.md``):

- every event is answered with exactly one acknowledgement, ``{"ok": true, ...}``
  or ``{"ok": false, "error": {"code", "message"}}`` with a documented code for
  that event, never ``ERR_INTERNAL``, and nothing is logged at ``ERROR``;
- a payload that does not fit the event's schema is refused with the code
  :func:`flask_videochat.core.protocol.parse` gives; a refused event changes no state
  and nobody else hears of it;
- calls, rooms and presence agree with each other and with the open connections
  (:func:`check_world`), and a user who is never addressed hears only presence.

The test client JSON-encodes every packet and the server decodes it
(``socketio.packet``), as over a real connection; :func:`on_the_wire` does the same
to know what the server saw. ``ERR_RATE_LIMITED`` and ``ERR_TOO_LARGE`` (message
size caps) are accepted for every event: they protect the server, not the protocol
of one event. Events whose name starts with ``presence.`` are presence traffic,
whatever its shape.

Hypothesis runs derandomized and without its example database, so every run (and
CI) tries the same inputs and nothing is written into the repository.
"""

from __future__ import annotations

import logging
import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Callable, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from socketio import packet

from flask_videochat import NAMESPACE, config
from flask_videochat.core import ratelimit
from flask_videochat.core.calls import CallState
from flask_videochat.core.presence import Status
from flask_videochat.core.protocol import (
    EVENTS,
    MAX_CANDIDATE_LENGTH,
    MAX_CHAT_LENGTH,
    MAX_ID_LENGTH,
    MAX_MID_LENGTH,
    MAX_SDP_LENGTH,
    MAX_UFRAG_LENGTH,
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
    from conftest import Connector, Host, MakeHost, Tab

    ConnectorFor = Callable[[Host], Connector]

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


def test_every_event_is_fuzzed() -> None:
    """A new event must get its schema, errors and ack fields here."""
    assert set(SCHEMAS) == set(EVENTS) == set(STATE_ERRORS) == set(SUCCESS_FIELDS)


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


# -- what the state must look like -------------------------------------------------------


def snapshot(host: Host, users: tuple[str, ...]) -> Any:
    """Everything the books and presence say about ``users``, as values."""
    state = host.state
    per_user = {}
    rooms = set()
    for user_id in users:
        call = state.calls.live_call_of(user_id)
        seat = state.rooms.seat_of(user_id)
        invite = state.rooms.invite_of(user_id)
        for held in (seat and seat[0], invite and invite.room):
            if held:
                rooms.add(held)
        per_user[user_id] = (
            call and (call.id, call.state, call.caller_id, call.caller_sid, call.callee_sid),
            state.calls.claim_of(user_id),
            seat,
            invite,
        )
    presence = sorted((user.id, status.value) for user, status in state.presence.users())
    return (
        per_user,
        {name: state.rooms.get(name) for name in sorted(rooms)},
        presence,
        len(state.calls),
        len(state.rooms),
    )


def expected_status(host: Host, user_id: str) -> Status:
    """A user's presence status as docs/protocol.md defines it from their calls and
    rooms (independently of the namespace's own computation)."""
    state = host.state
    call = state.calls.live_call_of(user_id)
    if (
        (call is not None and call.state is CallState.ACTIVE)
        or state.calls.claim_of(user_id) is not None
        or state.rooms.seat_of(user_id) is not None
    ):
        return Status.IN_CALL
    if call is not None or state.rooms.invite_of(user_id) is not None:
        return Status.RINGING
    return Status.AVAILABLE


def check_world(host: Host, tabs: dict[str, list[Tab]], *, grace: bool = False) -> None:
    """Presence, calls and rooms agree with each other and with the open ``tabs``
    (user id -> their open tabs).

    :param grace: the host has a reconnect grace longer than the test: a call or a
        seat may be kept on a closed connection (not an invitation nor a claim)."""
    state = host.state
    presence = state.presence
    for user_tabs in tabs.values():
        for tab in user_tabs:
            assert tab.connected, f"the server dropped a tab of {tab.user_id}"
    online = {user_id: {t.sid for t in ts} for user_id, ts in tabs.items() if ts}
    statuses = {user.id: status for user, status in presence.users()}
    assert set(statuses) == set(online)

    def held_by(sid: str | None, user_id: str) -> bool:
        """``sid`` is an open connection of ``user_id`` (or, with a grace, a closed one)."""
        if sid is None:
            return False
        owner = presence.user_of(sid)
        return owner.id == user_id if owner is not None else grace

    calls, rooms = set(), set()
    for user_id in tabs:
        assert presence.sids_of(user_id) == online.get(user_id, set())
        call = state.calls.live_call_of(user_id)
        claim = state.calls.claim_of(user_id)
        seat = state.rooms.seat_of(user_id)
        invite = state.rooms.invite_of(user_id)
        held = [x for x in (call, claim, seat, invite) if x is not None]
        # One engagement at a time: a live call, a claim, a seat or an invitation.
        assert len(held) <= 1, f"{user_id} holds {held}"
        if user_id in online:
            assert statuses[user_id] is expected_status(host, user_id), user_id
        else:
            kept = [x for x in (call, seat) if x is not None] if grace else []
            assert held == kept, f"{user_id} is offline but holds {held}"
        if call is not None:
            calls.add(call.id)
            other = call.other(user_id)
            assert call.has_party(user_id) and other != user_id
            assert call.state in (CallState.RINGING, CallState.ACTIVE)
            theirs = state.calls.live_call_of(other)
            assert theirs is not None and theirs.id == call.id
            assert held_by(call.caller_sid, call.caller_id)
            if call.state is CallState.ACTIVE:
                assert held_by(call.callee_sid, call.callee_id)
            else:
                assert call.callee_sid is None
                assert grace or presence.sids_of(call.callee_id)
        if claim is not None:
            assert claim.user_id == user_id != claim.peer_id
            assert claim.sid in online[user_id]
        if seat is not None:
            name, member = seat
            rooms.add(name)
            room = state.rooms.get(name)
            assert room is not None and room.member(user_id) == member
            assert held_by(member.sid, user_id)
            assert state.rooms.seat_on(member.sid) == seat
        if invite is not None:
            room = state.rooms.get(invite.room)
            assert room is not None and room.member(user_id) is None
            assert invite in room.invites
    # No call or room without a party or member among these users.
    assert len(state.calls) == len(calls)
    assert len(state.rooms) == len(rooms)
    for name in rooms:
        room = state.rooms.get(name)
        assert room is not None
        assert 1 <= len(room.members) <= room.capacity == state.rooms.capacity
        for member in room.members:
            assert state.rooms.seat_of(member.id) == (name, member)
        for invite in room.invites:
            assert state.rooms.invite_of(invite.user.id) == invite


def check_empty(host: Host, users: tuple[str, ...]) -> None:
    """Everyone closed every tab: nothing is left (there is no reconnect grace)."""
    state = host.state
    assert state.presence.users() == []
    assert len(state.calls) == 0
    assert len(state.rooms) == 0
    for user_id in users:
        assert state.calls.claim_of(user_id) is None
        assert state.rooms.invite_of(user_id) is None


#: Events the server sends to browsers (docs/protocol.md), presence aside.
SERVER_EVENTS = {
    "hello",
    "call.incoming",
    "call.accepted",
    "call.ended",
    "call.resumed",
    "call.upgraded",
    "call.media",
    "signal",
    "room.left",
    "room.member_joined",
    "room.member_left",
    "room.signal",
    "room.media",
    "room.invite",
    "room.invite_ended",
    "chat.message",
}


def heard(tab: Tab) -> list[str]:
    """Names of what ``tab`` received since it was last cleared, presence aside."""
    return [name for name in tab.names() if not name.startswith("presence.")]


class ErrorLog(logging.Handler):
    """The ``flask_videochat`` logger's records at ``ERROR`` and above."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def check(self) -> None:
        assert self.records == [], [self.format(r) for r in self.records]


@pytest.fixture(autouse=True, scope="module")
def hypothesis_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Hypothesis caches what it learns of the code and of Unicode in a temporary
    directory, not in ``.hypothesis`` in the repository (its example database is
    off: see :data:`FUZZ`)."""
    set_hypothesis_home_dir(tmp_path_factory.mktemp("hypothesis"))
    yield
    set_hypothesis_home_dir(None)


@pytest.fixture
def errors() -> Iterator[ErrorLog]:
    handler = ErrorLog()
    logger = logging.getLogger("flask_videochat")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


# -- generated payloads ---------------------------------------------------------------

#: Far above every limit: a few hundred KB.
HUGE = 300_000

plain_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12)
)
#: Bytes travel as binary attachments and arrive as bytes.
scalars = plain_scalars | st.binary(max_size=4)


def trees(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
        ),
        max_leaves=8,
    )


json_values = trees(scalars)


def nest(depth: int, kind: str, leaf: Any) -> Any:
    """``leaf`` inside ``depth`` lists, dicts or both in turn."""
    value = leaf
    for level in range(depth):
        as_list = kind == "list" or (kind == "mixed" and level % 2 == 0)
        value = [value] if as_list else {"description": value}
    return value


#: 50 to 500 levels; and some around 32, the depth a size cap may allow.
depths = st.one_of(st.integers(50, 500), st.integers(25, 40))
deep_values = st.builds(nest, depths, st.sampled_from(["list", "dict", "mixed"]), scalars)


def sized(*lengths: int) -> st.SearchStrategy[str]:
    """Strings of exactly these lengths (code points), of one repeated character."""
    return st.builds(
        lambda char, n: char * n,
        st.sampled_from(["x", "\u00e9", "\U0001f600", "<", "\x00"]),
        st.sampled_from(lengths),
    )


#: What a field may hold instead of what it should: any JSON, very deep, very long.
wrong = st.one_of(json_values, json_values, deep_values, sized(HUGE))

#: Placeholders that :func:`resolve` replaces with the ids of the scene.
CALL, ROOM = "{call}", "{room}"

#: Ids that are not anyone's: random text (never the bystander's id).
random_ids = st.text(min_size=1, max_size=20).filter(lambda s: s not in (BYSTANDER, CALL, ROOM))

# Well-formed ids are mostly those of the scene, so that events reach its call or room.
call_ids = st.one_of(*[st.just(CALL)] * 6, st.just(NO_CALL), random_ids, sized(MAX_ID_LENGTH))
bad_ids = st.one_of(st.just(""), sized(MAX_ID_LENGTH + 1, HUGE), wrong)
user_ids = st.one_of(
    st.sampled_from(ACTORS), st.sampled_from(ACTORS), random_ids, sized(MAX_ID_LENGTH)
)
room_names = st.one_of(
    st.just(ROOM),
    st.just(ROOM),
    st.sampled_from([*ROOMS, "call-x"]),
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}", fullmatch=True),
)
bad_rooms = st.one_of(
    st.sampled_from(["", "-lobby", "_x", "lob by", "lobby\n", "l\u00f6bby", "a/b", "x" * 65]),
    st.text(max_size=70),
    wrong,
)
bools = st.booleans()
bad_bools = st.one_of(st.sampled_from([0, 1, "true", None, [True]]), wrong)
revs = st.one_of(st.integers(min_value=0, max_value=2**53 - 1), st.none())
bad_revs = st.one_of(st.sampled_from([-1, 2**53, 1.5, "3", True]), wrong)
hangup_reasons = st.one_of(st.just("connect_failed"), st.none())
bad_hangup_reasons = st.one_of(st.sampled_from(["hangup", "failed", "", 0]), wrong)
texts = st.one_of(
    st.sampled_from(["hi", "<img src=x onerror=alert(1)>", "x" * MAX_CHAT_LENGTH]),
    st.text(min_size=1, max_size=40),
)
bad_texts = st.one_of(
    st.sampled_from(["", " ", "\n\t ", "\u3000"]), sized(MAX_CHAT_LENGTH + 1, HUGE), wrong
)
descriptions = st.fixed_dictionaries(
    {"type": st.sampled_from(["offer", "answer", "pranswer", "rollback"])},
    optional={"sdp": st.one_of(st.text(max_size=30), sized(MAX_SDP_LENGTH))},
)
bad_descriptions = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "type": st.one_of(st.sampled_from(["OFFER", "", "candidate"]), wrong),
            "sdp": st.one_of(sized(MAX_SDP_LENGTH + 1, HUGE), wrong),
            "extra": json_values,
        },
    ),
    wrong,
)
candidates = st.fixed_dictionaries(
    {"candidate": st.one_of(st.text(max_size=30), sized(MAX_CANDIDATE_LENGTH))},
    optional={
        "sdpMid": st.none() | st.text(max_size=MAX_MID_LENGTH),
        "sdpMLineIndex": st.none() | st.integers(0, 1023),
        "usernameFragment": st.none() | sized(MAX_UFRAG_LENGTH),
    },
)
bad_candidates = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "candidate": st.one_of(sized(MAX_CANDIDATE_LENGTH + 1, HUGE), wrong),
            "sdpMid": st.one_of(sized(MAX_MID_LENGTH + 1), wrong),
            "sdpMLineIndex": st.one_of(st.sampled_from([-1, 1024, 2**70, 0.0, True]), wrong),
            "usernameFragment": st.one_of(sized(MAX_UFRAG_LENGTH + 1), wrong),
            "extra": json_values,
        },
    ),
    wrong,
)

#: Each payload field: (well-formed values, malformed values).
FIELDS: dict[str, tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]] = {
    "call_id": (call_ids, bad_ids),
    "to": (user_ids, bad_ids),
    "peer": (user_ids, bad_ids),
    "room": (room_names, bad_rooms),
    "mic": (bools, bad_bools),
    "cam": (bools, bad_bools),
    "screen": (bools, bad_bools),
    "rev": (revs, bad_revs),
    "reason": (hangup_reasons, bad_hangup_reasons),
    "text": (texts, bad_texts),
    "description": (descriptions, bad_descriptions),
    "candidate": (candidates, bad_candidates),
}


#: Fields of which a payload carries exactly one.
EXACTLY_ONE: dict[type[Payload], tuple[str, str]] = {
    SignalPayload: ("description", "candidate"),
    RoomSignalPayload: ("description", "candidate"),
    ChatPayload: ("room", "call_id"),
}


def well_formed(model: type[Payload]) -> st.SearchStrategy[dict[str, Any]]:
    """Payloads that fit ``model`` (the ids may name nothing)."""
    either = EXACTLY_ONE.get(model, ())
    required = [n for n, f in model.model_fields.items() if f.is_required()]
    optional = [n for n in model.model_fields if n not in required and n not in either]
    base = st.fixed_dictionaries(
        {n: FIELDS[n][0] for n in required}, optional={n: FIELDS[n][0] for n in optional}
    )
    if not either:
        return base
    return st.one_of(
        *(st.builds(lambda p, v, n=n: {**p, n: v}, base, FIELDS[n][0]) for n in either)
    )


def payloads(model: type[Payload]) -> st.SearchStrategy[Any]:
    """Payloads for ``model``, half of them well formed; the others with wrong,
    missing or unknown fields, or not an object at all."""
    names = list(model.model_fields)
    fitting = well_formed(model)
    anything = st.fixed_dictionaries(
        {}, optional={n: st.one_of(FIELDS[n][0], FIELDS[n][1]) for n in names}
    )
    extra = st.dictionaries(
        # "seq" is the envelope's number (tests/test_ordering.py), not a payload field.
        st.text(max_size=8).filter(lambda k: k not in names and k != "seq"),
        json_values,
        min_size=1,
        max_size=2,
    )
    return st.one_of(
        *[fitting] * 5,
        anything,
        st.builds(lambda p, e: {**p, **e}, fitting, extra),
        json_values,
        deep_values,
        st.builds(lambda p: {**p, "padding": "x" * HUGE}, fitting),
    )


def arguments(event: str) -> st.SearchStrategy[list[Any]]:
    """The arguments of one emit of ``event``: mostly one payload, or none, or several."""
    payload = (
        payloads(SCHEMAS[event]) if isinstance(event, str) and event in SCHEMAS else json_values
    )
    return st.one_of(
        *[payload.map(lambda p: [p])] * 6,
        st.just([]),
        st.lists(payload | json_values, min_size=2, max_size=3),
    )


def resolve(value: Any, refs: dict[str, str]) -> Any:
    """``value`` with each placeholder (in nested lists and dicts) replaced."""
    if isinstance(value, str):
        return refs.get(value, value)
    if isinstance(value, dict):
        return {k: resolve(v, refs) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, refs) for v in value]
    return value


def test_deep_and_huge_payloads_reach_the_server_as_sent() -> None:
    """The test client sends what a browser would: JSON (``socketio.packet``), so
    500 levels of nesting and a few hundred KB arrive intact."""
    deep = nest(500, "mixed", None)
    assert on_the_wire(deep, "x" * HUGE, b"\x00\x01") == [deep, "x" * HUGE, b"\x00\x01"]


# -- scenes: what is going on when ada sends a fuzzed event ------------------------------------


def ok(tab: Tab, event: str, payload: dict[str, Any]) -> dict[str, Any]:
    ack = send(tab, event, payload)
    assert isinstance(ack, dict) and ack["ok"] is True, (event, payload, ack)
    return ack


def set_scene(scene: str, connect: Connector) -> tuple[dict[str, Tab], dict[str, str]]:
    """Open a tab for each actor and the bystander, and set ``scene`` up around
    ada. Returns the tabs and the placeholders' values."""
    tabs = {user_id: connect(user_id) for user_id in (*ACTORS, BYSTANDER)}
    ada, bob, eve = tabs["ada"], tabs["bob"], tabs["eve"]
    refs = {CALL: NO_CALL, ROOM: "lobby"}
    if scene in ("calling", "in_call", "hung_up", "grown"):
        refs[CALL] = ok(ada, "call.invite", {"to": "bob"})["call_id"]
        if scene != "calling":
            ok(bob, "call.accept", {"call_id": refs[CALL]})
        if scene == "hung_up":
            ok(bob, "call.hangup", {"call_id": refs[CALL]})
        if scene == "grown":
            refs[ROOM] = ok(ada, "call.add", {"call_id": refs[CALL], "to": "eve"})["room"]
    elif scene in ("called", "answered"):
        refs[CALL] = ok(bob, "call.invite", {"to": "ada"})["call_id"]
        if scene == "answered":
            ok(ada, "call.accept", {"call_id": refs[CALL]})
    elif scene in ("in_room", "left_room", "full_room"):
        ok(ada, "room.join", {"room": "lobby"})
        ok(bob, "room.join", {"room": "lobby"})
        if scene == "left_room":
            ok(ada, "room.leave", {"room": "lobby"})
        if scene == "full_room":
            ok(eve, "room.join", {"room": "lobby"})
    elif scene == "invited":
        ok(bob, "room.join", {"room": "lobby"})
        ok(bob, "room.invite", {"room": "lobby", "to": "ada"})
    elif scene == "others_busy":
        call_id = ok(eve, "call.invite", {"to": "bob"})["call_id"]
        ok(bob, "call.accept", {"call_id": call_id})
    elif scene == "claiming":
        refs[CALL] = "ghost-call"
        assert ok(ada, "call.resume", {"call_id": refs[CALL], "peer": "bob"})["state"] == "pending"
    else:
        assert scene == "idle"
    return tabs, refs


SCENES = (
    "idle",
    "calling",
    "called",
    "in_call",
    "answered",
    "hung_up",
    "grown",
    "in_room",
    "left_room",
    "full_room",
    "invited",
    "others_busy",
    "claiming",
)


@contextmanager
def one_example(connect: Connector) -> Iterator[None]:
    """Close the tabs opened meanwhile, afterwards."""
    opened = len(connect.tabs)
    try:
        yield
    finally:
        for tab in connect.tabs[opened:]:
            tab.close()


def open_tabs(connect: Connector, since: int) -> dict[str, list[Tab]]:
    """user id -> their tabs opened since ``connect.tabs[since]`` and still open."""
    tabs: dict[str, list[Tab]] = {u: [] for u in (*ACTORS, BYSTANDER)}
    for tab in connect.tabs[since:]:
        if tab.connected and tab.user_id is not None:
            tabs[tab.user_id].append(tab)
    return tabs


def fuzz_one(
    host: Host,
    connect: Connector,
    errors: ErrorLog,
    event: Any,
    scene: str,
    second_tab: bool,
    args: list[Any],
) -> None:
    """Set ``scene`` up, send ``event`` from one of ada's tabs and check everything."""
    since = len(connect.tabs)
    with one_example(connect):
        tabs, refs = set_scene(scene, connect)
        sender = connect("ada") if second_tab else tabs["ada"]
        args = resolve(args, refs)
        for tab in connect.tabs[since:]:
            tab.clear()
        everyone = (*ACTORS, BYSTANDER)
        before = snapshot(host, everyone)

        ack = send(sender, event, *args)

        check_ack(event, args, ack)
        if not ack["ok"]:
            assert snapshot(host, everyone) == before, f"refused {event!r} changed the state"
            for tab in connect.tabs[since:]:
                if tab is not sender:
                    assert heard(tab) == [], f"{tab.user_id} heard of a refused {event!r}"
        assert heard(tabs[BYSTANDER]) == []
        for tab in connect.tabs[since:]:
            unknown = set(heard(tab)) - SERVER_EVENTS
            assert not unknown, f"{tab.user_id} received undocumented {unknown}"
        check_world(host, open_tabs(connect, since))
        errors.check()
    check_empty(host, everyone)
    errors.check()


@pytest.mark.parametrize("async_mode", ["threading"])
@pytest.mark.parametrize("event", sorted(EVENTS))
def test_any_payload_gets_a_documented_ack(
    event: str, make_host: MakeHost, connector_for: ConnectorFor, errors: ErrorLog
) -> None:
    """Ada sends ``event`` with generated arguments, in one of :data:`SCENES`, from
    her tab or another one."""
    host = make_host(config=fuzz_config())
    connect = connector_for(host)

    @settings(FUZZ, max_examples=100)
    @given(
        scene=st.sampled_from(SCENES),
        second_tab=st.sampled_from([False, False, False, True]),
        args=arguments(event),
    )
    def fuzz(scene: str, second_tab: bool, args: list[Any]) -> None:
        fuzz_one(host, connect, errors, event, scene, second_tab, args)

    fuzz()


#: Event names that are not strings: the Socket.IO protocol wants one, a hostile
#: client may send anything JSON.
odd_names = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.lists(st.sampled_from(sorted(EVENTS)), max_size=2),
    st.dictionaries(st.sampled_from(sorted(EVENTS)), st.none(), max_size=1),
)
not_events = st.one_of(
    st.sampled_from(NOT_EVENTS),
    st.text(max_size=30).filter(lambda name: name not in EVENTS),
    odd_names,
)


@pytest.mark.parametrize("async_mode", ["threading"])
def test_names_that_are_not_events_are_refused(
    make_host: MakeHost, connector_for: ConnectorFor, errors: ErrorLog
) -> None:
    """``ERR_UNKNOWN_EVENT`` whatever the name (strings or not) and arguments."""
    host = make_host(config=fuzz_config())
    connect = connector_for(host)

    @settings(FUZZ, max_examples=100)
    @given(
        name=not_events,
        scene=st.sampled_from(SCENES),
        args=st.one_of(
            st.just([]),
            st.lists(json_values, min_size=1, max_size=3),
            st.sampled_from(sorted(EVENTS)).flatmap(arguments),
        ),
    )
    def fuzz(name: Any, scene: str, args: list[Any]) -> None:
        fuzz_one(host, connect, errors, name, scene, False, args)

    fuzz()


@pytest.mark.parametrize("async_mode", ["eventlet"])
def test_any_event_any_payload_under_eventlet(
    make_host: MakeHost, connector_for: ConnectorFor, errors: ErrorLog
) -> None:
    """The same as above, fewer, under eventlet."""
    host = make_host(config=fuzz_config())
    connect = connector_for(host)

    @settings(FUZZ, max_examples=100)
    @given(
        event_and_args=st.one_of(st.sampled_from(sorted(EVENTS)), not_events).flatmap(
            lambda event: st.tuples(st.just(event), arguments(event))
        ),
        scene=st.sampled_from(SCENES),
    )
    def fuzz(event_and_args: tuple[Any, list[Any]], scene: str) -> None:
        event, args = event_and_args
        fuzz_one(host, connect, errors, event, scene, False, args)

    fuzz()


#: What a browser may send on connecting: an object (Socket.IO v5's ``auth``), or
#: nothing. (python-socketio's packets take no other kind: bytes cannot be encoded
#: and a bare number is read as a packet id.)
connect_auths = st.one_of(
    st.none(),
    st.dictionaries(st.text(max_size=8), trees(plain_scalars), max_size=4),
    st.builds(nest, st.integers(50, 500), st.just("dict"), st.none()),
)


@pytest.mark.parametrize("async_mode", ["threading"])
def test_any_connect_auth_is_ignored(
    make_host: MakeHost, connector_for: ConnectorFor, errors: ErrorLog
) -> None:
    """The identity comes from the host's session, never from what the browser
    sends on connecting."""
    host = make_host(config=fuzz_config())
    connect = connector_for(host)
    browser = connect.browser("ada")

    @settings(FUZZ, max_examples=30)
    @given(auth=connect_auths)
    def fuzz(auth: Any) -> None:
        with deep_encoding():
            client = host.socketio.test_client(
                host.app, namespace=NAMESPACE, flask_test_client=browser, auth=auth
            )
        try:
            assert client.is_connected(NAMESPACE)
            hello = client.get_received(NAMESPACE)[0]
            assert hello["name"] == "hello"
            assert hello["args"][0]["self"] == host.public("ada")
        finally:
            client.disconnect(namespace=NAMESPACE)
        check_empty(host, ACTORS)
        errors.check()

    fuzz()


@pytest.mark.parametrize("name", [[], {}, ["call.invite"], {"call.invite": None}, None, 7])
def test_an_event_named_with_another_json_value_is_unknown(
    connect: Connector, errors: ErrorLog, name: Any
) -> None:
    """Regression: a list or an object as the event name (the Socket.IO protocol
    wants a string, a hostile client may send any JSON) made the namespace's
    dispatch raise ``TypeError: unhashable type`` instead of answering."""
    ada, bob = connect("ada"), connect("bob")
    bob.clear()

    ack = send(ada, name, {"to": "bob"})

    assert ack["ok"] is False and ack["error"]["code"] == "ERR_UNKNOWN_EVENT", ack
    assert heard(bob) == []
    assert send(ada, "ping", {}) == {"ok": True}
    errors.check()


# -- stateful: random sessions of three people -----------------------------------------------

OFFER = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"}
CANDIDATE = {
    "candidate": "candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
    "usernameFragment": "abcd",
}
signal_bodies = st.one_of(
    st.builds(
        lambda kind: {"description": {**OFFER, "type": kind}},
        st.sampled_from(["offer", "answer", "rollback"]),
    ),
    st.just({"candidate": CANDIDATE}),
)

#: Most ids of each kind the machine remembers (the latest ones).
REMEMBERED = 6


class Session(RuleBasedStateMachine):
    """Ada, Bob and Eve open and close tabs and send events, mostly sensible ones in
    any order, some malformed, some replayed; Dan is online and never addressed.
    After each step the acks, the state and what Dan heard are checked.

    :attr:`make_host`, :attr:`connector_for` and :attr:`errors` are set on a
    subclass by the test (hypothesis builds the machine itself)."""

    make_host: Callable[[], Host]
    connector_for: ConnectorFor
    errors: ErrorLog
    #: Whether the host keeps calls and seats of closed connections (for longer
    #: than a session lasts), so that they can be taken back on another tab.
    grace = False

    def __init__(self) -> None:
        super().__init__()
        self.host = self.make_host()
        self.connect = self.connector_for(self.host)
        self.bystander = self.connect(BYSTANDER)
        self.tabs: dict[str, list[Tab]] = {user_id: [self.connect(user_id)] for user_id in ACTORS}
        self.call_ids = [NO_CALL]
        self.room_names = list(ROOMS)
        self.sent: list[tuple[Any, list[Any]]] = []
        for tab in self.open():
            tab.clear()
        # The bystander's log is kept whole: hello, then its presence snapshot and
        # every presence change since.
        assert self.bystander.names()[0] == "hello"

    def teardown(self) -> None:
        self.connect.close_all()

    # -- helpers --------------------------------------------------------------------

    def open(self) -> list[Tab]:
        return [tab for tabs in self.tabs.values() for tab in tabs]

    def pick(self, data: st.DataObject) -> Tab:
        """One of the open tabs, drawn by name (``"bob/2"``: Bob's second tab)."""
        named = {
            f"{user_id}/{n}": tab
            for user_id, tabs in self.tabs.items()
            for n, tab in enumerate(tabs, 1)
        }
        return named[data.draw(st.sampled_from(sorted(named)), label="tab")]

    def remember(self, ids: list[str], value: Any) -> None:
        if isinstance(value, str) and value not in ids:
            ids.append(value)
            del ids[:-REMEMBERED]

    def harvest(self, ack: Any) -> None:
        """Remember the call ids and room names the server handed out."""
        if isinstance(ack, dict) and ack.get("ok"):
            self.remember(self.call_ids, ack.get("call_id"))
            self.remember(self.room_names, ack.get("room"))
        for tab in self.open():
            for name, data in tab.log:
                if not isinstance(data, dict):
                    continue
                if name in ("call.incoming", "call.upgraded", "call.resumed"):
                    self.remember(self.call_ids, data.get("call_id"))
                if name in ("call.upgraded", "room.invite"):
                    self.remember(self.room_names, data.get("room"))

    def emit(self, tab: Tab, event: Any, args: list[Any]) -> None:
        """Send, and check the ack; a refused event changes nothing and nobody else
        hears of it."""
        everyone = (*ACTORS, BYSTANDER)
        for other in self.open():
            other.clear()
        before = snapshot(self.host, everyone)

        ack = send(tab, event, *args)

        check_ack(event, args, ack)
        if not ack["ok"]:
            assert snapshot(self.host, everyone) == before, f"refused {event!r} changed the state"
            for other in self.open():
                if other is not tab:
                    assert heard(other) == [], f"{other.user_id} heard of a refused {event!r}"
        for other in self.open():
            unknown = set(heard(other)) - SERVER_EVENTS
            assert not unknown, f"{other.user_id} received undocumented {unknown}"
        self.harvest(ack)
        if len(repr(args)) < 2_000:
            self.sent.append((event, args))
            del self.sent[:-20]

    def well_formed(self, event: str) -> st.SearchStrategy[dict[str, Any]]:
        """A sensible payload for ``event``, naming calls, rooms and people the
        session knows (or a stranger)."""
        call_id = st.sampled_from(self.call_ids)
        room = st.sampled_from(self.room_names)
        user = st.sampled_from([*ACTORS, *ACTORS, "stranger"])
        media = {"mic": st.booleans(), "cam": st.booleans()}
        screen = {"screen": st.booleans()}
        fields: dict[str, st.SearchStrategy[Any]] = {
            "ping": st.just({}),
            "call.invite": st.fixed_dictionaries({"to": user}),
            "call.media": st.fixed_dictionaries({"call_id": call_id, **media}, optional=screen),
            "call.resume": st.fixed_dictionaries({"call_id": call_id, "peer": user}),
            "call.add": st.fixed_dictionaries({"call_id": call_id, "to": user}),
            "signal": st.builds(lambda c, b: {"call_id": c, **b}, call_id, signal_bodies),
            "room.join": st.fixed_dictionaries({"room": room}, optional=media),
            "room.signal": st.builds(
                lambda r, u, b: {"room": r, "to": u, **b}, room, user, signal_bodies
            ),
            "room.media": st.fixed_dictionaries({"room": room, **media}, optional=screen),
            "room.invite": st.fixed_dictionaries({"room": room, "to": user}),
            "chat.send": st.one_of(
                st.fixed_dictionaries({"room": room, "text": st.sampled_from(["hi", "<b>"])}),
                st.fixed_dictionaries({"call_id": call_id, "text": st.just("hello")}),
            ),
        }
        if event in fields:
            return fields[event]
        if SCHEMAS[event] in (CallIdPayload, HangupPayload):
            return st.fixed_dictionaries({"call_id": call_id})
        assert SCHEMAS[event] is RoomPayload, event
        return st.fixed_dictionaries({"room": room})

    def next_steps(self) -> list[tuple[str, Tab, str, dict[str, Any]]]:
        """What people would sensibly do now, as ``(label, tab, event, payload)``:
        call, answer, talk, grow a call, join, invite, take a call or seat to another
        tab, hang up, leave. Out of order steps come from the other rules."""
        state = self.host.state
        steps: list[tuple[str, Tab, str, dict[str, Any]]] = []
        for user_id, tabs in self.tabs.items():
            others = [u for u in ACTORS if u != user_id]
            call = state.calls.live_call_of(user_id)
            seat = state.rooms.seat_of(user_id)
            invite = state.rooms.invite_of(user_id)
            for n, tab in enumerate(tabs, 1):
                label = f"{user_id}/{n}"
                if call is None and seat is None and invite is None:
                    steps += [(label, tab, "call.invite", {"to": u}) for u in others]
                    steps += [(label, tab, "room.join", {"room": r}) for r in ROOMS]
                if call is not None and call.state is CallState.RINGING:
                    ids = {"call_id": call.id}
                    if user_id == call.callee_id:
                        steps += [
                            (label, tab, "call.accept", ids),
                            (label, tab, "call.decline", ids),
                        ]
                    elif tab.sid == call.caller_sid:
                        steps.append((label, tab, "call.cancel", ids))
                if call is not None and call.state is CallState.ACTIVE:
                    ids = {"call_id": call.id}
                    if tab.sid == call.sid_of(user_id):
                        steps += [
                            (label, tab, "signal", {**ids, "description": OFFER}),
                            (label, tab, "call.media", {**ids, "mic": False, "cam": True}),
                            (label, tab, "chat.send", {**ids, "text": "hi"}),
                            (label, tab, "call.hangup", ids),
                        ]
                        steps += [
                            (label, tab, "call.add", {**ids, "to": u})
                            for u in others
                            if not call.has_party(u)
                        ]
                    else:
                        peer = call.other(user_id)
                        steps.append((label, tab, "call.resume", {**ids, "peer": peer}))
                if seat is not None:
                    name, member = seat
                    room = {"room": name}
                    if tab.sid == member.sid:
                        steps += [
                            (label, tab, "room.media", {**room, "mic": True, "cam": False}),
                            (label, tab, "chat.send", {**room, "text": "hello"}),
                            (label, tab, "room.leave", room),
                        ]
                        steps += [(label, tab, "room.invite", {**room, "to": u}) for u in others]
                        steps += [
                            (label, tab, "room.signal", {**room, "to": u, "candidate": CANDIDATE})
                            for u in others
                        ]
                    else:
                        steps.append((label, tab, "room.resume", room))
                if invite is not None:
                    room = {"room": invite.room}
                    steps += [(label, tab, "room.join", room), (label, tab, "room.decline", room)]
        return steps

    # -- rules ------------------------------------------------------------------------

    @precondition(lambda self: len(self.open()) < 7)
    @rule(user_id=st.sampled_from(ACTORS))
    def open_tab(self, user_id: str) -> None:
        tab = self.connect(user_id)
        assert tab.connected
        self.tabs[user_id].append(tab)
        self.harvest(None)

    @precondition(lambda self: self.open())
    @rule(data=st.data())
    def close_tab(self, data: st.DataObject) -> None:
        tab = self.pick(data)
        tab.close()
        self.tabs[str(tab.user_id)].remove(tab)

    @precondition(lambda self: self.open())
    @rule(data=st.data())
    def send_well_formed(self, data: st.DataObject) -> None:
        tab = self.pick(data)
        event = data.draw(st.sampled_from(sorted(EVENTS)), label="event")
        payload = data.draw(self.well_formed(event), label="payload")
        self.emit(tab, event, [payload])

    @precondition(lambda self: self.open())
    @rule(data=st.data())
    def follow_the_protocol(self, data: st.DataObject) -> None:
        steps = {
            f"{label} {event} {payload}": (tab, event, payload)
            for label, tab, event, payload in self.next_steps()
        }
        if steps:
            tab, event, payload = steps[data.draw(st.sampled_from(sorted(steps)), label="step")]
            self.emit(tab, event, [payload])

    @precondition(lambda self: self.open())
    @rule(data=st.data())
    def follow_the_protocol_too(self, data: st.DataObject) -> None:
        """(Twice as likely as the other rules.)"""
        self.follow_the_protocol(data)

    @precondition(lambda self: self.open())
    @rule(data=st.data())
    def send_anything(self, data: st.DataObject) -> None:
        tab = self.pick(data)
        event = data.draw(st.one_of(st.sampled_from(sorted(EVENTS)), not_events), label="event")
        args = data.draw(arguments(event), label="args")
        refs = {CALL: self.call_ids[-1], ROOM: self.room_names[-1]}
        self.emit(tab, event, resolve(args, refs))

    @precondition(lambda self: self.open() and self.sent)
    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        """Send again something sent before, from any tab: accept twice, hang up
        twice, leave twice, resume with a stale id..."""
        tab = self.pick(data)
        event, args = data.draw(st.sampled_from(self.sent), label="sent")
        self.emit(tab, event, args)

    # -- invariants ----------------------------------------------------------------------

    @invariant()
    def consistent(self) -> None:
        check_world(self.host, {**self.tabs, BYSTANDER: [self.bystander]}, grace=self.grace)

    @invariant()
    def bystander_undisturbed(self) -> None:
        assert heard(self.bystander) == ["hello"], self.bystander.log
        view = presence_view(self.bystander.log)
        if view is not None:
            told = {user_id: status for user_id, status in view.items() if user_id != BYSTANDER}
            truth = {
                user.id: status.value
                for user, status in self.host.state.presence.users()
                if user.id != BYSTANDER
            }
            assert told == truth, "the bystander was told a wrong presence"
        assert expected_status(self.host, BYSTANDER) is Status.AVAILABLE

    @invariant()
    def nothing_logged(self) -> None:
        self.errors.check()


def presence_view(log: list[tuple[str, Any]]) -> dict[str, str] | None:
    """Who is online with which status, as presence events in ``log`` told a
    browser: ``presence.snapshot`` then ``presence.changes`` (or the older
    ``presence.join`` / ``leave`` / ``status``). ``None`` for a presence event this
    does not know."""
    view: dict[str, str] = {}
    for name, data in log:
        if name == "presence.snapshot":
            view = {user["id"]: user["status"] for user in data["users"]}
        elif name == "presence.changes":
            view.update((user["id"], user["status"]) for user in data["users"])
            for user_id in data["left"]:
                view.pop(user_id, None)
        elif name == "presence.join":
            view[data["user"]["id"]] = data["user"]["status"]
        elif name == "presence.leave":
            view.pop(data["id"], None)
        elif name == "presence.status":
            view[data["id"]] = data["status"]
        elif name.startswith("presence."):
            return None
    return view


def run_sessions(
    make_host: MakeHost,
    connector_for: ConnectorFor,
    errors: ErrorLog,
    *,
    examples: int,
    steps: int,
    grace: float = 0,
) -> None:
    """Run ``examples`` :class:`Session` s of up to ``steps`` steps, each on a new
    host (with a reconnect ``grace`` in seconds, or none)."""

    class Fuzzed(Session):
        pass

    host_config = {**fuzz_config(), "VIDEOCHAT_RECONNECT_GRACE": grace}
    Fuzzed.grace = grace > 0
    Fuzzed.make_host = staticmethod(lambda: make_host(config=host_config))  # type: ignore[method-assign,assignment]
    Fuzzed.connector_for = staticmethod(connector_for)  # type: ignore[method-assign,assignment]
    Fuzzed.errors = errors
    run_state_machine_as_test(
        Fuzzed, settings=settings(FUZZ, max_examples=examples, stateful_step_count=steps)
    )


@pytest.mark.parametrize("async_mode", ["threading"])
def test_random_sessions_keep_the_state_consistent(
    make_host: MakeHost, connector_for: ConnectorFor, errors: ErrorLog
) -> None:
    """No reconnect grace: a closed tab loses its call and seat at once."""
    run_sessions(make_host, connector_for, errors, examples=100, steps=40)


@pytest.mark.parametrize("async_mode", ["threading"])
def test_random_sessions_with_a_reconnect_grace(
    make_host: MakeHost, connector_for: ConnectorFor, errors: ErrorLog
) -> None:
    """Calls and seats of closed tabs are kept (longer than the test lasts) and taken
    back, or not, from other tabs."""
    run_sessions(make_host, connector_for, errors, examples=50, steps=40, grace=600)


@pytest.mark.parametrize("async_mode", ["eventlet"])
def test_random_sessions_under_eventlet(
    make_host: MakeHost, connector_for: ConnectorFor, errors: ErrorLog
) -> None:
    """The same, fewer, under eventlet."""
    run_sessions(make_host, connector_for, errors, examples=20, steps=30)


@pytest.mark.parametrize("host_store", ["redis"], indirect=True)
@pytest.mark.parametrize("async_mode", ["threading"])
def test_random_sessions_on_the_redis_store(
    make_host: MakeHost, connector_for: ConnectorFor, errors: ErrorLog
) -> None:
    """The same, fewer, with presence, calls and rooms in Redis (one process,
    threading)."""
    run_sessions(make_host, connector_for, errors, examples=15, steps=30)
