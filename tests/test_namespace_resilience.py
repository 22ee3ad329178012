"""Media state and taking calls and seats back, end to end through ``/videochat``
under both async modes (``docs/protocol.md``, "Media state", "Reconnecting and
resuming", "After a server restart"): ``call.media``, ``room.media`` with
``screen``, ``call.resume`` within the reconnect grace and after a restart (a new
host app), ``room.resume``, and their refusals."""

from __future__ import annotations

import time
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, Callable, Iterator
from unittest.mock import ANY

import pytest

from flask_videochat import (
    CallBook,
    call_answered,
    call_ended,
    call_started,
    room_joined,
    room_left,
)
from tests.support import (
    answered,
    assert_error,
    assert_nothing,
    clear,
    fill,
    invite,
    recording,
    statuses,
)

#: Every test here runs on both stores: in memory, and on Redis (one process).
pytestmark = pytest.mark.parametrize("host_store", ("memory", "redis"), indirect=True)

if TYPE_CHECKING:
    from conftest import Connector, Host, MakeHost, Tab

    from flask_videochat import User

    Sent = list[tuple[str, dict[str, Any]]]
    ConnectorFor = Callable[[Host], Connector]

OFFER = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"}
CANDIDATE = {
    "candidate": "candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
    "usernameFragment": "abcd",
}
#: The reconnect grace of the hosts that keep calls and seats, in seconds.
GRACE = 0.5
#: Seconds after a connection closed by which its grace timer has surely run.
PAST_GRACE = GRACE + 0.2


def call_and_room_events(tab: Tab) -> list[str]:
    """Names of the call, room, chat and signal events ``tab`` received (presence
    events left out)."""
    return [n for n in tab.names() if not n.startswith("presence.")]


def join(tab: Tab, room: str = "standup") -> dict[str, Any]:
    ack = tab.emit("room.join", {"room": room})
    assert ack["ok"] is True, ack
    return ack  # type: ignore[no-any-return]


def member(host: Host, user_id: str, **media: bool) -> dict[str, Any]:
    """A member as room events list them (microphone and camera on, no screen)."""
    return {**host.public(user_id), "mic": True, "cam": True, "screen": False, "seat": ANY,
            "rev": ANY, **media}


@pytest.fixture
def graceful(make_host: MakeHost, connector_for: ConnectorFor) -> tuple[Host, Connector]:
    """A host with a reconnect grace of :data:`GRACE` seconds, and its tab opener."""
    host = make_host(config={"VIDEOCHAT_RECONNECT_GRACE": GRACE})
    return host, connector_for(host)


#: The call and room signals recorded by :func:`signals_of`.
SIGNALS = {
    "started": call_started,
    "answered": call_answered,
    "ended": call_ended,
    "joined": room_joined,
    "left": room_left,
}


@pytest.fixture
def signals_of() -> Iterator[Callable[[Host], Sent]]:
    """``signals_of(host)``: start recording the host's call and room signals."""
    with ExitStack() as stack:
        yield lambda host: stack.enter_context(recording(host, SIGNALS))


# -- media state ----------------------------------------------------------------------


def test_call_media_reaches_only_the_other_partys_connection(connect: Connector) -> None:
    ada1, ada2, bob1, bob2, cy = (connect(u) for u in ("ada", "ada", "bob", "bob", "cy"))
    call_id = answered(ada1, bob1)
    clear(ada1, ada2, bob1, bob2, cy)

    ack = bob1.emit("call.media", {"call_id": call_id, "mic": False, "cam": True, "screen": True})

    assert ack == {"ok": True}
    assert ada1.received("call.media") == [
        {"call_id": call_id, "from": "bob", "mic": False, "cam": True, "screen": True}
    ]
    assert_nothing(ada2, bob1, bob2, cy)
    ada1.clear()

    assert ada1.emit("call.media", {"call_id": call_id, "mic": True, "cam": False}) == {"ok": True}

    assert bob1.received("call.media") == [
        {"call_id": call_id, "from": "ada", "mic": True, "cam": False, "screen": False}
    ]
    assert_nothing(ada1, ada2, bob2, cy)


@pytest.mark.parametrize(
    ("sender", "code"),
    [
        ("cy", "ERR_CALL_NOT_FOUND"),
        ("bob2", "ERR_CALL_NOT_FOUND"),
        ("ringing", "ERR_INVALID_STATE"),
    ],
    ids=["stranger", "callee-other-tab", "ringing"],
)
def test_call_media_from_outside_the_call_is_refused(
    connect: Connector, sender: str, code: str
) -> None:
    ada, bob, bob2, cy = connect("ada"), connect("bob"), connect("bob"), connect("cy")
    if sender == "ringing":
        call_id = ada.emit("call.invite", {"to": "bob"})["call_id"]
    else:
        call_id = answered(ada, bob)
    tabs = {"ada": ada, "bob": bob, "bob2": bob2, "cy": cy, "ringing": ada}
    clear(ada, bob, bob2, cy)

    ack = tabs[sender].emit("call.media", {"call_id": call_id, "mic": False, "cam": False})

    assert_error(ack, code)
    assert_nothing(ada, bob, bob2, cy)


