"""Rooms (:class:`RoomBook`) and chat history (:mod:`flask_videochat.core.chat`), without
Socket.IO: joining, capacity, seats moving between tabs and rooms, leaving,
private rooms and invitations, the relay checks, media state and chat. A refused
change raises :class:`ProtocolError` and changes nothing."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any, Callable
from unittest.mock import ANY

import pytest

from flask_videochat import ChatMessage, ErrorCode, ProtocolError, RoomBook, Status, User
from flask_videochat.core.chat import ChatLog, check_text, new_message
from flask_videochat.core.protocol import MAX_CHAT_LENGTH
from flask_videochat.core.rooms import InviteEnd, LeaveReason, Room

if TYPE_CHECKING:
    from conftest import FakeClock

ADA, BOB, CY, DAN, EVE = (
    User("ada", "Ada"),
    User("bob", "Bob"),
    User("cy", "Cy"),
    User("dan", "Dan"),
    User("eve", "Eve"),
)
#: Connection ids: one tab each, and Bob's second tab.
SID = {"ada": "sid-ada", "bob": "sid-bob", "cy": "sid-cy", "dan": "sid-dan", "eve": "sid-eve"}
BOB2 = "sid-bob-2"


@pytest.fixture
def book(clock: FakeClock, shared: Callable[[Any, str], Any]) -> RoomBook:
    ids = itertools.count(1)
    book = RoomBook(
        capacity=3,
        chat_history=4,
        clock=clock,
        wall_clock=lambda: 1_700_000_000.25,
        new_id=lambda: f"id{next(ids)}",
    )
    return shared(book, "rooms")  # type: ignore[no-any-return]


def join(book: RoomBook, user: User, room: str = "standup", sid: str | None = None) -> Room:
    return book.join(room, user, sid or SID[user.id]).room


def ids(room: Room | None) -> list[str]:
    assert room is not None
    return [m.id for m in room.members]


def refused(code: ErrorCode, action: Callable[[], object]) -> str:
    """Assert that ``action`` is refused with ``code``; returns the message."""
    with pytest.raises(ProtocolError) as info:
        action()
    assert info.value.code is code
    assert info.value.message
    return info.value.message


def snapshot(book: RoomBook, *users: User) -> tuple[object, ...]:
    """Everything observable about the rooms of ``users``, to compare before and
    after a refused change."""
    rooms = {book.seat_of(u.id)[0] for u in users if book.seat_of(u.id)}  # type: ignore[index]
    return (
        sorted((name, book.get(name)) for name in rooms),
        [book.seat_of(u.id) for u in users],
        [book.invite_of(u.id) for u in users],
        [book.status_of(u.id) for u in users],
        len(book),
    )


# -- join -------------------------------------------------------------------------


def test_the_first_join_creates_the_room(book: RoomBook, clock: FakeClock) -> None:
    result = book.join("standup", ADA, SID["ada"], mic=False, cam=True)

    assert result.room.name == "standup"
    assert result.room.capacity == 3
    assert not result.room.private
    assert result.others == ()
    assert result.member.public() == {
        "id": "ada",
        "name": "Ada",
        "mic": False,
        "cam": True,
        "screen": False,
        "seat": ANY,
        "rev": 0,
    }
    assert result.member.sid == SID["ada"]
    assert result.member.joined_at == clock.now
    assert (result.replaced, result.previous, result.displaced) == (None, None, None)
    assert "standup" in book
    assert len(book) == 1
    assert book.status_of("ada") is Status.IN_CALL


def test_joiners_see_the_others_in_join_order(book: RoomBook) -> None:
    join(book, ADA)
    join(book, BOB)

    result = book.join("standup", CY, SID["cy"])

    assert [m.id for m in result.others] == ["ada", "bob"]
    assert ids(result.room) == ["ada", "bob", "cy"]


def test_a_full_room_refuses_one_more(book: RoomBook) -> None:
    for user in (ADA, BOB, CY):
        join(book, user)
    before = snapshot(book, ADA, BOB, CY, DAN)

    message = refused(ErrorCode.ROOM_FULL, lambda: book.join("standup", DAN, SID["dan"]))

    assert message == "This room is full (3 people)."
    assert snapshot(book, ADA, BOB, CY, DAN) == before
    assert book.status_of("dan") is Status.AVAILABLE
    # Another room has space.
    assert ids(join(book, DAN, "retro")) == ["dan"]


def test_the_capacity_is_at_least_two() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        RoomBook(capacity=1)


# -- seats move: another tab, another room --------------------------------------------


def test_a_second_tab_takes_the_seat_without_counting_twice(book: RoomBook) -> None:
    for user in (ADA, BOB, CY):
        join(book, user)  # full

    result = book.join("standup", BOB, BOB2, mic=False, cam=False)

    assert result.replaced is not None and result.replaced.sid == SID["bob"]
    assert result.displaced == ("standup", SID["bob"])
    assert result.previous is None
    assert [m.id for m in result.others] == ["ada", "cy"]
    assert ids(result.room) == ["ada", "cy", "bob"]
    assert book.seat_of("bob") == ("standup", result.member)
    assert (result.member.sid, result.member.mic, result.member.cam) == (BOB2, False, False)
    # The old tab no longer holds anything.
    refused(ErrorCode.NOT_IN_ROOM, lambda: book.leave("standup", "bob", SID["bob"]))
    assert book.drop_connection(SID["bob"]) is None
    assert ids(book.get("standup")) == ["ada", "cy", "bob"]


def test_the_same_tab_joining_again_is_replaced_but_not_displaced(book: RoomBook) -> None:
    join(book, ADA)
    join(book, BOB)

    result = book.join("standup", BOB, SID["bob"])

    assert result.replaced is not None
    assert result.displaced is None  # nobody to tell "room.left"
    assert ids(result.room) == ["ada", "bob"]


@pytest.mark.parametrize("same_tab", [True, False], ids=["same-tab", "other-tab"])
def test_joining_another_room_leaves_the_previous_one(book: RoomBook, same_tab: bool) -> None:
    join(book, ADA)
    join(book, BOB)
    sid = SID["bob"] if same_tab else BOB2

    result = book.join("retro", BOB, sid)

    assert result.previous is not None
    assert result.previous.reason is LeaveReason.LEFT
    assert result.previous.room.name == "standup"
    assert ids(result.previous.room) == ["ada"]
    assert not result.previous.deleted
    assert result.displaced == (None if same_tab else ("standup", SID["bob"]))
    assert ids(book.get("standup")) == ["ada"]
    assert ids(book.get("retro")) == ["bob"]
    assert book.seat_of("bob")[0] == "retro"  # type: ignore[index]


# -- leave, disconnect, empty rooms ------------------------------------------------------


def test_leave(book: RoomBook) -> None:
    join(book, ADA)
    join(book, BOB)

    departure = book.leave("standup", "ada", SID["ada"])

    assert departure.reason is LeaveReason.LEFT
    assert departure.member.id == "ada"
    assert ids(departure.room) == ["bob"]
    assert not departure.deleted
    assert book.seat_of("ada") is None
    assert book.status_of("ada") is Status.AVAILABLE


def test_the_last_one_out_deletes_the_room_and_its_chat(book: RoomBook) -> None:
    join(book, ADA)
    book.chat("standup", ADA, SID["ada"], "anyone?")

    departure = book.leave("standup", "ada", SID["ada"])

    assert departure.deleted
    assert "standup" not in book
    assert len(book) == 0
    assert book.join("standup", BOB, SID["bob"]).room.history == ()


def test_a_closed_connection_loses_its_seat(book: RoomBook) -> None:
    join(book, ADA)
    join(book, BOB)

    departure = book.drop_connection(SID["bob"])

    assert departure is not None
    assert departure.reason is LeaveReason.DISCONNECTED
    assert ids(departure.room) == ["ada"]
    assert book.drop_connection(SID["bob"]) is None
    assert book.drop_connection("sid-never-seated") is None


@pytest.mark.parametrize(
    ("room", "user", "sid"),
    [
        ("standup", "cy", "sid-cy"),  # not a member
        ("standup", "bob", BOB2),  # a member, but not on this tab
        ("retro", "bob", "sid-bob"),  # a member of another room
        ("nowhere", "bob", "sid-bob"),  # no such room
    ],
    ids=["stranger", "other-tab", "other-room", "no-room"],
)
def test_only_the_seat_holder_can_leave(book: RoomBook, room: str, user: str, sid: str) -> None:
    join(book, ADA)
    join(book, BOB)
    join(book, CY, "retro")
    before = snapshot(book, ADA, BOB, CY)

    refused(ErrorCode.NOT_IN_ROOM, lambda: book.leave(room, user, sid))

    assert snapshot(book, ADA, BOB, CY) == before


# -- kept seats: resuming, or dropping after the grace -------------------------------------


def test_seat_on_a_connection(book: RoomBook) -> None:
    member = book.join("standup", ADA, SID["ada"]).member

    assert book.seat_on(SID["ada"]) == ("standup", member)
    assert book.seat_on(BOB2) is None


def test_a_kept_seat_moves_to_the_new_connection(book: RoomBook, clock: FakeClock) -> None:
    join(book, ADA)
    clock.advance(1)
    joined = book.join("standup", BOB, SID["bob"], mic=False)
    clock.advance(1)
    join(book, CY)
    book.set_media("standup", "bob", SID["bob"], mic=False, cam=True, screen=True)
    before = book.get("standup")

    resumed = book.resume("standup", "bob", BOB2)

    assert resumed.previous.sid == SID["bob"]
    member = resumed.member
    assert (member.sid, member.mic, member.screen) == (BOB2, False, True)
    assert member.joined_at == joined.member.joined_at
    # Same people in the same order: nobody left or joined.
    assert ids(resumed.room) == ids(before) == ["ada", "bob", "cy"]
    assert [m.id for m in resumed.others] == ["ada", "cy"]
    assert book.seat_of("bob") == ("standup", member)
    assert book.seat_on(BOB2) == ("standup", member)
    assert book.seat_on(SID["bob"]) is None
    assert book.relay_target("standup", "ada", SID["ada"], "bob").sid == BOB2
    assert book.relay_target("standup", "bob", BOB2, "cy").sid == SID["cy"]
    refused(ErrorCode.NOT_IN_ROOM, lambda: book.leave("standup", "bob", SID["bob"]))
    assert book.status_of("bob") is Status.IN_CALL


def test_the_resumer_is_polite_toward_those_who_joined_before(book: RoomBook) -> None:
    for user in (ADA, BOB, CY):
        join(book, user)

    resumed = book.resume("standup", "bob", BOB2)

    assert {m.id: resumed.polite_toward(m) for m in resumed.others} == {"ada": True, "cy": False}


def test_a_kept_seat_is_dropped_when_the_grace_is_over(book: RoomBook) -> None:
    join(book, ADA)
    join(book, BOB)

    departure = book.drop_seat("standup", "bob", SID["bob"])

    assert departure is not None
    assert departure.reason is LeaveReason.DISCONNECTED
    assert departure.member.id == "bob"
    assert ids(departure.room) == ["ada"]
    assert book.seat_of("bob") is None
    assert book.drop_seat("standup", "bob", SID["bob"]) is None
    refused(ErrorCode.NOT_IN_ROOM, lambda: book.resume("standup", "bob", BOB2))


def test_the_last_kept_seat_dropped_deletes_the_room(book: RoomBook) -> None:
    join(book, ADA)

    departure = book.drop_seat("standup", "ada", SID["ada"])

    assert departure is not None and departure.deleted
    assert len(book) == 0


@pytest.mark.parametrize(
    "moved",
    [
        lambda b: b.resume("standup", "bob", BOB2),
        lambda b: b.join("standup", BOB, BOB2),
        lambda b: b.join("retro", BOB, BOB2),
    ],
    ids=["resumed", "joined-again", "joined-elsewhere"],
)
def test_a_seat_that_moved_is_not_dropped_by_the_old_grace(
    book: RoomBook, moved: Callable[[RoomBook], object]
) -> None:
    join(book, ADA)
    join(book, BOB)
    moved(book)
    before = snapshot(book, ADA, BOB)

    assert book.drop_seat("standup", "bob", SID["bob"]) is None

    assert snapshot(book, ADA, BOB) == before


def test_a_seat_keeps_its_id_when_resumed_and_gets_a_new_one_when_taken_again(
    book: RoomBook,
) -> None:
    # Browsers tell "the same seat, back on a new connection" (keep the peer
    # connection) from "a new seat of the same person" (a reload: connect anew).
    join(book, ADA)
    first = join(book, BOB).member(BOB.id)
    assert first is not None and first.seat

    resumed = book.resume("standup", BOB.id, BOB2)
    assert [m.public()["seat"] for m in resumed.room.members if m.id == BOB.id] == [first.seat]

    again = join(book, BOB, sid="sid-bob-3").member(BOB.id)
    assert again is not None and again.seat not in ("", first.seat)


@pytest.mark.parametrize(
    ("room", "user"),
    [("standup", "cy"), ("retro", "bob"), ("nowhere", "bob")],
    ids=["never-joined", "other-room", "no-room"],
)
def test_only_a_seat_that_exists_can_be_resumed(book: RoomBook, room: str, user: str) -> None:
    join(book, ADA)
    join(book, BOB)
    join(book, DAN, "retro")
    before = snapshot(book, ADA, BOB, CY, DAN)

    refused(ErrorCode.NOT_IN_ROOM, lambda: book.resume(room, user, "sid-new"))

    assert snapshot(book, ADA, BOB, CY, DAN) == before


# -- relay, media -------------------------------------------------------------------------


def test_relay_target_is_the_addressed_members_seat(book: RoomBook) -> None:
    join(book, ADA)
    join(book, BOB)

    assert book.relay_target("standup", "ada", SID["ada"], "bob").sid == SID["bob"]
    book.join("standup", BOB, BOB2)
    assert book.relay_target("standup", "ada", SID["ada"], "bob").sid == BOB2


@pytest.mark.parametrize(
    ("room", "sender", "sid", "to"),
    [
        ("standup", "cy", "sid-cy", "bob"),  # sender in another room
        ("standup", "dan", "sid-dan", "bob"),  # sender in no room
        ("standup", "ada", "sid-ada-2", "bob"),  # sender's other tab
        ("standup", "ada", "sid-ada", "cy"),  # addressee in another room
        ("standup", "ada", "sid-ada", "dan"),  # addressee in no room
        ("standup", "ada", "sid-ada", "ada"),  # addressee is the sender
        ("retro", "ada", "sid-ada", "cy"),  # the wrong room named
        ("nowhere", "ada", "sid-ada", "bob"),
    ],
    ids=[
        "sender-in-other-room",
        "sender-in-no-room",
        "sender-other-tab",
        "to-other-room",
        "to-no-room",
        "to-self",
        "wrong-room",
        "no-room",
    ],
)
def test_relay_target_refusals(book: RoomBook, room: str, sender: str, sid: str, to: str) -> None:
    join(book, ADA)
    join(book, BOB)
    join(book, CY, "retro")

    refused(ErrorCode.NOT_IN_ROOM, lambda: book.relay_target(room, sender, sid, to))


def test_an_older_media_state_never_replaces_a_newer_one(book: RoomBook) -> None:
    join(book, ADA)
    join(book, BOB)

    newer, _ = book.set_media("standup", "bob", SID["bob"], mic=False, cam=False, rev=7)
    older, _ = book.set_media("standup", "bob", SID["bob"], mic=True, cam=True, rev=6)

    assert (newer.mic, newer.cam, newer.rev) == (False, False, 7)
    assert (older.mic, older.cam, older.rev) == (False, False, 7), "the seat kept rev 7"
    later = book.join("standup", CY, SID["cy"])
    bob = next(m for m in later.others if m.id == "bob")
    assert (bob.mic, bob.cam, bob.rev) == (False, False, 7)
    same, _ = book.set_media("standup", "bob", SID["bob"], mic=True, cam=False, rev=7)
    assert (same.mic, same.rev) == (True, 7), "a state of the same revision is taken"
    numbered, _ = book.set_media("standup", "bob", SID["bob"], mic=False, cam=False)
    assert numbered.rev == 8, "a state without rev is the next one"


def test_media_state(book: RoomBook) -> None:
    join(book, ADA)
    join(book, BOB)

    member, others = book.set_media("standup", "bob", SID["bob"], mic=False, cam=True, screen=True)

    assert member.public() == {
        "id": "bob",
        "name": "Bob",
        "mic": False,
        "cam": True,
        "screen": True,
        "seat": ANY,
        "rev": 1,
    }
    assert [m.id for m in others] == ["ada"]
    # A late joiner sees it.
    late = book.join("standup", CY, SID["cy"])
    assert [m.public() for m in late.others] == [
        {"id": "ada", "name": "Ada", "mic": True, "cam": True, "screen": False, "seat": ANY,
         "rev": 0},
        {"id": "bob", "name": "Bob", "mic": False, "cam": True, "screen": True, "seat": ANY,
         "rev": 1},
    ]
    # Not announcing the screen means it is not shared.
    member, _ = book.set_media("standup", "bob", SID["bob"], mic=False, cam=True)
    assert member.screen is False
    # Only the seat's tab announces it.
    refused(
        ErrorCode.NOT_IN_ROOM,
        lambda: book.set_media("standup", "bob", BOB2, mic=True, cam=True),
    )
    assert book.seat_of("bob")[1].mic is False  # type: ignore[index]


# -- private rooms and invitations -----------------------------------------------------------


def test_a_grown_call_is_a_private_room_of_both_parties(book: RoomBook) -> None:
    history = [new_message(ADA, "hi"), new_message(BOB, "hello")]

    seated = book.create_private([(ADA, SID["ada"]), (BOB, SID["bob"])], history)

    room = seated[-1].room
    assert room.private
    assert room.name.startswith("call-")
    assert ids(room) == ["ada", "bob"]
    assert [(m.mic, m.cam) for m in room.members] == [(True, True), (True, True)]
    assert [m.text for m in room.history] == ["hi", "hello"]
    assert book.status_of("ada") is book.status_of("bob") is Status.IN_CALL


def test_a_grown_calls_room_is_not_made_again_by_name(book: RoomBook) -> None:
    # Its seats gone (the grace ran out, or the server restarted), the private room
    # of a grown call must not come back as a public room anyone knowing its name
    # could join.
    room = book.create_private([(ADA, SID["ada"]), (BOB, SID["bob"])])[-1].room
    book.leave(room.name, "ada", SID["ada"])
    book.leave(room.name, "bob", SID["bob"])
    assert book.get(room.name) is None

    refused(ErrorCode.NOT_IN_ROOM, lambda: book.join(room.name, CY, SID["cy"]))
    refused(ErrorCode.NOT_IN_ROOM, lambda: book.join(room.name, ADA, SID["ada"]))
    assert book.get(room.name) is None


def test_a_private_room_admits_only_its_parties_and_invitees(book: RoomBook) -> None:
    room = book.create_private([(ADA, SID["ada"]), (BOB, SID["bob"])])[-1].room
    before = snapshot(book, ADA, BOB, CY)

    refused(ErrorCode.FORBIDDEN, lambda: book.join(room.name, CY, SID["cy"]))
    assert snapshot(book, ADA, BOB, CY) == before

    invite = book.invite(room.name, ADA, SID["ada"], CY)
    assert invite is not None
    result = book.join(room.name, CY, SID["cy"])
    assert result.answered is not None
    assert result.answered.reason is InviteEnd.JOINED
    assert [m.id for m in result.answered.members] == ["ada", "bob"]
    assert ids(result.room) == ["ada", "bob", "cy"]
    assert book.invite_of("cy") is None
    # A party who left (or whose tab closed) may come back; so may Cy.
    book.leave(room.name, "bob", SID["bob"])
    book.drop_connection(SID["cy"])
    assert ids(join(book, BOB, room.name)) == ["ada", "bob"]
    assert ids(join(book, CY, room.name)) == ["ada", "bob", "cy"]


def test_an_invitation_rings_until_answered(book: RoomBook, clock: FakeClock) -> None:
    join(book, ADA)

    invite = book.invite("standup", ADA, SID["ada"], BOB)

    assert invite is not None
    assert (invite.room, invite.user, invite.by, invite.since) == ("standup", BOB, ADA, clock.now)
    assert book.invite_of("bob") == invite
    assert book.status_of("bob") is Status.RINGING
    assert book.get("standup").invites == (invite,)  # type: ignore[union-attr]


def test_decline(book: RoomBook) -> None:
    join(book, ADA)
    join(book, CY)
    invite = book.invite("standup", ADA, SID["ada"], BOB)

    ended = book.decline("standup", "bob")

    assert (ended.invite, ended.reason) == (invite, InviteEnd.DECLINED)
    assert [m.id for m in ended.members] == ["ada", "cy"]
    assert book.invite_of("bob") is None
    assert book.status_of("bob") is Status.AVAILABLE
    refused(ErrorCode.NOT_IN_ROOM, lambda: book.decline("standup", "bob"))
    refused(ErrorCode.NOT_IN_ROOM, lambda: book.decline("standup", "dan"))


def test_declining_a_private_room_takes_back_the_admission(book: RoomBook) -> None:
    room = book.create_private([(ADA, SID["ada"]), (BOB, SID["bob"])])[-1].room
    book.invite(room.name, ADA, SID["ada"], CY)
    book.decline(room.name, "cy")

    refused(ErrorCode.FORBIDDEN, lambda: book.join(room.name, CY, SID["cy"]))


def test_no_answer_ends_only_the_same_invitation(book: RoomBook) -> None:
    join(book, ADA)
    first = book.invite("standup", ADA, SID["ada"], BOB)
    assert first is not None
    book.decline("standup", "bob")
    second = book.invite("standup", ADA, SID["ada"], BOB)
    assert second is not None

    assert book.expire_invite(first.id, "bob") is None  # a stale timer
    assert book.invite_of("bob") == second
    ended = book.expire_invite(second.id, "bob")
    assert ended is not None and ended.reason is InviteEnd.NO_ANSWER
    assert book.invite_of("bob") is None
    assert book.expire_invite(second.id, "bob") is None


def test_an_invitee_going_offline_stops_ringing(book: RoomBook) -> None:
    join(book, ADA)
    book.invite("standup", ADA, SID["ada"], BOB)

    ended = book.drop_invite("bob")

    assert ended is not None and ended.reason is InviteEnd.NO_ANSWER
    assert book.drop_invite("bob") is None
    assert book.status_of("bob") is Status.AVAILABLE


def test_an_emptied_room_cancels_its_invitations(book: RoomBook) -> None:
    join(book, ADA)
    invite = book.invite("standup", ADA, SID["ada"], BOB)

    departure = book.leave("standup", "ada", SID["ada"])

    assert departure.deleted
    assert departure.cancelled == (invite,)
    assert book.invite_of("bob") is None
    assert book.status_of("bob") is Status.AVAILABLE


def test_joining_another_room_declines_a_pending_invitation(book: RoomBook) -> None:
    join(book, ADA)
    book.invite("standup", ADA, SID["ada"], BOB)

    result = book.join("retro", BOB, SID["bob"])

    assert result.dropped is not None
    assert result.dropped.reason is InviteEnd.DECLINED
    assert [m.id for m in result.dropped.members] == ["ada"]
    assert book.invite_of("bob") is None


@pytest.mark.parametrize("busy_as", ["in-a-call", "in-a-room", "invited"])
def test_inviting_someone_busy_rings_nothing(book: RoomBook, busy_as: str) -> None:
    join(book, ADA)
    join(book, DAN, "retro")
    if busy_as == "in-a-room":
        join(book, BOB, "retro")
    elif busy_as == "invited":
        book.invite("retro", DAN, SID["dan"], BOB)
    before = snapshot(book, ADA, BOB, DAN)

    assert book.invite("standup", ADA, SID["ada"], BOB, busy=busy_as == "in-a-call") is None

    assert snapshot(book, ADA, BOB, DAN) == before


@pytest.mark.parametrize(
    ("inviter", "sid", "invitee", "code"),
    [
        (CY, "sid-cy", DAN, ErrorCode.NOT_IN_ROOM),  # the inviter is not a member
        (BOB, BOB2, DAN, ErrorCode.NOT_IN_ROOM),  # the inviter's other tab
        (ADA, "sid-ada", ADA, ErrorCode.SELF_CALL),
        (ADA, "sid-ada", BOB, ErrorCode.INVALID_STATE),  # already a member
    ],
    ids=["stranger", "other-tab", "self", "member"],
)
def test_invitation_refusals(
    book: RoomBook, inviter: User, sid: str, invitee: User, code: ErrorCode
) -> None:
    join(book, ADA)
    join(book, BOB)
    before = snapshot(book, ADA, BOB, CY, DAN)

    refused(code, lambda: book.invite("standup", inviter, sid, invitee))

    assert snapshot(book, ADA, BOB, CY, DAN) == before


def test_inviting_into_a_full_room_is_refused(book: RoomBook) -> None:
    for user in (ADA, BOB, CY):
        join(book, user)

    refused(ErrorCode.ROOM_FULL, lambda: book.invite("standup", ADA, SID["ada"], DAN))
    assert book.invite_of("dan") is None


def test_people_being_invited_count_against_the_capacity(book: RoomBook) -> None:
    # Two members of three seats, one of them ringing Cy: nobody else may be rung,
    # or the second to accept would find the room full after clicking Accept.
    join(book, ADA)
    join(book, BOB)
    assert book.invite("standup", ADA, SID["ada"], CY) is not None

    refused(ErrorCode.ROOM_FULL, lambda: book.invite("standup", BOB, SID["bob"], DAN))
    assert book.invite_of("dan") is None
    join(book, CY)  # Cy accepts: the seat was kept for them
    assert ids(book.get("standup")) == ["ada", "bob", "cy"]


# -- chat ----------------------------------------------------------------------------------


def test_chat_messages_are_numbered_in_the_order_the_room_kept_them(book: RoomBook) -> None:
    join(book, ADA)
    join(book, BOB)
    sent = [book.chat("standup", who, SID[who.id], text)[0] for who, text in
            ((ADA, "one"), (BOB, "two"), (ADA, "three"))]
    assert [m.seq for m in sent] == [1, 2, 3]
    assert [(m.text, m.seq) for m in book.get("standup").history] == [
        ("one", 1), ("two", 2), ("three", 3)]


def test_chat_in_a_room(book: RoomBook) -> None:
    join(book, ADA)
    join(book, BOB)

    message, members = book.chat("standup", BOB, SID["bob"], "  <b>hi</b>\n")

    assert message.public() == {
        "id": message.id,
        "from": {"id": "bob", "name": "Bob"},
        "text": "  <b>hi</b>\n",  # as sent
        "ts": 1_700_000_000_250,
        "seq": 1,
    }
    assert [m.id for m in members] == ["ada", "bob"]  # the sender too
    assert book.get("standup").history == (message,)  # type: ignore[union-attr]


def test_only_seated_members_chat(book: RoomBook) -> None:
    join(book, ADA)
    join(book, CY, "retro")

    for room, user, sid in (("standup", CY, "sid-cy"), ("standup", ADA, "sid-ada-2")):
        refused(ErrorCode.NOT_IN_ROOM, lambda: book.chat(room, user, sid, "hi"))  # noqa: B023
    assert book.get("standup").history == ()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", ErrorCode.INVALID_PAYLOAD),
        (" \n\t ", ErrorCode.INVALID_PAYLOAD),
        ("x" * (MAX_CHAT_LENGTH + 1), ErrorCode.TOO_LARGE),
    ],
    ids=["empty", "blank", "too-long"],
)
def test_chat_text_limits(book: RoomBook, text: str, code: ErrorCode) -> None:
    join(book, ADA)

    refused(code, lambda: book.chat("standup", ADA, SID["ada"], text))

    assert book.get("standup").history == ()  # type: ignore[union-attr]
    assert check_text("x" * MAX_CHAT_LENGTH) == "x" * MAX_CHAT_LENGTH


def test_history_keeps_the_last_messages(book: RoomBook) -> None:
    join(book, ADA)
    for n in range(6):
        book.chat("standup", ADA, SID["ada"], f"message {n}")

    history = book.join("standup", BOB, SID["bob"]).room.history

    assert [m.text for m in history] == ["message 2", "message 3", "message 4", "message 5"]
    assert len({m.id for m in history}) == 4


def test_no_history_when_it_is_off() -> None:
    book = RoomBook(chat_history=0)
    book.join("standup", ADA, SID["ada"])
    message, _ = book.chat("standup", ADA, SID["ada"], "gone at once")

    assert isinstance(message, ChatMessage)
    assert book.join("standup", BOB, SID["bob"]).room.history == ()


def test_chat_log_is_bounded() -> None:
    log = ChatLog(2, [new_message(ADA, "one"), new_message(ADA, "two"), new_message(ADA, "3")])
    log.add(new_message(BOB, "four"))

    assert [m.text for m in log.messages()] == ["3", "four"]
    assert len(log) == 2
