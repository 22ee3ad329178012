"""Taking calls and seats back within the reconnect grace, end to end through
``/videochat`` under both async modes (``docs/protocol.md``, "Reconnecting and
resuming"): ``call.resume`` and ``room.resume`` on a new connection, the old one
told it lost them, the grace running out, and the refusals. After a server restart:
``test_namespace_restart.py``."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable

import pytest

from tests.support import (
    CANDIDATE,
    OFFER,
    answered,
    assert_error,
    assert_nothing,
    call_and_room_events,
    clear,
    join,
    member,
    statuses,
)

#: Every test here runs on both stores: in memory, and on Redis (one process).
pytestmark = pytest.mark.parametrize("host_store", ("memory", "redis"), indirect=True)

if TYPE_CHECKING:
    from tests.harness import Connector, ConnectorFor, Host, MakeHost
    from tests.support import Sent

#: The reconnect grace of the hosts that keep calls and seats, in seconds.
GRACE = 0.5
#: Seconds after a connection closed by which its grace timer has surely run.
PAST_GRACE = GRACE + 0.2


@pytest.fixture
def graceful(make_host: MakeHost, connector_for: ConnectorFor) -> tuple[Host, Connector]:
    """A host with a reconnect grace of :data:`GRACE` seconds, and its tab opener."""
    host = make_host(config={"VIDEOCHAT_RECONNECT_GRACE": GRACE})
    return host, connector_for(host)


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
    closed_at = time.monotonic()  # (the grace starts inside close())
    ada.close()
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
    """(A stranger is not refused: see ``test_namespace_restart.py``,
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
    assert ada.online() == [{**host.public("bob"), "status": "in_room"}]
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
    assert statuses(host)["bob"] == "in_room"
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

    closed_at = time.monotonic()  # (the grace starts inside close())
    bob.close()

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