def test_screen_sharing_in_a_room_reaches_the_others_and_late_joiners(
    connect: Connector, host: Host
) -> None:
    ada, bob, cy = connect("ada"), connect("bob"), connect("cy")
    join(ada)
    join(bob)
    clear(ada, bob, cy)

    ack = bob.emit("room.media", {"room": "standup", "mic": True, "cam": False, "screen": True})

    assert ack == {"ok": True}
    assert ada.received("room.media") == [
        {"room": "standup", "id": "bob", "mic": True, "cam": False, "screen": True, "rev": 1}
    ]
    assert bob.received("room.media") == cy.received("room.media") == []
    assert join(cy)["members"] == [
        {**member(host, "ada"), "polite": True},
        {**member(host, "bob", cam=False, screen=True), "polite": True},
    ]


def test_media_states_carry_their_revision_and_an_older_one_loses(
    connect: Connector, host: Host
) -> None:
    """The widget numbers its media states (``rev``): a call relays the number for
    the other side to compare; a room keeps the newest and relays that."""
    ada, bob, cy = connect("ada"), connect("bob"), connect("cy")
    call_id = answered(ada, bob)
    clear(ada, bob)
    media = {"call_id": call_id, "mic": False, "cam": True, "rev": 41}
    assert bob.emit("call.media", media) == {"ok": True}
    assert ada.received("call.media") == [
        {"call_id": call_id, "from": "bob", "mic": False, "cam": True, "screen": False, "rev": 41}
    ]
    for bad in (-1, 2**53, 1.5, "2", True):
        assert_error(bob.emit("call.media", {**media, "rev": bad}), "ERR_INVALID_PAYLOAD")
    bob.emit("call.hangup", {"call_id": call_id})

    join(bob)
    join(cy)
    clear(bob, cy)
    ok = {"ok": True}
    assert bob.emit("room.media", {"room": "standup", "mic": False, "cam": False, "rev": 9}) == ok
    assert bob.emit("room.media", {"room": "standup", "mic": True, "cam": True, "rev": 8}) == ok
    newest = {"room": "standup", "id": "bob", "mic": False, "cam": False, "screen": False, "rev": 9}
    assert cy.received("room.media") == [newest, newest]


# -- a call taken back within the grace ---------------------------------------------------


@pytest.mark.parametrize("who", ["caller", "callee"])
def test_a_party_back_within_the_grace_takes_the_call_back(
    graceful: tuple[Host, Connector], signals_of: Callable[[Host], Sent], who: str
) -> None:
    host, connect = graceful
    ada, bob = connect("ada"), connect("bob")
    call_id = answered(ada, bob)
    gone, stays = (ada, bob) if who == "caller" else (bob, ada)
    sent = signals_of(host)
    gone.close()
    clear(stays)
    back = connect(str(gone.user_id))  # the same browser's new connection

    ack = back.emit("call.resume", {"call_id": call_id, "peer": stays.user_id})

    assert ack == {
        "ok": True,
        "call_id": call_id,
        "state": "active",
        "peer": host.public(str(stays.user_id)),
    }
    # The other party hears of the user coming back online, in a call, and nothing
    # else: its peer connection never stopped.
    assert stays.online() == [{**host.public(str(gone.user_id)), "status": "in_call"}]
    assert stays.offline() == []
    assert call_and_room_events(stays) == []
    # Signals go both ways between the new connection and the other party.
    assert stays.emit("signal", {"call_id": call_id, "description": OFFER}) == {"ok": True}
    assert back.received("signal") == [
        {"call_id": call_id, "from": stays.user_id, "description": OFFER}
    ]
    assert back.emit("signal", {"call_id": call_id, "candidate": CANDIDATE}) == {"ok": True}
    assert stays.received("signal") == [
        {"call_id": call_id, "from": back.user_id, "candidate": CANDIDATE}
    ]
    # The grace running out does not end it.
    host.sleep(PAST_GRACE)
    assert stays.received("call.ended") == back.received("call.ended") == []
    assert statuses(host) == {"ada": "in_call", "bob": "in_call"}
    assert sent == []
    # A hang-up from the new connection reaches the other party.
    assert back.emit("call.hangup", {"call_id": call_id}) == {"ok": True, "call_id": call_id}
    assert stays.received("call.ended") == [{"call_id": call_id, "reason": "hangup"}]
    assert [(name, kw["reason"]) for name, kw in sent] == [("ended", "hangup")]


