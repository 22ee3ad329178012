"""Rooms, growing a call into a room, and chat, end to end through ``/videochat``
and Flask-SocketIO's test client, under both async modes: what every browser sees
(``docs/protocol.md``, "Rooms", "Growing a call into a room", "Chat"), the relay
refusals, the host's hook and signals, and malformed events."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable, Iterator
from unittest.mock import ANY

import pytest

from flask_videochat import User, call_ended, chat_message, room_joined, room_left
from flask_videochat.core.protocol import MAX_CHAT_LENGTH
from tests.support import answered, assert_error, assert_nothing, clear, recording, statuses

#: Every test here runs on both stores: in memory, and on Redis (one process).
pytestmark = pytest.mark.parametrize("host_store", ("memory", "redis"), indirect=True)

if TYPE_CHECKING:
    from conftest import Connector, Host, MakeHost, Tab

    Peer = Callable[[str], dict[str, str]]
    Sent = list[tuple[str, dict[str, Any]]]

OFFER = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"}
CANDIDATE = {
    "candidate": "candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
    "usernameFragment": "abcd",
}


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
        **host.public(user_id), "mic": mic, "cam": cam, "screen": screen, "seat": ANY, "rev": ANY
    }


def say(tab: Tab, text: str, **where: str) -> dict[str, Any]:
    """``tab`` sends ``text`` to a room or call (``room=`` / ``call_id=``); returns
    the message."""
    ack = tab.emit("chat.send", {**where, "text": text})
    assert ack["ok"] is True, ack
    assert set(ack) == {"ok", "message"}
    return ack["message"]  # type: ignore[no-any-return]


@pytest.fixture
def host_signals(host: Host) -> Iterator[Sent]:
    """Every room, chat and ``call_ended`` signal the host app gets, in order, as
    ``(name, kwargs)``."""
    with recording(host, {"joined": room_joined, "left": room_left, "chat": chat_message,
                             "call_ended": call_ended}) as sent:
        yield sent


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

    assert bob.statuses() == [("ada", "in_call")]
    assert statuses(host) == {"ada": "in_call", "bob": "available"}
    snapshot = connect("cy").received("presence.snapshot")[0]["users"]
    assert {u["id"]: u["status"] for u in snapshot} == {"ada": "in_call", "bob": "available"}

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
    assert statuses(host) == {"ada": "in_call", "bob": "in_call", "cy": "available"}
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
    assert statuses(host)["bob"] == "in_call"


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
    assert statuses(host) == {"ada": "in_call", "bob": "available"}  # Bob's other tab is open
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


# -- chat ----------------------------------------------------------------------------------


def test_chat_in_a_room(connect: Connector, host: Host, host_signals: Sent) -> None:
    ada, bob, cy = connect("ada"), connect("bob"), connect("cy")
    join(ada)
    join(bob)
    clear(ada, bob, cy)
    host_signals.clear()
    before = int(time.time() * 1000)

    message = say(bob, "<b>hi</b> all", room="standup")

    assert message == {
        "id": message["id"],
        "from": host.public("bob"),
        "text": "<b>hi</b> all",
        "ts": message["ts"],
        "seq": 1,
    }
    assert isinstance(message["id"], str) and message["id"]
    assert before <= message["ts"] <= int(time.time() * 1000)
    relayed = [{"room": "standup", "message": message}]
    assert ada.received("chat.message") == relayed
    assert bob.received("chat.message") == relayed  # the sender's other views stay in sync
    assert cy.received("chat.message") == []
    [(name, kwargs)] = host_signals
    assert name == "chat"
    assert (kwargs["room"], kwargs["call"], kwargs["message"].text) == (
        "standup",
        None,
        "<b>hi</b> all",
    )
    # Outsiders can neither write nor read.
    clear(ada, bob)
    assert_error(cy.emit("chat.send", {"room": "standup", "text": "hello?"}), "ERR_NOT_IN_ROOM")
    assert_nothing(ada, bob, cy)


def test_chat_in_a_call(connect: Connector, host_signals: Sent) -> None:
    ada1, ada2, bob, cy = connect("ada"), connect("ada"), connect("bob"), connect("cy")
    call_id = answered(ada1, bob)
    clear(ada1, ada2, bob, cy)
    host_signals.clear()

    message = say(ada1, "can you hear me?", call_id=call_id)

    relayed = [{"call_id": call_id, "message": message}]
    assert ada1.received("chat.message") == relayed
    assert bob.received("chat.message") == relayed
    assert_nothing(ada2, cy)
    [(name, kwargs)] = host_signals
    assert (name, kwargs["room"], kwargs["call"].id) == ("chat", None, call_id)
    clear(ada1, bob)
    for tab in (ada2, cy):
        payload = {"call_id": call_id, "text": "me too"}
        assert_error(tab.emit("chat.send", payload), "ERR_CALL_NOT_FOUND")
    assert_nothing(ada1, ada2, bob, cy)


def test_no_chat_in_a_call_before_the_answer(connect: Connector) -> None:
    ada, bob = connect("ada"), connect("bob")
    call_id = ada.emit("call.invite", {"to": "bob"})["call_id"]
    clear(ada, bob)

    assert_error(ada.emit("chat.send", {"call_id": call_id, "text": "hi"}), "ERR_INVALID_STATE")
    assert_nothing(ada, bob)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("x" * (MAX_CHAT_LENGTH + 1), "ERR_TOO_LARGE"),
        ("", "ERR_INVALID_PAYLOAD"),
        ("  \n\t ", "ERR_INVALID_PAYLOAD"),
    ],
    ids=["too-long", "empty", "blank"],
)
@pytest.mark.parametrize("where", ["room", "call"])
def test_chat_text_limits(connect: Connector, host: Host, text: str, code: str, where: str) -> None:
    ada, bob = connect("ada"), connect("bob")
    if where == "room":
        join(ada)
        join(bob)
        target: dict[str, str] = {"room": "standup"}
    else:
        target = {"call_id": answered(ada, bob)}
    clear(ada, bob)

    assert_error(ada.emit("chat.send", {**target, "text": text}), code)

    assert_nothing(ada, bob)
    assert say(ada, "x" * MAX_CHAT_LENGTH, **target)["text"] == "x" * MAX_CHAT_LENGTH
    if where == "room":
        assert len(host.rooms.get("standup").history) == 1  # type: ignore[union-attr]


def test_late_joiners_get_the_last_messages(
    make_host: MakeHost, connector_for: Callable[[Host], Connector]
) -> None:
    host = make_host(config={"VIDEOCHAT_CHAT_HISTORY": 3})
    connect = connector_for(host)
    ada, bob = connect("ada"), connect("bob")
    join(ada)
    join(bob)
    sent = [say(tab, f"message {n}", room="standup") for n, tab in enumerate([ada, bob] * 3)]

    history = join(connect("cy"))["history"]

    assert history == sent[-3:]  # oldest first


def test_no_history_when_it_is_off(
    make_host: MakeHost, connector_for: Callable[[Host], Connector]
) -> None:
    host = make_host(config={"VIDEOCHAT_CHAT_HISTORY": 0})
    connect = connector_for(host)
    ada, bob = connect("ada"), connect("bob")
    join(ada)
    say(ada, "hello", room="standup")

    assert join(bob)["history"] == []
    assert bob.received("chat.message") == []


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
    assert statuses(host)["bob"] == "in_call"
    # The ring timeout then ends nothing.
    host.sleep(1.2)
    assert ada.received("room.invite_ended") == ended
    assert statuses(host)["bob"] == "in_call"


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
        "ada": "in_call",
        "bob": "in_call",
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
    assert statuses(host)["cy"] == "in_call"


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
    assert_nothing(cy, dan)


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


# -- malformed events ------------------------------------------------------------------------

#: (event, payloads, error code) for every new event; "{call}" is replaced by the id
#: of Cy and Dan's call. Each would change something if it were well formed.
MALFORMED: dict[str, tuple[str, tuple[Any, ...], str]] = {
    "join-string": ("room.join", ("standup",), "ERR_INVALID_PAYLOAD"),
    "join-no-payload": ("room.join", (), "ERR_INVALID_PAYLOAD"),
    "join-two-payloads": ("room.join", ({"room": "x"}, {"room": "x"}), "ERR_INVALID_PAYLOAD"),
    "join-bad-name": ("room.join", ({"room": "<script>"},), "ERR_INVALID_PAYLOAD"),
    "join-long-name": ("room.join", ({"room": "r" * 65},), "ERR_INVALID_PAYLOAD"),
    "join-unknown-field": ("room.join", ({"room": "x", "capacity": 9},), "ERR_INVALID_PAYLOAD"),
    "join-mic-string": ("room.join", ({"room": "x", "mic": "yes"},), "ERR_INVALID_PAYLOAD"),
    "leave-list": ("room.leave", (["standup"],), "ERR_INVALID_PAYLOAD"),
    "leave-unknown-field": (
        "room.leave",
        ({"room": "standup", "why": "bored"},),
        "ERR_INVALID_PAYLOAD",
    ),
    "signal-neither": ("room.signal", ({"room": "standup", "to": "bob"},), "ERR_INVALID_PAYLOAD"),
    "signal-both": (
        "room.signal",
        ({"room": "standup", "to": "bob", "description": OFFER, "candidate": CANDIDATE},),
        "ERR_INVALID_PAYLOAD",
    ),
    "signal-oversize-sdp": (
        "room.signal",
        ({"room": "standup", "to": "bob", "description": {"type": "offer", "sdp": "a" * 65_537}},),
        "ERR_TOO_LARGE",
    ),
    "signal-unknown-nested-field": (
        "room.signal",
        ({"room": "standup", "to": "bob", "candidate": {**CANDIDATE, "x": 1}},),
        "ERR_INVALID_PAYLOAD",
    ),
    "media-missing-cam": (
        "room.media",
        ({"room": "standup", "mic": False},),
        "ERR_INVALID_PAYLOAD",
    ),
    "media-int": (
        "room.media",
        ({"room": "standup", "mic": 0, "cam": 0},),
        "ERR_INVALID_PAYLOAD",
    ),
    "invite-no-to": ("room.invite", ({"room": "standup"},), "ERR_INVALID_PAYLOAD"),
    "invite-int-to": ("room.invite", ({"room": "standup", "to": 7},), "ERR_INVALID_PAYLOAD"),
    "decline-none": ("room.decline", (None,), "ERR_INVALID_PAYLOAD"),
    "add-no-to": ("call.add", ({"call_id": "{call}"},), "ERR_INVALID_PAYLOAD"),
    "add-unknown-field": (
        "call.add",
        ({"call_id": "{call}", "to": "bob", "room": "standup"},),
        "ERR_INVALID_PAYLOAD",
    ),
    "chat-neither": ("chat.send", ({"text": "hi"},), "ERR_INVALID_PAYLOAD"),
    "chat-both": (
        "chat.send",
        ({"room": "standup", "call_id": "{call}", "text": "hi"},),
        "ERR_INVALID_PAYLOAD",
    ),
    "chat-no-text": ("chat.send", ({"room": "standup"},), "ERR_INVALID_PAYLOAD"),
    "chat-too-long": (
        "chat.send",
        ({"call_id": "{call}", "text": "a" * (MAX_CHAT_LENGTH + 1)},),
        "ERR_TOO_LARGE",
    ),
    "chat-unknown-field": (
        "chat.send",
        ({"room": "standup", "text": "hi", "html": True},),
        "ERR_INVALID_PAYLOAD",
    ),
}


def _fill(value: Any, call_id: str) -> Any:
    if value == "{call}":
        return call_id
    if isinstance(value, dict):
        return {k: _fill(v, call_id) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, call_id) for v in value]
    return value


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_events_are_refused_and_change_nothing(
    connect: Connector, host: Host, case: str
) -> None:
    """Ada and Bob are in "standup" (Bob invited by nobody yet); Cy is in a call
    with Dan; Eve is invited into "standup". Malformed, nothing may happen."""
    event, payloads, code = MALFORMED[case]
    ada, bob, cy, dan, eve = (connect(u) for u in ("ada", "bob", "cy", "dan", "eve"))
    join(ada)
    join(bob)
    ada.emit("room.invite", {"room": "standup", "to": "eve"})
    call_id = answered(cy, dan)
    tabs = (ada, bob, cy, dan, eve)
    clear(*tabs)
    before = (statuses(host), host.rooms.get("standup"), host.book.live_call_of("cy"))
    sender = {"call.add": cy, "room.decline": eve}.get(event, ada)
    if event == "chat.send" and "{call}" in repr(payloads):
        sender = cy

    ack = sender.emit(event, *(_fill(p, call_id) for p in payloads))

    assert_error(ack, code)
    assert_nothing(*tabs)
    assert (statuses(host), host.rooms.get("standup"), host.book.live_call_of("cy")) == before
    # and the connections still work
    assert ada.emit("room.signal", {"room": "standup", "to": "bob", "description": OFFER}) == {
        "ok": True
    }
    assert cy.emit("signal", {"call_id": call_id, "description": OFFER}) == {"ok": True}
