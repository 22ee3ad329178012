"""The call state machine (:class:`CallBook`), without Socket.IO: every transition,
legal and illegal. A refused transition raises :class:`ProtocolError` and changes
nothing."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any, Callable

import pytest

from flask_videochat import (
    Call,
    CallBook,
    CallState,
    EndReason,
    ErrorCode,
    ProtocolError,
    Status,
    User,
)

if TYPE_CHECKING:
    from tests.harness import FakeClock

#: Connection ids: Ada's tab; Bob's two tabs; Cy's tab.
ADA, BOB, BOB2, CY = "sid-ada", "sid-bob", "sid-bob-2", "sid-cy"


@pytest.fixture
def book(clock: FakeClock, shared: Callable[[Any, str], Any]) -> CallBook:
    ids = itertools.count(1)
    return shared(CallBook(clock=clock, new_id=lambda: f"call-{next(ids)}"), "calls")  # type: ignore[no-any-return]


@pytest.fixture
def ringing(book: CallBook) -> Call:
    """Ada (tab ``ADA``) is calling Bob, who has not answered."""
    return book.invite("ada", ADA, "bob")


@pytest.fixture
def active(book: CallBook, ringing: Call, clock: FakeClock) -> Call:
    """Bob answered Ada's call on tab ``BOB`` at t=110."""
    clock.advance(10)
    return book.accept(ringing.id, "bob", BOB)


def refused(code: ErrorCode, action: Callable[[], object]) -> None:
    """Assert that ``action`` is refused with ``code``."""
    with pytest.raises(ProtocolError) as info:
        action()
    assert info.value.code is code
    assert info.value.message


def live(book: CallBook, call: Call) -> Call:
    """``call`` as the book holds it now (the book hands out snapshots, so a test
    reads what happened to a call since it got it from the book): still live."""
    now = book.live_call_of(call.caller_id)
    assert now is not None and now.id == call.id
    return now


def assert_free(book: CallBook, *user_ids: str) -> None:
    """The users have no live call, so they can call (and be called) again."""
    for user_id in user_ids:
        assert book.live_call_of(user_id) is None
        assert book.status_of(user_id) is Status.AVAILABLE


# -- invite -------------------------------------------------------------------


def test_invite_books_a_ringing_call_for_both(book: CallBook, clock: FakeClock) -> None:
    call = book.invite("ada", ADA, "bob")

    assert (call.id, call.state, call.caller_id, call.caller_sid, call.callee_id) == (
        "call-1",
        CallState.RINGING,
        "ada",
        ADA,
        "bob",
    )
    assert call.callee_sid is None
    assert call.created_at == clock.now
    assert len(book) == 1
    assert book.live_call_of("ada") == call
    assert book.live_call_of("bob") == call
    assert book.status_of("ada") is book.status_of("bob") is Status.RINGING


def test_default_call_ids_are_unguessable_and_distinct() -> None:
    book = CallBook()
    first = book.invite("ada", ADA, "bob")
    second = book.invite("cy", CY, "dan")
    assert first.id != second.id
    assert len(first.id) >= 16


def test_calling_yourself_is_refused(book: CallBook) -> None:
    refused(ErrorCode.SELF_CALL, lambda: book.invite("ada", ADA, "ada"))
    assert len(book) == 0
    assert_free(book, "ada")


@pytest.mark.parametrize("answered", [False, True], ids=["ringing", "in-call"])
@pytest.mark.parametrize("caller", ["ada", "bob"], ids=["as-caller", "as-callee"])
def test_a_user_with_a_live_call_cannot_start_another(
    book: CallBook, ringing: Call, answered: bool, caller: str
) -> None:
    if answered:
        book.accept(ringing.id, "bob", BOB)
    state = live(book, ringing).state

    refused(ErrorCode.ALREADY_IN_CALL, lambda: book.invite(caller, "sid-x", "cy"))

    assert len(book) == 1
    assert live(book, ringing).state is state
    assert_free(book, "cy")