def test_reconnecting_without_resuming_still_ends_the_call_after_the_grace(
    graceful: tuple[Host, Connector],
) -> None:
    host, connect = graceful
    ada, bob = connect("ada"), connect("bob")
    call_id = answered(ada, bob)
    ada.close()
    closed_at = time.monotonic()
    back = connect("ada")  # a new tab, which does not ask for the call
    clear(bob)

    ended = {"call_id": call_id, "reason": "peer_disconnected"}
    assert bob.wait_for("call.ended") == ended
    assert time.monotonic() - closed_at >= GRACE * 0.9
    assert back.received("call.ended") == []  # it never held the call
    assert statuses(host) == {"ada": "available", "bob": "available"}


def test_the_old_connection_still_open_is_told_it_lost_the_call(
    graceful: tuple[Host, Connector],
) -> None:
    """The browser noticed its network died before the server did: its new
    connection takes the call back while the old one still looks open."""
    host, connect = graceful
    ada, bob = connect("ada"), connect("bob")
    call_id = answered(ada, bob)
    ada2 = connect("ada")
    clear(ada, bob, ada2)

    ack = ada2.emit("call.resume", {"call_id": call_id, "peer": "bob"})

    assert ack["state"] == "active"
    assert ada.received("call.ended") == [{"call_id": call_id, "reason": "answered_elsewhere"}]
    assert_nothing(bob)
    assert_error(
        ada.emit("signal", {"call_id": call_id, "description": OFFER}), "ERR_CALL_NOT_FOUND"
    )
    ada.close()  # the old connection closing does not end the call
    host.sleep(PAST_GRACE)
    assert bob.received("call.ended") == []
    assert bob.emit("signal", {"call_id": call_id, "description": OFFER}) == {"ok": True}
    assert ada2.received("signal")


def test_taking_back_a_call_that_ended_meanwhile_tells_why(
    graceful: tuple[Host, Connector],
) -> None:
    host, connect = graceful
    ada, bob, cy = connect("ada"), connect("bob"), connect("cy")
    call_id = answered(ada, bob)
    ada.close()
    bob.emit("call.hangup", {"call_id": call_id})
    back = connect("ada")
    clear(bob, cy)

    ack = back.emit("call.resume", {"call_id": call_id, "peer": "bob"})

    assert_error(ack, "ERR_CALL_NOT_FOUND")
    assert back.received("call.ended") == [{"call_id": call_id, "reason": "hangup"}]
    assert_nothing(bob, cy)
    assert statuses(host)["ada"] == "available"
    # Someone who was not in it learns nothing: to them the id is unknown (a claim,
    # as after a restart), and the call's end is not told.
    ack = cy.emit("call.resume", {"call_id": call_id, "peer": "bob"})
    assert ack == {"ok": True, "call_id": call_id, "state": "pending"}
    assert call_and_room_events(cy) == call_and_room_events(bob) == []


def test_a_call_ended_without_grace_tells_the_returning_party_why(connect: Connector) -> None:
    ada, bob = connect("ada"), connect("bob")
    call_id = answered(ada, bob)
    ada.close()  # no grace: the call ends at once
    back = connect("ada")

    assert_error(
        back.emit("call.resume", {"call_id": call_id, "peer": "bob"}), "ERR_CALL_NOT_FOUND"
    )
    assert back.received("call.ended") == [{"call_id": call_id, "reason": "peer_disconnected"}]


@pytest.mark.parametrize(
    ("sender", "peer", "code"),
    [
        # A party naming someone else (she cannot claim a call: she is in one).
        ("ada2", "cy", "ERR_CALL_NOT_FOUND"),
        ("ringing", "bob", "ERR_INVALID_STATE"),  # not answered yet
    ],
    ids=["wrong-peer", "ringing"],
)
def test_refused_resumes_leave_the_call_alone(
    connect: Connector, host: Host, sender: str, peer: str, code: str
) -> None:
    """(A stranger is not refused: see
    :func:`test_resuming_a_call_of_others_answers_as_for_an_unknown_id`.)"""
    ada, ada2, bob, cy = connect("ada"), connect("ada"), connect("bob"), connect("cy")
    if sender == "ringing":
        call_id = ada.emit("call.invite", {"to": "bob"})["call_id"]
    else:
        call_id = answered(ada, bob)
    tabs = {"ada2": ada2, "ringing": ada2}
    clear(ada, ada2, bob, cy)
    before = statuses(host)

    assert_error(tabs[sender].emit("call.resume", {"call_id": call_id, "peer": peer}), code)

    assert_nothing(ada, ada2, bob, cy)
    assert statuses(host) == before
    call = host.book.live_call_of("ada")
    assert call is not None and call.caller_sid == ada.sid


