"""Invitations into rooms and growing a call into a room, end to end through
``/videochat`` under both async modes (``docs/protocol.md``, "Rooms",
"Growing a call into a room"): ringing, declining, no answer, busy people, the
refusals, and a call becoming a private room."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable

import pytest

from tests.support import (
    OFFER,
    ROOM_SIGNALS,
    Sent,
    answered,
    assert_error,
    assert_nothing,
    clear,
    join,
    member,
    say,
    statuses,
)

#: Every test here runs on both stores: in memory, and on Redis (one process).
pytestmark = pytest.mark.parametrize("host_store", ("memory", "redis"), indirect=True)

if TYPE_CHECKING:
    from tests.harness import Connector, Host, MakeHost


#: What the ``host_signals`` fixture records: room, chat and ``call_ended`` signals.
HOST_SIGNALS = ROOM_SIGNALS


# -- invitations ----------------------------------------------------------------------------


def test_an_invitation_rings_every_tab_and_can_be_declined(connect: Connector, host: Host) -> None:
    ada, cy, bob1, bob2, dan = (
        connect("ada"),
        connect("cy"),
        connect("bob"),
        connect("bob"),
        connect("dan"),
    )
    join(ada)
    join(cy)
    clear(ada, cy, bob1, bob2, dan)

    ack = ada.emit("room.invite", {"room": "standup", "to": "bob"})

    assert ack == {"ok": True, "room": "standup", "to": "bob", "state": "ringing"}
    ringing = {"room": "standup", "from": host.public("ada"), "members": 2, "ring_timeout": 1}
    assert bob1.received("room.invite") == [ringing]
    assert bob2.received("room.invite") == [ringing]
    assert (
        ada.received("room.invite")
        == cy.received("room.invite")
        == dan.received("room.invite")
        == []
    )
    assert dan.statuses() == [("bob", "ringing")]
    assert statuses(host)["bob"] == "ringing"
    clear(ada, cy, bob1, bob2, dan)

    assert bob2.emit("room.decline", {"room": "standup"}) == {"ok": True, "room": "standup"}

    ended = [{"room": "standup", "id": "bob", "reason": "declined"}]
    for tab in (ada, cy, bob1, bob2):
        assert tab.received("room.invite_ended") == ended
    assert dan.received("room.invite_ended") == []
    assert statuses(host)["bob"] == "available"
    assert_error(bob1.emit("room.decline", {"room": "standup"}), "ERR_NOT_IN_ROOM")


def test_an_invitation_nobody_answers(connect: Connector, host: Host) -> None:
    ada, bob = connect("ada"), connect("bob")
    join(ada)
    ada.emit("room.invite", {"room": "standup", "to": "bob"})
    rang_at = time.monotonic()
    host.sleep(0.2)
    assert ada.received("room.invite_ended") == []

    ended = {"room": "standup", "id": "bob", "reason": "no_answer"}
    assert ada.wait_for("room.invite_ended") == ended
    assert time.monotonic() - rang_at >= 0.9  # the 1 s ring timeout
    assert bob.wait_for("room.invite_ended") == ended
    # The timer publishes Bob's status right after telling him (on its own thread
    # under threading, after a Redis round trip with that store).
    deadline = time.monotonic() + 5
    while statuses(host)["bob"] != "available" and time.monotonic() < deadline:
        host.sleep(0.01)
    assert statuses(host)["bob"] == "available"


def test_accepting_an_invitation_is_joining(connect: Connector, host: Host) -> None:
    ada, bob1, bob2 = connect("ada"), connect("bob"), connect("bob")
    join(ada)
    ada.emit("room.invite", {"room": "standup", "to": "bob"})
    clear(ada, bob1, bob2)

    ack = join(bob1)

    assert ack["members"] == [{**member(host, "ada"), "polite": True}]
    ended = [{"room": "standup", "id": "bob", "reason": "joined"}]
    assert ada.received("room.invite_ended") == ended
    assert bob2.received("room.invite_ended") == ended  # the other tab stops ringing
    assert bob1.received("room.invite_ended") == ended
    assert ada.received("room.member_joined")[0]["member"]["id"] == "bob"
    assert statuses(host)["bob"] == "in_room"
    # The ring timeout then ends nothing.
    host.sleep(1.2)
    assert ada.received("room.invite_ended") == ended
    assert statuses(host)["bob"] == "in_room"


def test_an_emptied_room_cancels_its_invitations(connect: Connector, host: Host) -> None:
    ada, bob = connect("ada"), connect("bob")
    join(ada)
    ada.emit("room.invite", {"room": "standup", "to": "bob"})
    bob.clear()

    ada.emit("room.leave", {"room": "standup"})

    assert bob.received("room.invite_ended") == [
        {"room": "standup", "id": "bob", "reason": "cancelled"}
    ]
    assert statuses(host) == {"ada": "available", "bob": "available"}


def test_an_invitee_closing_their_last_tab_stops_the_ringing(connect: Connector) -> None:
    ada, bob = connect("ada"), connect("bob")
    join(ada)
    ada.emit("room.invite", {"room": "standup", "to": "bob"})
    ada.clear()

    bob.close()

    assert ada.received("room.invite_ended") == [
        {"room": "standup", "id": "bob", "reason": "no_answer"}
    ]


@pytest.mark.parametrize("bob_is", ["in-a-call", "ringing", "in-a-room", "invited"])
def test_inviting_someone_busy_rings_nothing(connect: Connector, host: Host, bob_is: str) -> None:
    ada, bob, cy = connect("ada"), connect("bob"), connect("cy")
    join(ada)
    if bob_is in ("in-a-call", "ringing"):
        call_id = cy.emit("call.invite", {"to": "bob"})["call_id"]
        if bob_is == "in-a-call":
            bob.emit("call.accept", {"call_id": call_id})
    else:
        join(cy, "retro")
        if bob_is == "in-a-room":
            join(bob, "retro")
        else:
            cy.emit("room.invite", {"room": "retro", "to": "bob"})
    clear(ada, bob, cy)
    before = statuses(host)

    ack = ada.emit("room.invite", {"room": "standup", "to": "bob"})

    assert ack == {"ok": True, "room": "standup", "to": "bob", "state": "ended", "reason": "busy"}
    assert_nothing(ada, bob, cy)
    assert statuses(host) == before


@pytest.mark.parametrize(
    ("sender", "to", "code"),
    [
        ("cy", "dan", "ERR_NOT_IN_ROOM"),  # the inviter is no member
        ("ada2", "dan", "ERR_NOT_IN_ROOM"),  # the inviter's tab without the seat
        ("ada", "ada", "ERR_SELF_CALL"),
        ("ada", "eve", "ERR_USER_OFFLINE"),
        ("ada", "nobody", "ERR_USER_OFFLINE"),
        ("ada", "bob", "ERR_INVALID_STATE"),  # a member already
        ("ada", "cy", "ERR_FORBIDDEN"),  # can_call refuses
        ("ada", "dan", "ERR_FORBIDDEN"),  # can_join refuses
    ],
    ids=["stranger", "other-tab", "self", "offline", "unknown", "member", "can-call", "can-join"],
)
def test_invitation_refusals(
    make_host: MakeHost,
    connector_for: Callable[[Host], Connector],
    sender: str,
    to: str,
    code: str,
) -> None:
    host = make_host(
        can_call=lambda caller, callee: callee.id != "cy",
        can_join=lambda user, room: user.id != "dan",
    )
    connect = connector_for(host)
    ada, ada2, bob, cy, dan = (
        connect("ada"),
        connect("ada"),
        connect("bob"),
        connect("cy"),
        connect("dan"),
    )
    join(ada)
    join(bob)
    tabs = {"ada": ada, "ada2": ada2, "bob": bob, "cy": cy, "dan": dan}
    clear(*tabs.values())
    before = statuses(host)

    assert_error(tabs[sender].emit("room.invite", {"room": "standup", "to": to}), code)

    assert_nothing(*tabs.values())
    assert statuses(host) == before


def test_inviting_into_a_full_room_is_refused(
    make_host: MakeHost, connector_for: Callable[[Host], Connector]
) -> None:
    host = make_host(config={"VIDEOCHAT_ROOM_CAPACITY": 2})
    connect = connector_for(host)
    ada, bob, cy = connect("ada"), connect("bob"), connect("cy")
    join(ada)
    join(bob)
    clear(ada, bob, cy)

    assert_error(ada.emit("room.invite", {"room": "standup", "to": "cy"}), "ERR_ROOM_FULL")
    assert_nothing(ada, bob, cy)


@pytest.mark.parametrize("bob_is", ["in-a-room", "invited"])
def test_calling_someone_in_a_room_is_busy(connect: Connector, host: Host, bob_is: str) -> None:
    ada, bob, cy = connect("ada"), connect("bob"), connect("cy")
    if bob_is == "in-a-room":
        join(bob)
    else:
        join(cy)
        cy.emit("room.invite", {"room": "standup", "to": "bob"})
    clear(ada, bob, cy)
    before = statuses(host)

    ack = ada.emit("call.invite", {"to": "bob"})

    assert ack == {"ok": True, "call_id": ack["call_id"], "state": "ended", "reason": "busy"}
    assert_nothing(ada, bob, cy)
    assert statuses(host) == before
    assert len(host.book) == 0


@pytest.mark.parametrize("ada_is", ["in-a-room", "invited"])
def test_a_member_or_invitee_cannot_start_a_call(
    connect: Connector, host: Host, ada_is: str
) -> None:
    ada, bob, cy = connect("ada"), connect("bob"), connect("cy")
    if ada_is == "in-a-room":
        join(ada)
    else:
        join(cy)
        cy.emit("room.invite", {"room": "standup", "to": "ada"})
    clear(ada, bob, cy)

    assert_error(ada.emit("call.invite", {"to": "bob"}), "ERR_ALREADY_IN_CALL")
    assert_nothing(ada, bob, cy)
    assert len(host.book) == 0


# -- growing a call into a room ---------------------------------------------------------------


def test_a_call_grows_into_a_room(connect: Connector, host: Host, host_signals: Sent) -> None:
    ada, bob, cy, dan = connect("ada"), connect("bob"), connect("cy"), connect("dan")
    call_id = answered(ada, bob)
    said = say(bob, "let's ask Cy", call_id=call_id)
    clear(ada, bob, cy, dan)
    host_signals.clear()

    ack = ada.emit("call.add", {"call_id": call_id, "to": "cy"})

    room = ack["room"]
    assert ack == {"ok": True, "call_id": call_id, "room": room, "to": "cy", "state": "ringing"}
    assert room.startswith("call-")
    upgraded = {"call_id": call_id, "room": room, "capacity": 4, "history": [said]}
    # Each party is told of the other members, as a joiner is.
    assert ada.received("call.upgraded") == [{**upgraded, "members": [member(host, "bob")]}]
    assert bob.received("call.upgraded") == [{**upgraded, "members": [member(host, "ada")]}]
    assert ada.received("call.ended") == bob.received("call.ended") == []  # the call goes on
    assert cy.received("room.invite") == [
        {"room": room, "from": host.public("ada"), "members": 2, "ring_timeout": 1}
    ]
    assert dan.received("call.upgraded") == dan.received("room.invite") == []
    assert len(host.book) == 0
    assert statuses(host) == {
        "ada": "in_room",
        "bob": "in_room",
        "cy": "ringing",
        "dan": "available",
    }
    assert [name for name, _ in host_signals] == ["call_ended", "joined", "joined"]
    ended = host_signals[0][1]
    assert (ended["call"].id, ended["reason"]) == (call_id, "moved_to_room")
    assert isinstance(ended["duration"], float) and ended["duration"] >= 0
    # The existing peer connection goes on with room signals.
    assert bob.emit("room.signal", {"room": room, "to": "ada", "description": OFFER}) == {
        "ok": True
    }
    assert ada.received("room.signal") == [{"room": room, "from": "bob", "description": OFFER}]
    clear(ada, bob)

    # Cy accepts by joining, and makes the offers to both.
    joined = join(cy, room)

    assert joined["members"] == [
        {**member(host, "ada"), "polite": True},
        {**member(host, "bob"), "polite": True},
    ]
    assert joined["history"] == [said]
    for tab in (ada, bob):
        assert tab.received("room.member_joined") == [
            {"room": room, "member": member(host, "cy"), "polite": False}
        ]
        assert tab.received("room.invite_ended") == [{"room": room, "id": "cy", "reason": "joined"}]
    assert statuses(host)["cy"] == "in_room"


def test_a_grown_call_is_private(connect: Connector) -> None:
    ada, bob, cy, dan = connect("ada"), connect("bob"), connect("cy"), connect("dan")
    room = ada.emit("call.add", {"call_id": answered(ada, bob), "to": "cy"})["room"]
    clear(ada, bob, cy, dan)

    assert_error(dan.emit("room.join", {"room": room}), "ERR_FORBIDDEN")
    assert_nothing(ada, bob, cy, dan)
    # A member can invite Dan in, though.
    assert bob.emit("room.invite", {"room": room, "to": "dan"})["state"] == "ringing"
    assert join(dan, room)["room"] == room


def test_growing_a_call_to_someone_busy_still_makes_the_room(connect: Connector) -> None:
    ada, bob, cy, dan = connect("ada"), connect("bob"), connect("cy"), connect("dan")
    call_id = answered(ada, bob)
    answered(cy, dan)
    clear(ada, bob, cy, dan)

    ack = bob.emit("call.add", {"call_id": call_id, "to": "cy"})

    assert ack == {
        "ok": True,
        "call_id": call_id,
        "room": ack["room"],
        "to": "cy",
        "state": "ended",
        "reason": "busy",
    }
    assert ada.received("call.upgraded")[0]["room"] == ack["room"]
    # Cy and Dan hear only that Ada and Bob are in a room now.
    assert [name for tab in (cy, dan) for name in tab.names() if name != "presence.changes"] == []
    assert ("ada", "in_room") in cy.statuses() and ("bob", "in_room") in dan.statuses()


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("ringing", "ERR_INVALID_STATE"),
        ("other-tab", "ERR_CALL_NOT_FOUND"),
        ("stranger", "ERR_CALL_NOT_FOUND"),
        ("self", "ERR_SELF_CALL"),
        ("the-other-party", "ERR_INVALID_STATE"),
        ("offline", "ERR_USER_OFFLINE"),
        ("can-call", "ERR_FORBIDDEN"),
        ("can-join", "ERR_FORBIDDEN"),
        ("can-join-party", "ERR_FORBIDDEN"),
        ("capacity-2", "ERR_ROOM_FULL"),
    ],
)
def test_call_add_refusals_leave_the_call_alone(
    make_host: MakeHost, connector_for: Callable[[Host], Connector], case: str, code: str
) -> None:
    host = make_host(
        can_call=lambda caller, callee: callee.id != "dan",
        # Eve may join no room; for "can-join-party", neither may Bob (the other party).
        can_join=lambda user, room: user.id not in ({"eve", "bob"} if "party" in case else {"eve"}),
        config={"VIDEOCHAT_ROOM_CAPACITY": 2 if case == "capacity-2" else 4},
    )
    connect = connector_for(host)
    ada, ada2, bob, cy, dan, eve = (connect(u) for u in ("ada", "ada", "bob", "cy", "dan", "eve"))
    if case == "ringing":
        call_id = ada.emit("call.invite", {"to": "bob"})["call_id"]
    else:
        call_id = answered(ada, bob)
    sender, to = {
        "other-tab": (ada2, "cy"),
        "stranger": (cy, "dan"),
        "self": (ada, "ada"),
        "the-other-party": (ada, "bob"),
        "offline": (ada, "nobody"),
        "can-call": (ada, "dan"),
        "can-join": (ada, "eve"),
    }.get(case, (ada, "cy"))
    tabs = (ada, ada2, bob, cy, dan, eve)
    clear(*tabs)
    before = statuses(host)

    assert_error(sender.emit("call.add", {"call_id": call_id, "to": to}), code)

    assert_nothing(*tabs)
    assert statuses(host) == before
    assert len(host.rooms) == 0
    assert host.book.live_call_of("ada").id == call_id  # type: ignore[union-attr]