@pytest.mark.parametrize("answered", [False, True], ids=["callee-ringing", "callee-in-call"])
def test_calling_a_busy_user_ends_at_once_and_books_nothing(
    book: CallBook, ringing: Call, answered: bool
) -> None:
    if answered:
        book.accept(ringing.id, "bob", BOB)
    state = live(book, ringing).state

    busy = book.invite("cy", CY, "bob")

    assert busy.state is CallState.ENDED
    assert busy.reason is EndReason.BUSY
    assert busy.duration == 0.0
    assert busy.id != ringing.id
    assert len(book) == 1
    assert_free(book, "cy")
    bobs = book.live_call_of("bob")
    assert bobs is not None and bobs.id == ringing.id
    assert bobs.state is state
    assert bobs.reason is None


def test_calling_a_user_busy_in_a_room_ends_at_once_and_books_nothing(book: CallBook) -> None:
    busy = book.invite("ada", ADA, "bob", callee_busy=True)

    assert (busy.state, busy.reason) == (CallState.ENDED, EndReason.BUSY)
    assert len(book) == 0
    assert_free(book, "ada", "bob")


# -- accept -------------------------------------------------------------------


def test_the_callee_accepts_on_one_tab(book: CallBook, ringing: Call, clock: FakeClock) -> None:
    clock.advance(3)
    call = book.accept(ringing.id, "bob", BOB)

    assert call.id == ringing.id
    assert call.state is CallState.ACTIVE
    assert call.callee_sid == BOB
    assert call.answered_at == clock.now
    assert book.status_of("ada") is book.status_of("bob") is Status.IN_CALL


def test_the_caller_cannot_accept_their_own_call(book: CallBook, ringing: Call) -> None:
    refused(ErrorCode.CALL_NOT_FOUND, lambda: book.accept(ringing.id, "ada", ADA))
    assert live(book, ringing).state is CallState.RINGING
    assert live(book, ringing).callee_sid is None


def test_a_second_accept_from_another_tab_is_refused(book: CallBook, active: Call) -> None:
    refused(ErrorCode.INVALID_STATE, lambda: book.accept(active.id, "bob", BOB2))
    assert live(book, active).callee_sid == BOB
    assert live(book, active).state is CallState.ACTIVE


def test_accepting_an_unknown_call_is_refused(book: CallBook, ringing: Call) -> None:
    refused(ErrorCode.CALL_NOT_FOUND, lambda: book.accept("no-such-call", "bob", BOB))
    assert live(book, ringing).state is CallState.RINGING


# -- decline, cancel ----------------------------------------------------------------


def test_the_callee_declines(book: CallBook, ringing: Call, clock: FakeClock) -> None:
    call = book.decline(ringing.id, "bob")

    assert call.state is CallState.ENDED
    assert call.reason is EndReason.DECLINED
    assert call.ended_at == clock.now
    assert call.duration == 0.0
    assert len(book) == 0
    assert_free(book, "ada", "bob")


def test_the_caller_cannot_decline(book: CallBook, ringing: Call) -> None:
    refused(ErrorCode.CALL_NOT_FOUND, lambda: book.decline(ringing.id, "ada"))
    assert live(book, ringing).state is CallState.RINGING


def test_declining_an_answered_call_is_refused(book: CallBook, active: Call) -> None:
    refused(ErrorCode.INVALID_STATE, lambda: book.decline(active.id, "bob"))
    assert live(book, active).state is CallState.ACTIVE
    assert book.status_of("bob") is Status.IN_CALL


def test_the_caller_cancels(book: CallBook, ringing: Call) -> None:
    call = book.cancel(ringing.id, "ada")

    assert call.state is CallState.ENDED
    assert call.reason is EndReason.CANCELLED
    assert len(book) == 0
    assert_free(book, "ada", "bob")


def test_the_callee_cannot_cancel(book: CallBook, ringing: Call) -> None:
    refused(ErrorCode.CALL_NOT_FOUND, lambda: book.cancel(ringing.id, "bob"))
    assert live(book, ringing).state is CallState.RINGING
    assert len(book) == 1