# -- after a server restart -----------------------------------------------------------------


@pytest.fixture
def restarted(
    make_host: MakeHost, connector_for: ConnectorFor, host_store: str
) -> tuple[str, Host, Connector]:
    """Ada and Bob were in a call on a server that then restarted: the id of that
    call, the new server (a new host app, which knows nothing) and its tab opener.
    On Redis the state would survive a restart of the server: Redis restarts too,
    empty."""
    before = make_host()
    old = connector_for(before)
    call_id = answered(old("ada"), old("bob"))
    if host_store == "redis":
        import redis

        client = redis.Redis.from_url(before.app.config["VIDEOCHAT_STORE_URL"])
        client.flushdb()
        client.close()
    host = make_host()
    return call_id, host, connector_for(host)


@pytest.mark.parametrize("hanger", ["first", "second"])
def test_after_a_restart_both_parties_take_the_call_back(
    restarted: tuple[str, Host, Connector], signals_of: Callable[[Host], Sent], hanger: str
) -> None:
    call_id, host, connect = restarted
    sent = signals_of(host)
    ada, bob, cy = connect("ada"), connect("bob"), connect("cy")
    clear(ada, bob, cy)

    first = ada.emit("call.resume", {"call_id": call_id, "peer": "bob"})

    assert first == {"ok": True, "call_id": call_id, "state": "pending"}
    assert statuses(host)["ada"] == "in_call"
    assert call_and_room_events(bob) == []

    second = bob.emit("call.resume", {"call_id": call_id, "peer": "ada"})

    assert second == {"ok": True, "call_id": call_id, "state": "active", "peer": host.public("ada")}
    assert ada.received("call.resumed") == [{"call_id": call_id, "peer": host.public("bob")}]
    assert call_and_room_events(bob) == []
    assert statuses(host) == {"ada": "in_call", "bob": "in_call", "cy": "available"}
    assert cy.statuses() == [("ada", "in_call"), ("bob", "in_call")]
    assert sent == []  # no call_started nor call_answered again
    # Signals flow between the two connections.
    assert ada.emit("signal", {"call_id": call_id, "description": OFFER}) == {"ok": True}
    assert bob.received("signal") == [{"call_id": call_id, "from": "ada", "description": OFFER}]
    # The claim window passing ends nothing.
    host.sleep(0.2)
    # A hang-up from either side reaches the other.
    hanging, other = (ada, bob) if hanger == "first" else (bob, ada)
    assert hanging.emit("call.hangup", {"call_id": call_id}) == {"ok": True, "call_id": call_id}
    assert other.received("call.ended") == [{"call_id": call_id, "reason": "hangup"}]
    assert [(name, kw["reason"]) for name, kw in sent] == [("ended", "hangup")]
    assert statuses(host) == {"ada": "available", "bob": "available", "cy": "available"}


def test_someone_claiming_a_call_is_busy(restarted: tuple[str, Host, Connector]) -> None:
    call_id, host, connect = restarted
    ada, bob, cy = connect("ada"), connect("bob"), connect("cy")
    ada.emit("call.resume", {"call_id": call_id, "peer": "bob"})
    clear(ada, bob, cy)
    before = statuses(host)

    busy = cy.emit("call.invite", {"to": "ada"})

    assert busy == {"ok": True, "call_id": busy["call_id"], "state": "ended", "reason": "busy"}
    assert_error(ada.emit("call.invite", {"to": "cy"}), "ERR_ALREADY_IN_CALL")
    assert_error(ada.emit("room.join", {"room": "standup"}), "ERR_ALREADY_IN_CALL")
    assert_nothing(ada, bob, cy)
    assert statuses(host) == before == {"ada": "in_call", "bob": "available", "cy": "available"}


def test_a_lone_claim_expires(restarted: tuple[str, Host, Connector]) -> None:
    call_id, host, connect = restarted
    window = 0.3
    host.state.calls = CallBook(claim_window=window)  # the real one is at least 5 s
    ada = connect("ada")
    clear(ada)

    assert ada.emit("call.resume", {"call_id": call_id, "peer": "bob"})["state"] == "pending"
    claimed_at = time.monotonic()

    assert ada.wait_for("call.ended") == {"call_id": call_id, "reason": "peer_disconnected"}
    assert time.monotonic() - claimed_at >= window * 0.9
    assert statuses(host) == {"ada": "available"}
    # Bob, too late, is told at once.
    bob = connect("bob")
    assert_error(bob.emit("call.resume", {"call_id": call_id, "peer": "ada"}), "ERR_CALL_NOT_FOUND")
    assert bob.received("call.ended") == [{"call_id": call_id, "reason": "peer_disconnected"}]


