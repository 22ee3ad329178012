"""Rooms end to end through ``/videochat`` and Flask-SocketIO's test client,
under both async modes (``docs/protocol.md``, "Rooms"): joining and leaving, seats
moving between tabs and rooms, the relay between members and its refusals, and the
host's room signals. Chat, invitations and growing a call, and malformed events
are in the other ``test_namespace_rooms_*`` modules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import pytest

from flask_videochat import User
from tests.support import (
    CANDIDATE,
    OFFER,
    ROOM_SIGNALS,
    Sent,
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


# -- join, leave ----------------------------------------------------------------------


def test_join_lists_the_others_and_the_newcomer_makes_the_offers(
    connect: Connector, host: Host
) -> None:
    ada, bob, cy = connect("ada"), connect("bob"), connect("cy")

    assert join(ada) == {"ok": True, "room": "standup", "capacity": 4, "members": [], "history": []}
    clear(ada, bob, cy)

    ack = join(bob, mic=False)

    assert ack == {
        "ok": True,
        "room": "standup",
        "capacity": 4,
        "members": [{**member(host, "ada"), "polite": True}],
        "history": [],
    }
    assert ada.received("room.member_joined") == [
        {"room": "standup", "member": member(host, "bob", mic=False), "polite": False}
    ]
    assert bob.received("room.member_joined") == []
    assert cy.received("room.member_joined") == []
    clear(ada, bob)

    ack = join(cy)

    assert ack["members"] == [
        {**member(host, "ada"), "polite": True},
        {**member(host, "bob", mic=False), "polite": True},
    ]
    joined = {"room": "standup", "member": member(host, "cy"), "polite": False}
    assert ada.received("room.member_joined") == [joined]
    assert bob.received("room.member_joined") == [joined]


def test_members_are_in_call_for_presence(connect: Connector, host: Host) -> None:
    ada, bob = connect("ada"), connect("bob")
    clear(ada, bob)

    join(ada)

    assert bob.statuses() == [("ada", "in_room")]
    assert statuses(host) == {"ada": "in_room", "bob": "available"}
    snapshot = connect("cy").received("presence.snapshot")[0]["users"]
    assert {u["id"]: u["status"] for u in snapshot} == {"ada": "in_room", "bob": "available"}

    ada.emit("room.leave", {"room": "standup"})

    assert bob.statuses()[-1] == ("ada", "available")
    assert bob.offline() == []
    assert statuses(host)["ada"] == "available"


def test_leave(connect: Connector, host: Host) -> None:
    ada, bob, cy = connect("ada"), connect("bob"), connect("cy")
    join(ada)
    join(bob)
    join(cy)
    clear(ada, bob, cy)

    assert ada.emit("room.leave", {"room": "standup"}) == {"ok": True, "room": "standup"}

    left = {"room": "standup", "id": "ada", "reason": "left"}
    assert bob.received("room.member_left") == [left]
    assert cy.received("room.member_left") == [left]
    assert ada.received("room.member_left") == []
    assert ada.received("room.left") == []
    assert host.rooms.seat_of("ada") is None
    # Signals to Ada are refused now.
    assert_error(
        bob.emit("room.signal", {"room": "standup", "to": "ada", "description": OFFER}),
        "ERR_NOT_IN_ROOM",
    )
    assert_error(ada.emit("room.leave", {"room": "standup"}), "ERR_NOT_IN_ROOM")


def test_the_last_one_out_deletes_the_room_with_its_chat(connect: Connector, host: Host) -> None:
    ada = connect("ada")
    join(ada)
    say(ada, "note to self", room="standup")

    ada.emit("room.leave", {"room": "standup"})

    assert len(host.rooms) == 0
    assert join(connect("bob"))["history"] == []


def test_a_full_room_refuses_one_more(
    make_host: MakeHost, connector_for: Callable[[Host], Connector]
) -> None:
    host = make_host(config={"VIDEOCHAT_ROOM_CAPACITY": 2})
    connect = connector_for(host)
    ada, bob, cy = connect("ada"), connect("bob"), connect("cy")
    assert join(ada)["capacity"] == 2
    join(bob)
    clear(ada, bob, cy)

    ack = cy.emit("room.join", {"room": "standup"})

    assert_error(ack, "ERR_ROOM_FULL")
    assert ack["error"]["message"] == "This room is full (2 people)."
    assert_nothing(ada, bob, cy)
    assert statuses(host) == {"ada": "in_room", "bob": "in_room", "cy": "available"}
    # A second tab of a member is no extra person.
    assert join(connect("bob"))["members"] == [{**member(host, "ada"), "polite": True}]


def test_can_join_hook_refusal(
    make_host: MakeHost, connector_for: Callable[[Host], Connector]
) -> None:
    asked: list[tuple[User, str]] = []

    def can_join(user: User, room: str) -> bool:
        asked.append((user, room))
        return room != "board"

    host = make_host(can_join=can_join)
    connect = connector_for(host)
    ada, bob = connect("ada"), connect("bob")
    clear(ada, bob)

    assert_error(ada.emit("room.join", {"room": "board"}), "ERR_FORBIDDEN")

    assert asked == [(User("ada", "Ada Lovelace"), "board")]
    assert_nothing(ada, bob)
    assert len(host.rooms) == 0
    assert join(ada, "standup")["room"] == "standup"


@pytest.mark.parametrize("call_state", ["ringing", "active"])
def test_joining_a_room_during_a_call_is_refused(
    connect: Connector, host: Host, call_state: str
) -> None:
    ada, bob, cy = connect("ada"), connect("bob"), connect("cy")
    join(cy)
    ack = ada.emit("call.invite", {"to": "bob"})
    if call_state == "active":
        bob.emit("call.accept", {"call_id": ack["call_id"]})
    clear(ada, bob, cy)
    before = statuses(host)

    for tab in (ada, bob):
        assert_error(tab.emit("room.join", {"room": "standup"}), "ERR_ALREADY_IN_CALL")

    assert_nothing(ada, bob, cy)
    assert statuses(host) == before
    assert [m.id for m in host.rooms.get("standup").members] == ["cy"]  # type: ignore[union-attr]


# -- seats move: another tab, another room, a closed tab ------------------------------------


def test_a_second_tab_takes_the_seat(connect: Connector, host: Host) -> None:
    ada, bob1, bob2 = connect("ada"), connect("bob"), connect("bob")
    join(ada)
    join(bob1)
    clear(ada, bob1, bob2)

    ack = join(bob2, cam=False)

    assert ack["members"] == [{**member(host, "ada"), "polite": True}]
    assert bob1.received("room.left") == [{"room": "standup", "reason": "joined_elsewhere"}]
    assert [n for n in ada.names() if n.startswith("room.")] == [
        "room.member_left",
        "room.member_joined",
    ]
    assert ada.received("room.member_left") == [
        {"room": "standup", "id": "bob", "reason": "replaced"}
    ]
    assert ada.received("room.member_joined") == [
        {"room": "standup", "member": member(host, "bob", cam=False), "polite": False}
    ]
    assert bob2.received("room.left") == []
    # Signals now reach the new tab only, and the old tab can no longer send any.
    clear(ada, bob1, bob2)
    ada.emit("room.signal", {"room": "standup", "to": "bob", "description": OFFER})
    assert bob2.received("room.signal") == [
        {"room": "standup", "from": "ada", "description": OFFER}
    ]
    assert bob1.received("room.signal") == []
    assert_error(
        bob1.emit("room.signal", {"room": "standup", "to": "ada", "candidate": CANDIDATE}),
        "ERR_NOT_IN_ROOM",
    )
    # The old tab closing does not take the seat away.
    bob1.close()
    assert ada.received("room.member_left") == []
    assert statuses(host)["bob"] == "in_room"


@pytest.mark.parametrize("same_tab", [True, False], ids=["same-tab", "other-tab"])
def test_joining_another_room_leaves_the_first(
    connect: Connector, host: Host, same_tab: bool
) -> None:
    ada, bob1, bob2, cy = connect("ada"), connect("bob"), connect("bob"), connect("cy")
    join(ada)
    join(bob1)
    join(cy, "retro")
    clear(ada, bob1, bob2, cy)

    ack = join(bob1 if same_tab else bob2, "retro")

    assert ack["members"] == [{**member(host, "cy"), "polite": True}]
    assert ada.received("room.member_left") == [{"room": "standup", "id": "bob", "reason": "left"}]
    assert cy.received("room.member_joined")[0]["member"]["id"] == "bob"
    expected = [] if same_tab else [{"room": "standup", "reason": "joined_elsewhere"}]
    assert bob1.received("room.left") == expected
    assert [m.id for m in host.rooms.get("standup").members] == ["ada"]  # type: ignore[union-attr]


def test_closing_the_tab_leaves_the_room_at_once(
    connect: Connector, host: Host, host_signals: Sent
) -> None:
    ada, bob1, bob2 = connect("ada"), connect("bob"), connect("bob")
    join(ada)
    join(bob1)
    clear(ada, bob1, bob2)
    host_signals.clear()

    bob1.close()

    assert ada.received("room.member_left") == [
        {"room": "standup", "id": "bob", "reason": "disconnected"}
    ]
    assert statuses(host) == {"ada": "in_room", "bob": "available"}  # Bob's other tab is open
    assert ada.statuses() == [("bob", "available")]
    assert ada.offline() == []  # Bob is still online, on his other tab
    assert [(name, kw["reason"]) for name, kw in host_signals] == [("left", "disconnected")]

    ada.close()

    assert len(host.rooms) == 0


# -- relaying between members ------------------------------------------------------------


def test_room_signals_reach_only_the_addressed_member(connect: Connector) -> None:
    ada, bob, cy, dan = connect("ada"), connect("bob"), connect("cy"), connect("dan")
    for tab in (ada, bob, cy):
        join(tab)
    clear(ada, bob, cy, dan)

    ack = ada.emit("room.signal", {"room": "standup", "to": "bob", "description": OFFER})

    assert ack == {"ok": True}
    assert bob.received("room.signal") == [{"room": "standup", "from": "ada", "description": OFFER}]
    assert_nothing(ada, cy, dan)
    bob.clear()

    assert bob.emit("room.signal", {"room": "standup", "to": "cy", "candidate": CANDIDATE}) == {
        "ok": True
    }
    assert cy.received("room.signal") == [
        {"room": "standup", "from": "bob", "candidate": CANDIDATE}
    ]
    assert_nothing(ada, bob, dan)


@pytest.mark.parametrize(
    ("sender", "payload"),
    [
        ("dan", {"room": "standup", "to": "bob"}),  # in no room
        ("cy", {"room": "standup", "to": "bob"}),  # a member of another room
        ("cy", {"room": "retro", "to": "bob"}),  # naming their own room, to a stranger
        ("ada", {"room": "standup", "to": "cy"}),  # to a member of another room
        ("ada", {"room": "standup", "to": "dan"}),  # to someone in no room
        ("ada", {"room": "standup", "to": "ada"}),  # to themself
        ("ada2", {"room": "standup", "to": "bob"}),  # a member's tab without the seat
        ("ada", {"room": "nowhere", "to": "bob"}),  # no such room
    ],
    ids=[
        "non-member",
        "other-room-member",
        "other-room-named",
        "to-other-room",
        "to-non-member",
        "to-self",
        "other-tab",
        "unknown-room",
    ],
)
def test_room_signals_outside_the_room_are_refused(
    connect: Connector, sender: str, payload: dict[str, str]
) -> None:
    ada, ada2, bob, cy, dan = (
        connect("ada"),
        connect("ada"),
        connect("bob"),
        connect("cy"),
        connect("dan"),
    )
    join(ada)
    join(bob)
    join(cy, "retro")
    tabs = {"ada": ada, "ada2": ada2, "bob": bob, "cy": cy, "dan": dan}
    clear(*tabs.values())

    for inner in ({"description": OFFER}, {"candidate": CANDIDATE}):
        assert_error(tabs[sender].emit("room.signal", {**payload, **inner}), "ERR_NOT_IN_ROOM")

    assert_nothing(*tabs.values())


def test_media_state_reaches_the_others_and_late_joiners(connect: Connector, host: Host) -> None:
    ada, bob, cy = connect("ada"), connect("bob"), connect("cy")
    join(ada)
    join(bob)
    clear(ada, bob, cy)

    ack = bob.emit("room.media", {"room": "standup", "mic": False, "cam": True})

    assert ack == {"ok": True}
    assert ada.received("room.media") == [
        {"room": "standup", "id": "bob", "mic": False, "cam": True, "screen": False, "rev": 1}
    ]
    assert bob.received("room.media") == []
    assert cy.received("room.media") == []
    assert join(cy)["members"][1] == {**member(host, "bob", mic=False), "polite": True}
    assert_error(
        cy.emit("room.media", {"room": "retro", "mic": True, "cam": True}), "ERR_NOT_IN_ROOM"
    )


# -- signals for the host -----------------------------------------------------------------


def test_room_signals_for_the_host(connect: Connector, host: Host, host_signals: Sent) -> None:
    ada, bob = connect("ada"), connect("bob")

    join(ada)
    join(bob)
    join(connect("bob"))  # another tab: no signal
    join(bob, "retro")  # the first tab moves Bob to another room
    ada.emit("room.leave", {"room": "standup"})

    ada_user, bob_user = User("ada", "Ada Lovelace"), User("bob", "Bob")
    assert host_signals == [
        ("joined", {"room": "standup", "user": ada_user}),
        ("joined", {"room": "standup", "user": bob_user}),
        ("left", {"room": "standup", "user": bob_user, "reason": "left"}),
        ("joined", {"room": "retro", "user": bob_user}),
        ("left", {"room": "standup", "user": ada_user, "reason": "left"}),
    ]