def test_cancelling_an_answered_call_is_refused(book: CallBook, active: Call) -> None:
    refused(ErrorCode.INVALID_STATE, lambda: book.cancel(active.id, "ada"))
    assert live(book, active).state is CallState.ACTIVE


# -- hangup -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user_id", "sid", "reason"),
    [("ada", ADA, EndReason.CANCELLED), ("bob", BOB2, EndReason.DECLINED)],
    ids=["caller-cancels", "callee-declines"],
)
def test_hanging_up_a_ringing_call(
    book: CallBook, ringing: Call, user_id: str, sid: str, reason: EndReason
) -> None:
    call = book.hangup(ringing.id, user_id, sid)

    assert call.state is CallState.ENDED
    assert call.reason is reason
    assert len(book) == 0
    assert_free(book, "ada", "bob")


@pytest.mark.parametrize(("user_id", "sid"), [("ada", ADA), ("bob", BOB)])
def test_hanging_up_an_answered_call_records_its_duration(
    book: CallBook, active: Call, clock: FakeClock, user_id: str, sid: str
) -> None:
    clock.advance(62.5)
    call = book.hangup(active.id, user_id, sid)

    assert call.state is CallState.ENDED
    assert call.reason is EndReason.HANGUP
    assert call.duration == 62.5
    assert isinstance(call.duration, float)
    assert len(book) == 0
    assert_free(book, "ada", "bob")


@pytest.mark.parametrize(
    ("user_id", "sid"),
    [("bob", BOB2), ("ada", "sid-ada-2")],
    ids=["callee-other-tab", "caller-other-tab"],
)
def test_only_the_connection_holding_the_call_can_hang_it_up(
    book: CallBook, active: Call, user_id: str, sid: str
) -> None:
    refused(ErrorCode.CALL_NOT_FOUND, lambda: book.hangup(active.id, user_id, sid))
    assert live(book, active).state is CallState.ACTIVE
    assert book.status_of("ada") is Status.IN_CALL


def test_hanging_up_an_unknown_call_is_refused(book: CallBook, active: Call) -> None:
    refused(ErrorCode.CALL_NOT_FOUND, lambda: book.hangup("no-such-call", "ada", ADA))
    assert live(book, active).state is CallState.ACTIVE


# -- ring timeout, party gone ---------------------------------------------------------


def test_a_call_nobody_answers_expires_with_no_answer(book: CallBook, ringing: Call) -> None:
    call = book.expire(ringing.id)

    assert call is not None and call.id == ringing.id
    assert call.state is CallState.ENDED
    assert call.reason is EndReason.NO_ANSWER
    assert len(book) == 0
    assert_free(book, "ada", "bob")


def test_the_ring_timeout_does_not_end_an_answered_call(book: CallBook, active: Call) -> None:
    assert book.expire(active.id) is None
    assert live(book, active).state is CallState.ACTIVE
    assert book.status_of("bob") is Status.IN_CALL


def test_the_ring_timeout_of_an_ended_call_does_nothing(book: CallBook, ringing: Call) -> None:
    book.decline(ringing.id, "bob")
    assert book.expire(ringing.id) is None
    ended = book.ended(ringing.id)
    assert ended is not None and ended.reason is EndReason.DECLINED


@pytest.mark.parametrize("answered", [False, True], ids=["ringing", "active"])
@pytest.mark.parametrize("gone", ["ada", "bob"])
def test_a_party_gone_ends_the_call(
    book: CallBook, ringing: Call, clock: FakeClock, answered: bool, gone: str
) -> None:
    if answered:
        book.accept(ringing.id, "bob", BOB)
        clock.advance(4)

    call = book.party_gone(ringing.id, gone)

    assert call is not None and call.id == ringing.id
    assert call.state is CallState.ENDED
    assert call.reason is EndReason.PEER_DISCONNECTED
    assert call.duration == (4.0 if answered else 0.0)
    assert len(book) == 0
    assert_free(book, "ada", "bob")