def test_a_claim_dies_with_its_connection(restarted: tuple[str, Host, Connector]) -> None:
    call_id, host, connect = restarted
    ada1, ada2, bob = connect("ada"), connect("ada"), connect("bob")
    ada1.emit("call.resume", {"call_id": call_id, "peer": "bob"})

    ada1.close()

    assert statuses(host)["ada"] == "available"
    assert bob.emit("call.resume", {"call_id": call_id, "peer": "ada"})["state"] == "pending"
    assert ada2.received("call.resumed") == []


def test_a_claim_naming_someone_in_another_call_changes_nothing_of_theirs(
    restarted: tuple[str, Host, Connector],
) -> None:
    """The peer's state does not refuse a claim (that would tell whether they are
    busy, which ``can_see`` may hide), and the claim cannot reach them: it waits for
    the peer's own ``call.resume`` naming the claimant, which Bob, busy, cannot
    make."""
    call_id, host, connect = restarted
    ada, bob, cy = connect("ada"), connect("bob"), connect("cy")
    other = answered(bob, cy)
    clear(ada, bob, cy)
    before = statuses(host)

    pending = ada.emit("call.resume", {"call_id": call_id, "peer": "bob"})
    assert pending == {"ok": True, "call_id": call_id, "state": "pending"}
    # Claiming the live call of others, naming one of its parties, is the same: it is
    # an unknown id to her.
    pending = ada.emit("call.resume", {"call_id": other, "peer": "bob"})
    assert pending == {"ok": True, "call_id": other, "state": "pending"}
    # Bob, in a call, cannot claim a call with Ada (his own state): nothing pairs.
    assert_error(bob.emit("call.resume", {"call_id": other, "peer": "ada"}), "ERR_CALL_NOT_FOUND")

    assert call_and_room_events(ada) == call_and_room_events(bob) == []
    assert call_and_room_events(cy) == []
    assert statuses(host) == {**before, "ada": "in_call"}
    assert host.book.claim_of("bob") is None
    call = host.book.live_call_of("bob")
    assert call is not None and call.id == other and call.has_party("cy")
    assert bob.emit("signal", {"call_id": other, "description": OFFER}) == {"ok": True}
    assert cy.received("signal") == [{"call_id": other, "from": "bob", "description": OFFER}]


def test_the_can_call_hook_may_refuse_a_re_created_call(
    make_host: MakeHost, connector_for: ConnectorFor
) -> None:
    host = make_host(can_call=lambda caller, callee: "eve" not in (caller.id, callee.id))
    connect = connector_for(host)
    ada, eve = connect("ada"), connect("eve")
    assert ada.emit("call.resume", {"call_id": "forged", "peer": "eve"})["state"] == "pending"
    clear(ada, eve)

    assert_error(
        eve.emit("call.resume", {"call_id": "forged", "peer": "ada"}), "ERR_CALL_NOT_FOUND"
    )

    assert_nothing(ada, eve)
    assert len(host.book) == 0


# -- call.resume is not a probe ------------------------------------------------------------

#: The claim window of the hosts comparing resumes, in seconds (the app's is >= 5 s).
WINDOW = 0.3


def normalized(value: Any, call_id: str) -> Any:
    """``value`` with ``call_id`` (in nested dicts, lists and tuples) written
    ``"{call}"``: outcomes of resumes of different ids compare equal."""
    if value == call_id:
        return "{call}"
    if isinstance(value, dict):
        return {k: normalized(v, call_id) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalized(v, call_id) for v in value]
    return value


def resume_outcome(
    host: Host, sender: Tab, watcher: Tab, call_id: str, peer: str
) -> dict[str, Any]:
    """Everything ``sender``'s ``call.resume`` of ``call_id`` naming ``peer`` shows:
    its ack; all that ``sender`` receives until its claim window (:data:`WINDOW`)
    is over; what ``watcher``, who sees ``sender``, hears of them meanwhile; their
    status and claim after. The call id is written ``"{call}"``."""
    me = str(sender.user_id)
    clear(sender, watcher)
    ack = sender.emit("call.resume", {"call_id": call_id, "peer": peer})
    host.sleep(WINDOW)
    if isinstance(ack, dict) and ack.get("state") == "pending":
        sender.wait_for("call.ended")
        deadline = time.monotonic() + 5
        while (me, "available") not in watcher.statuses():
            assert time.monotonic() < deadline, f"{watcher.user_id} never saw {me} available"
            host.sleep(0.01)
    host.sleep(0.1)  # anything else would have come by now
    sender.names()  # pulls what came
    return normalized(
        {
            "ack": ack,
            "received": list(sender.log),
            "watcher": [
                [entry for entry in watcher.statuses() if entry[0] == me],
                [uid for uid in watcher.offline() if uid == me],
                call_and_room_events(watcher),
            ],
            "status": statuses(host).get(me),
            "claiming": host.book.claim_of(me) is not None,
        },
        call_id,
    )


