"""Rooms (:class:`RoomBook`), without Socket.IO: joining, capacity, seats moving
between tabs and rooms, leaving, and seats kept for a reconnect grace. A refused
change raises :class:`ProtocolError` and changes nothing. Invitations:
``test_rooms_invitations.py``; relay, media state and chat: ``test_rooms_relay.py``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable
from unittest.mock import ANY

import pytest

from flask_videochat import ErrorCode, RoomBook, Status
from flask_videochat.core.rooms import LeaveReason
from tests.rooms_support import ADA, BOB, BOB2, CY, DAN, SID, ids, join, new_book, refused, snapshot

if TYPE_CHECKING:
    from tests.harness import FakeClock


@pytest.fixture
def book(clock: FakeClock, shared: Callable[[Any, str], Any]) -> RoomBook:
    return new_book(clock, shared)


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
    assert book.status_of("ada") is Status.IN_ROOM


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
    assert book.status_of("bob") is Status.IN_ROOM


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