def test_party_gone_for_an_ended_call_or_a_stranger_does_nothing(
    book: CallBook, ringing: Call
) -> None:
    assert book.party_gone(ringing.id, "cy") is None
    assert live(book, ringing).state is CallState.RINGING
    book.cancel(ringing.id, "ada")
    assert book.party_gone(ringing.id, "bob") is None
    ended = book.ended(ringing.id)
    assert ended is not None and ended.reason is EndReason.CANCELLED


# -- growing into a room ----------------------------------------------------------------


def test_a_call_moved_to_a_room_ends_with_its_duration(
    book: CallBook, active: Call, clock: FakeClock
) -> None:
    clock.advance(61)

    call = book.move_to_room(active.id, "bob", BOB)

    assert call.id == active.id
    assert (call.state, call.reason) == (CallState.ENDED, EndReason.MOVED_TO_ROOM)
    assert call.duration == 61
    assert len(book) == 0
    assert_free(book, "ada", "bob")


def test_only_the_connections_holding_an_active_call_move_it(book: CallBook, ringing: Call) -> None:
    refused(ErrorCode.INVALID_STATE, lambda: book.move_to_room(ringing.id, "ada", ADA))
    accepted = book.accept(ringing.id, "bob", BOB)
    for user_id, sid in (("bob", BOB2), ("cy", CY), ("ada", "sid-ada-2")):
        refused(
            ErrorCode.CALL_NOT_FOUND,
            lambda: book.move_to_room(ringing.id, user_id, sid),  # noqa: B023
        )
    assert live(book, ringing).state is CallState.ACTIVE
    assert book.live_call_of("ada") == accepted


# -- chat -------------------------------------------------------------------------------


def test_chat_in_a_call_keeps_the_last_messages(clock: FakeClock) -> None:
    book = CallBook(clock=clock, chat_history=2, wall_clock=lambda: 1_700_000_000.0)
    call = book.invite("ada", ADA, "bob")
    book.accept(call.id, "bob", BOB)
    ada, bob = User("ada", "Ada"), User("bob", "Bob")

    for sender, sid, text in ((ada, ADA, "one"), (bob, BOB, "two"), (ada, ADA, "three")):
        same, message = book.chat(call.id, sender, sid, text)
        assert same.id == call.id
        assert message.sender == sender
        assert message.ts == 1_700_000_000_000

    assert [m.text for m in live(book, call).chat] == ["two", "three"]


def test_chat_in_a_call_is_refused_before_the_answer_and_to_strangers(
    book: CallBook, ringing: Call
) -> None:
    ada, cy = User("ada", "Ada"), User("cy", "Cy")
    refused(ErrorCode.INVALID_STATE, lambda: book.chat(ringing.id, ada, ADA, "hi"))
    book.accept(ringing.id, "bob", BOB)
    refused(ErrorCode.CALL_NOT_FOUND, lambda: book.chat(ringing.id, cy, CY, "hi"))
    refused(ErrorCode.CALL_NOT_FOUND, lambda: book.chat(ringing.id, ada, "sid-ada-2", "hi"))
    refused(ErrorCode.INVALID_PAYLOAD, lambda: book.chat(ringing.id, ada, ADA, "   "))
    assert len(live(book, ringing).chat) == 0


# -- strangers --------------------------------------------------------------------


@pytest.mark.parametrize("answered", [False, True], ids=["ringing", "active"])
@pytest.mark.parametrize(
    "action",
    [
        lambda b, call_id: b.accept(call_id, "cy", CY),
        lambda b, call_id: b.decline(call_id, "cy"),
        lambda b, call_id: b.cancel(call_id, "cy"),
        lambda b, call_id: b.hangup(call_id, "cy", CY),
        lambda b, call_id: b.relay_target(call_id, "cy", CY),
    ],
    ids=["accept", "decline", "cancel", "hangup", "relay"],
)
def test_a_third_user_cannot_touch_the_call(
    book: CallBook,
    ringing: Call,
    answered: bool,
    action: Callable[[CallBook, str], object],
) -> None:
    if answered:
        book.accept(ringing.id, "bob", BOB)
    state = live(book, ringing).state

    refused(ErrorCode.CALL_NOT_FOUND, lambda: action(book, ringing.id))

    assert live(book, ringing).state is state
    assert live(book, ringing).reason is None
    assert_free(book, "cy")