#: Where each scene puts Bob (hidden from Dan) when Dan resumes a call naming him.
HIDDEN_SCENES = (
    "idle",
    "ringing",  # Cy calls him
    "calling",  # he calls Cy
    "in-call",
    "in-room",
    "invited",  # into Cy's room
    "claiming",  # he claims the very call Dan resumes, naming Dan
    "hook-raises",  # in a call; the can_see hook raises for Dan and Bob
)


@pytest.mark.parametrize("scene", HIDDEN_SCENES)
def test_resume_naming_a_hidden_user_answers_as_for_an_offline_one(
    make_host: MakeHost, connector_for: ConnectorFor, scene: str
) -> None:
    """Issue 11: Dan's ``call.resume`` naming Bob, whom ``can_see`` hides from him,
    shows Dan exactly what it shows while Bob is offline, whatever Bob is doing, and
    tells nobody else anything."""

    def can_see(viewer: User, user: User) -> bool:
        if (viewer.id, user.id) != ("dan", "bob"):
            return True
        if scene == "hook-raises":
            raise RuntimeError("the host's hook is broken")
        return False

    host = make_host(config={"VIDEOCHAT_RING_TIMEOUT": 30}, can_see=can_see)
    host.state.calls.claim_window = WINDOW
    connect = connector_for(host)
    dan, ada = connect("dan"), connect("ada")
    offline = resume_outcome(host, dan, ada, "call-before-restart-1", "bob")
    assert offline["ack"] == {"ok": True, "call_id": "{call}", "state": "pending"}

    bob, cy = connect("bob"), connect("cy")
    call_id = "call-before-restart-2"
    if scene == "ringing":
        invite(cy, "bob")
    elif scene == "calling":
        invite(bob, "cy")
    elif scene in ("in-call", "hook-raises"):
        answered(cy, bob)
    elif scene == "in-room":
        join(bob)
    elif scene == "invited":
        join(cy)
        assert cy.emit("room.invite", {"room": "standup", "to": "bob"})["state"] == "ringing"
    elif scene == "claiming":
        pending = bob.emit("call.resume", {"call_id": call_id, "peer": "dan"})
        assert pending["state"] == "pending"
    clear(bob, cy)
    before = statuses(host)

    hidden = resume_outcome(host, dan, ada, call_id, "bob")

    assert hidden == offline
    # Nobody else heard of it, and nothing of theirs changed.
    assert call_and_room_events(cy) == []
    if scene == "claiming":  # Bob's own claim ended by itself: nothing paired
        assert call_and_room_events(bob) == ["call.ended"]
        assert len(host.book) == 0
        del before["bob"]
    else:
        assert call_and_room_events(bob) == []
    after = statuses(host)
    assert {uid: after[uid] for uid in before} == before


@pytest.mark.parametrize("kind", ["ringing", "active", "ended"])
def test_resuming_a_call_of_others_answers_as_for_an_unknown_id(
    make_host: MakeHost, connector_for: ConnectorFor, kind: str
) -> None:
    """Issue 11: Cy's ``call.resume`` of Ada and Bob's call (ringing, active, or
    ended a moment ago), naming Bob, shows Cy exactly what a resume of an id the
    server never made shows, and changes nothing of Ada and Bob's."""
    host = make_host(config={"VIDEOCHAT_RING_TIMEOUT": 30})
    host.state.calls.claim_window = WINDOW
    connect = connector_for(host)
    ada, bob, cy, dan = connect("ada"), connect("bob"), connect("cy"), connect("dan")
    call_id = invite(ada, "bob") if kind == "ringing" else answered(ada, bob)
    if kind == "ended":
        assert bob.emit("call.hangup", {"call_id": call_id})["ok"] is True
    clear(ada, bob, cy, dan)
    before = statuses(host)

    unknown = resume_outcome(host, cy, dan, "call-never-made", "bob")
    real = resume_outcome(host, cy, dan, call_id, "bob")

    assert real == unknown
    assert unknown["ack"] == {"ok": True, "call_id": "{call}", "state": "pending"}
    assert call_and_room_events(ada) == call_and_room_events(bob) == []
    assert statuses(host) == before
    # The call's parties find it as they left it.
    if kind == "ringing":
        assert bob.emit("call.accept", {"call_id": call_id})["ok"] is True
        assert ada.received("call.accepted")
    elif kind == "active":
        assert bob.emit("signal", {"call_id": call_id, "description": OFFER}) == {"ok": True}
        assert ada.received("signal") == [{"call_id": call_id, "from": "bob", "description": OFFER}]
    else:
        # Cy's expired claim did not overwrite what Ada learns of her call's end.
        back = ada.emit("call.resume", {"call_id": call_id, "peer": "bob"})
        assert_error(back, "ERR_CALL_NOT_FOUND")
        assert ada.received("call.ended") == [{"call_id": call_id, "reason": "hangup"}]


