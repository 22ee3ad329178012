"""What room members send each other (:class:`RoomBook`), without Socket.IO: the
relay checks, media state, and chat with its history (:mod:`flask_videochat.core.chat`).
A refused change raises :class:`ProtocolError` and changes nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable
from unittest.mock import ANY

import pytest

from flask_videochat import ChatMessage, ErrorCode, RoomBook
from flask_videochat.core.chat import ChatLog, check_text, new_message
from flask_videochat.core.protocol import MAX_CHAT_LENGTH
from tests.rooms_support import ADA, BOB, BOB2, CY, SID, join, new_book, refused

if TYPE_CHECKING:
    from tests.harness import FakeClock


@pytest.fixture
def book(clock: FakeClock, shared: Callable[[Any, str], Any]) -> RoomBook:
    return new_book(clock, shared)


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