# -- signaling relay ----------------------------------------------------------------


def test_no_signals_before_the_answer(book: CallBook, ringing: Call) -> None:
    refused(ErrorCode.INVALID_STATE, lambda: book.relay_target(ringing.id, "ada", ADA))
    refused(ErrorCode.INVALID_STATE, lambda: book.relay_target(ringing.id, "bob", BOB))


def test_signals_go_to_the_other_partys_connection(book: CallBook, active: Call) -> None:
    assert book.relay_target(active.id, "ada", ADA) == (active, BOB)
    assert book.relay_target(active.id, "bob", BOB) == (active, ADA)


@pytest.mark.parametrize(
    ("user_id", "sid"),
    [("bob", BOB2), ("ada", "sid-ada-2")],
    ids=["callee-other-tab", "caller-other-tab"],
)
def test_a_tab_not_holding_the_call_cannot_signal(
    book: CallBook, active: Call, user_id: str, sid: str
) -> None:
    refused(ErrorCode.CALL_NOT_FOUND, lambda: book.relay_target(active.id, user_id, sid))


def test_no_signals_after_the_end(book: CallBook, active: Call) -> None:
    book.hangup(active.id, "ada", ADA)
    refused(ErrorCode.CALL_NOT_FOUND, lambda: book.relay_target(active.id, "bob", BOB))


# -- queries ---------------------------------------------------------------------


def test_status_follows_the_call(book: CallBook) -> None:
    assert_free(book, "ada", "bob", "cy")
    call = book.invite("ada", ADA, "bob")
    assert [book.status_of(u) for u in ("ada", "bob", "cy")] == [
        Status.RINGING,
        Status.RINGING,
        Status.AVAILABLE,
    ]
    book.accept(call.id, "bob", BOB)
    assert [book.status_of(u) for u in ("ada", "bob", "cy")] == [
        Status.IN_CALL,
        Status.IN_CALL,
        Status.AVAILABLE,
    ]
    book.hangup(call.id, "bob", BOB)
    assert_free(book, "ada", "bob", "cy")


ENDINGS: dict[str, Callable[[CallBook, Call], object]] = {
    "declined": lambda b, c: b.decline(c.id, "bob"),
    "cancelled": lambda b, c: b.cancel(c.id, "ada"),
    "no_answer": lambda b, c: b.expire(c.id),
    "peer_disconnected": lambda b, c: b.party_gone(c.id, "ada"),
    "hangup": lambda b, c: (b.accept(c.id, "bob", BOB), b.hangup(c.id, "ada", ADA)),
}


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_ended_calls_are_dropped_so_the_same_people_can_call_again(
    book: CallBook, ringing: Call, ending: str
) -> None:
    ENDINGS[ending](book, ringing)

    ended = book.ended(ringing.id)
    assert ended is not None and ended.reason is EndReason(ending)
    assert len(book) == 0
    assert_free(book, "ada", "bob")
    again = book.invite("bob", BOB, "ada")
    assert again.state is CallState.RINGING
    assert again.id != ringing.id
    assert len(book) == 1


def test_calls_on_connection(book: CallBook, ringing: Call) -> None:
    other = book.invite("cy", CY, "dan")
    assert book.calls_on_connection(ADA) == [ringing]
    assert book.calls_on_connection(CY) == [other]
    # A ringing callee holds no call on any tab yet.
    assert book.calls_on_connection(BOB) == []

    accepted = book.accept(ringing.id, "bob", BOB)
    assert book.calls_on_connection(BOB) == [accepted]
    assert book.calls_on_connection(BOB2) == []

    book.hangup(ringing.id, "bob", BOB)
    assert book.calls_on_connection(ADA) == []
    assert book.calls_on_connection(BOB) == []
    assert book.calls_on_connection(CY) == [other]