# -- room seats kept through a dropped connection -----------------------------------------------


def test_a_member_back_within_the_grace_takes_the_seat_back(
    graceful: tuple[Host, Connector], signals_of: Callable[[Host], Sent]
) -> None:
    host, connect = graceful
    ada, bob, cy = connect("ada"), connect("bob"), connect("cy")
    for tab in (ada, bob, cy):
        join(tab)
    said = ada.emit("chat.send", {"room": "standup", "text": "brb"})["message"]
    sent = signals_of(host)
    clear(ada, bob, cy)

    bob.close()

    # Nobody is told he left: he is only offline, still in the room.
    assert ada.offline() == ["bob"]
    assert ada.online() == []
    assert call_and_room_events(ada) == call_and_room_events(cy) == []
    assert host.rooms.seat_of("bob") is not None
    back = connect("bob")
    assert ada.online() == [{**host.public("bob"), "status": "in_call"}]
    clear(ada, cy)

    ack = back.emit("room.resume", {"room": "standup"})

    # Bob joined after Ada (he is polite toward her) and before Cy (impolite).
    assert ack == {
        "ok": True,
        "room": "standup",
        "capacity": 4,
        "members": [
            {**member(host, "ada"), "polite": True},
            {**member(host, "cy"), "polite": False},
        ],
        "history": [said],
    }
    assert_nothing(ada, cy)
    # Relays reach the new connection, and it can relay.
    assert ada.emit("room.signal", {"room": "standup", "to": "bob", "description": OFFER}) == {
        "ok": True
    }
    assert back.received("room.signal") == [
        {"room": "standup", "from": "ada", "description": OFFER}
    ]
    assert back.emit("room.signal", {"room": "standup", "to": "cy", "candidate": CANDIDATE}) == {
        "ok": True
    }
    assert cy.received("room.signal") == [
        {"room": "standup", "from": "bob", "candidate": CANDIDATE}
    ]
    # The grace running out does not drop the seat.
    host.sleep(PAST_GRACE)
    assert ada.received("room.member_left") == cy.received("room.member_left") == []
    assert statuses(host)["bob"] == "in_call"
    assert sent == []  # neither room_left nor room_joined
    # Leaving is as usual.
    assert back.emit("room.leave", {"room": "standup"})["ok"] is True
    assert ada.received("room.member_left") == [{"room": "standup", "id": "bob", "reason": "left"}]


def test_a_member_who_does_not_come_back_leaves_after_the_grace(
    graceful: tuple[Host, Connector], signals_of: Callable[[Host], Sent]
) -> None:
    host, connect = graceful
    ada, bob = connect("ada"), connect("bob")
    join(ada)
    join(bob)
    sent = signals_of(host)
    clear(ada)

    bob.close()
    closed_at = time.monotonic()

    host.sleep(GRACE / 4)
    assert ada.received("room.member_left") == []
    left = {"room": "standup", "id": "bob", "reason": "disconnected"}
    assert ada.wait_for("room.member_left") == left
    assert time.monotonic() - closed_at >= GRACE * 0.9
    # The timer tells the host just after the room (under threading, from its thread).
    deadline = time.monotonic() + 1.0
    while not sent and time.monotonic() < deadline:
        host.sleep(0.01)
    assert [(name, kw["reason"]) for name, kw in sent] == [("left", "disconnected")]
    # Too late to take the seat back: the browser joins again instead.
    back = connect("bob")
    assert_error(back.emit("room.resume", {"room": "standup"}), "ERR_NOT_IN_ROOM")
    assert join(back)["members"] == [{**member(host, "ada"), "polite": True}]


def test_the_last_member_away_keeps_the_room_for_the_grace(
    graceful: tuple[Host, Connector],
) -> None:
    host, connect = graceful
    ada = connect("ada")
    join(ada)
    ada.emit("chat.send", {"room": "standup", "text": "still here?"})

    ada.close()

    assert "standup" in host.rooms
    back = connect("ada")
    ack = back.emit("room.resume", {"room": "standup"})
    assert ack["members"] == []
    assert [m["text"] for m in ack["history"]] == ["still here?"]


def test_leaving_frees_the_seat_at_once_even_with_a_grace(
    graceful: tuple[Host, Connector],
) -> None:
    _, connect = graceful
    ada, bob = connect("ada"), connect("bob")
    join(ada)
    join(bob)
    clear(ada)

    bob.emit("room.leave", {"room": "standup"})
    bob.close()

    assert ada.received("room.member_left") == [{"room": "standup", "id": "bob", "reason": "left"}]
    assert_error(connect("bob").emit("room.resume", {"room": "standup"}), "ERR_NOT_IN_ROOM")


