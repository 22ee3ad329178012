"""Helpers of the :class:`RoomBook` tests (``test_rooms*.py``), imported as
``tests.rooms_support``: the people and their connection ids, the book under test,
and checks of refusals."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any, Callable

import pytest

from flask_videochat import ErrorCode, ProtocolError, RoomBook, User
from flask_videochat.core.rooms import Room

if TYPE_CHECKING:
    from tests.harness import FakeClock


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


def new_book(clock: FakeClock, shared: Callable[[Any, str], Any]) -> RoomBook:
    """The book of the ``book`` fixture: 3 seats a room, the last 4 messages kept,
    as the store under test holds it (``shared``)."""
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
