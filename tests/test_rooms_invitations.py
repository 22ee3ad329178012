"""Private rooms and invitations (:class:`RoomBook`), without Socket.IO: a grown
call's private room, ringing, declining, no answer, busy invitees, the refusals and
the capacity. A refused change raises :class:`ProtocolError` and changes
nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import pytest

from flask_videochat import ErrorCode, RoomBook, Status, User
from flask_videochat.core.chat import new_message
from flask_videochat.core.rooms import InviteEnd
from tests.rooms_support import ADA, BOB, BOB2, CY, DAN, SID, ids, join, new_book, refused, snapshot

if TYPE_CHECKING:
    from tests.harness import FakeClock


@pytest.fixture
def book(clock: FakeClock, shared: Callable[[Any, str], Any]) -> RoomBook:
    return new_book(clock, shared)


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
    assert book.status_of("ada") is book.status_of("bob") is Status.IN_ROOM


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