@pytest.mark.parametrize("room", ["standup", "retro"], ids=["never-joined", "other-room"])
def test_resuming_a_seat_that_is_not_kept_is_refused(
    graceful: tuple[Host, Connector], room: str
) -> None:
    host, connect = graceful
    ada, bob, cy = connect("ada"), connect("bob"), connect("cy")
    join(ada)
    join(bob)
    sender = cy if room == "standup" else bob
    clear(ada, bob, cy)
    before = (statuses(host), host.rooms.get("standup"))

    assert_error(sender.emit("room.resume", {"room": room}), "ERR_NOT_IN_ROOM")

    assert_nothing(ada, bob, cy)
    assert (statuses(host), host.rooms.get("standup")) == before


def test_a_room_seat_still_open_elsewhere_is_told_it_lost_it(
    graceful: tuple[Host, Connector],
) -> None:
    host, connect = graceful
    ada, bob1 = connect("ada"), connect("bob")
    join(ada)
    join(bob1)
    bob2 = connect("bob")
    clear(ada, bob1, bob2)

    assert bob2.emit("room.resume", {"room": "standup"})["ok"] is True

    assert bob1.received("room.left") == [{"room": "standup", "reason": "joined_elsewhere"}]
    assert_nothing(ada)
    bob1.close()
    host.sleep(PAST_GRACE)
    assert ada.received("room.member_left") == []


# -- malformed events ------------------------------------------------------------------

#: (event, payload, error code); "{call}" is replaced by the id of Cy and Dan's call.
MALFORMED: dict[str, tuple[str, Any, str]] = {
    "media-no-cam": ("call.media", {"call_id": "{call}", "mic": False}, "ERR_INVALID_PAYLOAD"),
    "media-int-mic": (
        "call.media",
        {"call_id": "{call}", "mic": 0, "cam": 1},
        "ERR_INVALID_PAYLOAD",
    ),
    "media-string-screen": (
        "call.media",
        {"call_id": "{call}", "mic": True, "cam": True, "screen": "yes"},
        "ERR_INVALID_PAYLOAD",
    ),
    "media-unknown-field": (
        "call.media",
        {"call_id": "{call}", "mic": True, "cam": True, "to": "ada"},
        "ERR_INVALID_PAYLOAD",
    ),
    "media-list": ("call.media", ["{call}", True, True], "ERR_INVALID_PAYLOAD"),
    "resume-no-peer": ("call.resume", {"call_id": "{call}"}, "ERR_INVALID_PAYLOAD"),
    "resume-int-peer": ("call.resume", {"call_id": "{call}", "peer": 7}, "ERR_INVALID_PAYLOAD"),
    "resume-empty-call-id": ("call.resume", {"call_id": "", "peer": "dan"}, "ERR_INVALID_PAYLOAD"),
    "resume-unknown-field": (
        "call.resume",
        {"call_id": "{call}", "peer": "dan", "sid": "x"},
        "ERR_INVALID_PAYLOAD",
    ),
    "resume-string": ("call.resume", "{call}", "ERR_INVALID_PAYLOAD"),
    "room-resume-bad-name": ("room.resume", {"room": "<b>"}, "ERR_INVALID_PAYLOAD"),
    "room-resume-unknown-field": (
        "room.resume",
        {"room": "standup", "members": []},
        "ERR_INVALID_PAYLOAD",
    ),
    "room-resume-none": ("room.resume", None, "ERR_INVALID_PAYLOAD"),
    "room-media-string-screen": (
        "room.media",
        {"room": "standup", "mic": True, "cam": True, "screen": 1},
        "ERR_INVALID_PAYLOAD",
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_events_are_refused_and_change_nothing(
    connect: Connector, host: Host, case: str
) -> None:
    """Cy is in a call with Dan; Ada and Bob are in "standup". Each payload would
    change something (or relay something) if it were well formed."""
    event, payload, code = MALFORMED[case]
    ada, bob, cy, dan = (connect(u) for u in ("ada", "bob", "cy", "dan"))
    join(ada)
    join(bob)
    call_id = answered(cy, dan)
    tabs = (ada, bob, cy, dan)
    clear(*tabs)
    before = (statuses(host), host.rooms.get("standup"), host.book.live_call_of("cy"))
    sender = ada if event.startswith("room.") else cy

    assert_error(sender.emit(event, fill(payload, call_id)), code)

    assert_nothing(*tabs)
    assert (statuses(host), host.rooms.get("standup"), host.book.live_call_of("cy")) == before
    assert host.book.claim_of("cy") is None
    assert cy.emit("signal", {"call_id": call_id, "description": OFFER}) == {"ok": True}
