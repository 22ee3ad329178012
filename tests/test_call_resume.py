"""Taking calls back (:meth:`CallBook.resume`), without Socket.IO: rebinding a live
call to a party's new connection, the bounded memory of ended calls, and the claims
that re-create a call after a server restart. A refused resume raises
:class:`ProtocolError` and changes nothing."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any, Callable

import pytest

from flask_videochat import Call, CallBook, CallState, EndReason, ErrorCode, ProtocolError, Status
from flask_videochat.core.call_values import CallEndedError, EndedCall, EndedCalls, ResumedCall

if TYPE_CHECKING:
    from tests.harness import FakeClock

#: Connection ids: Ada's tab and the one she came back on; Bob's two; Cy's, Dan's, Eve's.
ADA, ADA2, BOB, BOB2, CY, DAN = "sid-ada", "sid-ada-2", "sid-bob", "sid-bob-2", "sid-cy", "sid-dan"
EVE = "sid-eve"
#: The id of a call the book never saw (it was made before a server restart).
OLD = "call-before-restart"


@pytest.fixture
def book(clock: FakeClock, shared: Callable[[Any, str], Any]) -> CallBook:
    ids = itertools.count(1)
    book = CallBook(
        clock=clock,
        new_id=lambda: f"call-{next(ids)}",
        claim_window=5,
        ended_memory=60,
        max_ended=3,
    )
    return shared(book, "calls")  # type: ignore[no-any-return]


@pytest.fixture
def active(book: CallBook, clock: FakeClock) -> Call:
    """Ada (tab ``ADA``) called Bob, who answered on tab ``BOB``."""
    call = book.invite("ada", ADA, "bob")
    clock.advance(2)
    return book.accept(call.id, "bob", BOB)


def live(book: CallBook, call: Call) -> Call:
    """``call`` as the book holds it now (the book hands out snapshots, so a test
    reads what happened to a call since it got it from the book): still live."""
    now = book.live_call_of(call.caller_id)
    assert now is not None and now.id == call.id
    return now


def refused(code: ErrorCode, action: Callable[[], object]) -> ProtocolError:
    """Assert that ``action`` is refused with ``code``; returns the error."""
    with pytest.raises(ProtocolError) as info:
        action()
    assert info.value.code is code
    assert info.value.message
    return info.value


# -- rebinding a live call ----------------------------------------------------------


@pytest.mark.parametrize("who", ["caller", "callee"])
def test_a_party_back_on_a_new_connection_takes_the_call_back(
    book: CallBook, active: Call, who: str
) -> None:
    user, peer, old, new = (
        ("ada", "bob", ADA, ADA2) if who == "caller" else ("bob", "ada", BOB, BOB2)
    )
    other_sid = BOB if who == "caller" else ADA

    resumed = book.resume(active.id, user, new, peer)

    call = live(book, active)
    assert resumed.call == call
    assert resumed.previous_sid == old
    assert (resumed.matched, resumed.claim) == (None, None)
    assert call.state is CallState.ACTIVE
    assert call.sid_of(user) == new
    # Signals flow between the new connection and the other party's.
    assert book.relay_target(active.id, peer, other_sid) == (call, new)
    assert book.relay_target(active.id, user, new) == (call, other_sid)
    assert book.calls_on_connection(old) == []
    assert book.calls_on_connection(new) == [call]
    # The old connection holds nothing any more.
    refused(ErrorCode.CALL_NOT_FOUND, lambda: book.relay_target(active.id, user, old))
    refused(ErrorCode.CALL_NOT_FOUND, lambda: book.hangup(active.id, user, old))
    assert book.hangup(active.id, user, new).reason is EndReason.HANGUP


def test_resuming_twice_on_the_same_connection_changes_nothing(
    book: CallBook, active: Call
) -> None:
    first = book.resume(active.id, "ada", ADA2, "bob")

    again = book.resume(active.id, "ada", ADA2, "bob")

    assert again.call is not None and again.call.id == active.id
    assert (again.call, again.previous_sid) == (first.call, ADA2)
    assert live(book, active).caller_sid == ADA2


@pytest.mark.parametrize(
    ("user", "peer"), [("ada", "cy"), ("ada", "ada")], ids=["wrong-peer", "self-as-peer"]
)
def test_only_a_party_naming_the_other_can_take_a_call_back(
    book: CallBook, active: Call, user: str, peer: str
) -> None:
    # Not her call with that peer, and she cannot claim one: she is in a call (her
    # own state). Strangers: see test_a_call_of_others_is_an_unknown_id_to_strangers.
    refused(ErrorCode.CALL_NOT_FOUND, lambda: book.resume(active.id, user, ADA2, peer))

    assert (live(book, active).caller_sid, live(book, active).callee_sid) == (ADA, BOB)
    assert book.claim_of(user) is None
    assert book.status_of("cy") is Status.AVAILABLE


def test_a_ringing_call_cannot_be_taken_back(book: CallBook) -> None:
    call = book.invite("ada", ADA, "bob")

    refused(ErrorCode.INVALID_STATE, lambda: book.resume(call.id, "ada", ADA2, "bob"))
    refused(ErrorCode.INVALID_STATE, lambda: book.resume(call.id, "bob", BOB, "ada"))

    now = live(book, call)
    assert (now.state, now.caller_sid, now.callee_sid) == (CallState.RINGING, ADA, None)


# -- recently ended calls -------------------------------------------------------------


@pytest.mark.parametrize(
    ("end", "reason"),
    [
        (lambda b, c: b.hangup(c.id, "bob", BOB), EndReason.HANGUP),
        (lambda b, c: b.party_gone(c.id, "ada"), EndReason.PEER_DISCONNECTED),
        (lambda b, c: b.move_to_room(c.id, "bob", BOB), EndReason.MOVED_TO_ROOM),
    ],
    ids=["hangup", "peer_disconnected", "moved_to_room"],
)
def test_a_party_taking_back_an_ended_call_learns_why_it_ended(
    book: CallBook,
    active: Call,
    end: Callable[[CallBook, Call], Call | None],
    reason: EndReason,
) -> None:
    ended = end(book, active)
    assert ended is not None

    gone = refused(ErrorCode.CALL_NOT_FOUND, lambda: book.resume(active.id, "ada", ADA2, "bob"))

    assert isinstance(gone, CallEndedError)
    assert gone.reason is reason
    assert book.ended(active.id) == EndedCall(
        active.id, frozenset({"ada", "bob"}), reason, ended.ended_at or 0.0
    )
    # Nothing was recorded: Ada is free.
    assert book.claim_of("ada") is None
    assert book.status_of("ada") is Status.AVAILABLE


@pytest.mark.parametrize(("user", "peer"), [("cy", "bob"), ("ada", "cy")])
def test_an_ended_call_is_not_told_to_strangers(
    book: CallBook, active: Call, user: str, peer: str
) -> None:
    book.hangup(active.id, "ada", ADA)

    resumed = book.resume(active.id, user, CY, peer)

    # As for any unknown id: a claim, and no word of why the call ended.
    assert resumed.call is None and resumed.claim is not None
    assert book.claim_of(user) == resumed.claim


def test_ended_calls_are_forgotten_after_a_while(
    book: CallBook, active: Call, clock: FakeClock
) -> None:
    book.hangup(active.id, "ada", ADA)
    clock.advance(60)
    assert book.ended(active.id) is not None

    clock.advance(1)

    assert book.ended(active.id) is None
    # The id is then unknown, as after a restart: resuming it makes a claim.
    assert book.resume(active.id, "ada", ADA2, "bob").claim is not None


def test_only_the_last_ended_calls_are_remembered(book: CallBook) -> None:
    ended = []
    for _ in range(4):
        call = book.invite("ada", ADA, "bob")
        ended.append(book.cancel(call.id, "ada").id)

    assert book.ended(ended[0]) is None
    assert [book.ended(i) is not None for i in ended[1:]] == [True, True, True]


def test_ended_calls_memory_bounds(clock: FakeClock) -> None:
    memory = EndedCalls(limit=2, max_age=10, clock=clock)
    for n in range(3):
        memory.add(EndedCall(f"c{n}", frozenset({"ada", "bob"}), EndReason.HANGUP, clock.now))
        clock.advance(4)

    assert len(memory) == 2  # c0: too many
    assert memory.get("c0") is None
    assert memory.get("c1") is not None  # 8 s old

    clock.advance(3)

    assert memory.get("c1") is None  # 11 s old
    assert memory.get("c2") is not None
    assert len(memory) == 1


# -- claims after a server restart ------------------------------------------------------


def test_a_claim_waits_for_the_peer(book: CallBook, clock: FakeClock) -> None:
    resumed = book.resume(OLD, "ada", ADA, "bob")

    assert resumed.call is None
    claim = resumed.claim
    assert claim is not None
    assert (claim.call_id, claim.user_id, claim.sid, claim.peer_id, claim.since) == (
        OLD,
        "ada",
        ADA,
        "bob",
        clock.now,
    )
    assert book.claim_of("ada") == claim
    assert len(book) == 0
    # Ada is still talking to Bob: in a call for presence, busy for everyone else.
    assert book.status_of("ada") is Status.IN_CALL
    assert book.is_busy("ada")
    assert book.invite("cy", CY, "ada").reason is EndReason.BUSY
    refused(ErrorCode.ALREADY_IN_CALL, lambda: book.invite("ada", ADA, "cy"))
    assert book.status_of("bob") is Status.AVAILABLE


def test_the_peers_matching_claim_re_creates_the_call(book: CallBook, clock: FakeClock) -> None:
    first = book.resume(OLD, "ada", ADA, "bob").claim
    clock.advance(1)

    resumed = book.resume(OLD, "bob", BOB, "ada")

    call = resumed.call
    assert call is not None
    assert resumed.matched == first
    assert resumed.claim is None
    # The first claimant is the caller; the call is active at once.
    assert (call.id, call.state, call.caller_id, call.caller_sid) == (
        OLD,
        CallState.ACTIVE,
        "ada",
        ADA,
    )
    assert (call.callee_id, call.callee_sid) == ("bob", BOB)
    assert call.answered_at == clock.now
    assert book.claim_of("ada") is None and book.claim_of("bob") is None
    assert book.live_call_of("ada") == book.live_call_of("bob") == call
    assert book.status_of("ada") is book.status_of("bob") is Status.IN_CALL
    assert book.relay_target(OLD, "ada", ADA) == (call, BOB)
    assert book.relay_target(OLD, "bob", BOB) == (call, ADA)
    # Its duration counts from the re-creation.
    clock.advance(30)
    assert book.hangup(OLD, "ada", ADA).duration == 30


@pytest.mark.parametrize(
    ("call_id", "peer"),
    [("another-call", "ada"), (OLD, "cy")],
    ids=["other-call", "other-peer"],
)
def test_claims_that_do_not_match_wait_side_by_side(
    book: CallBook, call_id: str, peer: str
) -> None:
    book.resume(OLD, "ada", ADA, "bob")

    resumed = book.resume(call_id, "bob", BOB, peer)

    assert resumed.call is None and resumed.claim is not None
    assert book.claim_of("ada") is not None
    assert len(book) == 0


def test_a_new_claim_replaces_the_users_previous_one(book: CallBook) -> None:
    first = book.resume(OLD, "ada", ADA, "bob").claim
    assert first is not None

    second = book.resume("another-call", "ada", ADA2, "bob").claim

    assert second is not None and second.token != first.token
    assert book.claim_of("ada") == second
    assert book.expire_claim("ada", first.token) is None  # a stale timer ends nothing
    # Bob claiming the first call finds no one waiting.
    assert book.resume(OLD, "bob", BOB, "ada").call is None


@pytest.mark.parametrize(
    ("peer", "busy"),
    [
        ("ada", False),  # naming herself
        ("bob", True),  # she is in a room
    ],
    ids=["self", "busy"],
)
def test_claims_that_cannot_be_recorded(book: CallBook, peer: str, busy: bool) -> None:
    other = book.invite("cy", CY, "dan")
    accepted = book.accept(other.id, "dan", DAN)

    refused(ErrorCode.CALL_NOT_FOUND, lambda: book.resume(OLD, "ada", ADA, peer, busy=busy))

    assert book.claim_of("ada") is None
    assert book.status_of("ada") is Status.AVAILABLE
    assert book.live_call_of("cy") == accepted


def test_a_user_in_a_call_cannot_claim_another(book: CallBook, active: Call) -> None:
    refused(ErrorCode.CALL_NOT_FOUND, lambda: book.resume(OLD, "ada", ADA2, "cy"))
    assert book.claim_of("ada") is None
    assert book.live_call_of("ada") == active


def claim_seen(resumed: ResumedCall, book: CallBook, call_id: str) -> tuple[object, ...]:
    """What a resume that made a claim of ``call_id`` shows its sender and does to
    them: no call, the peer the claim names, its time, the sender's status and
    whether they are busy."""
    claim = resumed.claim
    assert resumed.call is None and claim is not None
    assert (resumed.previous_sid, resumed.matched, claim.call_id) == (None, None, call_id)
    return claim.peer_id, claim.since, book.status_of(claim.user_id), book.is_busy(claim.user_id)


@pytest.mark.parametrize("kind", ["ringing", "active", "ended"])
@pytest.mark.parametrize(
    "peer", ["bob", "ada", "dan"], ids=["naming-callee", "naming-caller", "naming-stranger"]
)
def test_a_call_of_others_is_an_unknown_id_to_strangers(
    book: CallBook, clock: FakeClock, kind: str, peer: str
) -> None:
    """Cy's ``call.resume`` of Ada and Bob's call is answered as Eve's of an id the
    book never saw, naming the same peer (a call id cannot be probed), and changes
    nothing of Ada and Bob's, now or when Cy's claim expires."""
    call = book.invite("ada", ADA, "bob")
    if kind != "ringing":
        book.accept(call.id, "bob", BOB)
    if kind == "ended":
        book.hangup(call.id, "bob", BOB)
    remembered = book.ended(call.id)

    real = book.resume(call.id, "cy", CY, peer)
    unknown = book.resume(OLD, "eve", EVE, peer)

    seen = claim_seen(real, book, call.id)
    assert seen == claim_seen(unknown, book, OLD) == (peer, clock.now, Status.IN_CALL, True)
    # Ada and Bob's call is as it was; nothing was recorded for them.
    if kind == "ended":
        assert len(book) == 0
    else:
        now = live(book, call)
        assert book.live_call_of("ada") == book.live_call_of("bob") == now
        assert (now.caller_sid, now.callee_sid) == (ADA, None if kind == "ringing" else BOB)
    assert book.ended(call.id) == remembered
    assert book.claim_of("ada") is book.claim_of("bob") is None

    # The claims expire alike; what the parties learn of their call stays.
    assert real.claim is not None and unknown.claim is not None
    clock.advance(5)
    assert book.expire_claim("cy", real.claim.token) == real.claim
    assert book.expire_claim("eve", unknown.claim.token) == unknown.claim
    assert book.status_of("cy") is book.status_of("eve") is Status.AVAILABLE
    assert book.ended(call.id) == remembered
    for args in ((call.id, "cy", CY, peer), (OLD, "eve", EVE, peer)):
        late = refused(ErrorCode.CALL_NOT_FOUND, lambda args=args: book.resume(*args))
        assert isinstance(late, CallEndedError)
        assert late.reason is EndReason.PEER_DISCONNECTED
    if kind == "ended":
        gone = refused(ErrorCode.CALL_NOT_FOUND, lambda: book.resume(call.id, "ada", ADA2, "bob"))
        assert isinstance(gone, CallEndedError) and gone.reason is EndReason.HANGUP
    elif kind == "active":
        assert book.resume(call.id, "ada", ADA2, "bob").previous_sid == ADA
    else:
        refused(ErrorCode.INVALID_STATE, lambda: book.resume(call.id, "bob", BOB, "ada"))


@pytest.mark.parametrize("kind", ["active", "ended"])
def test_no_call_is_ever_re_created_over_an_existing_id(
    book: CallBook, active: Call, clock: FakeClock, kind: str
) -> None:
    """Two strangers who both claim Ada and Bob's call id, naming each other, wait
    like claimants whose peer never came: their claims are not pairable, even once
    the book has forgotten the id."""
    if kind == "ended":
        book.hangup(active.id, "ada", ADA)
    remembered = book.ended(active.id)

    first = book.resume(active.id, "cy", CY, "dan")
    second = book.resume(active.id, "dan", DAN, "cy")

    assert first.call is second.call is None
    assert first.claim is not None and not first.claim.pairable
    assert second.claim is not None and not second.claim.pairable
    assert len(book) == (1 if kind == "active" else 0)
    assert book.ended(active.id) == remembered
    assert book.live_call_of("cy") is book.live_call_of("dan") is None
    if kind == "ended":
        # Long after, the id is forgotten: Dan's new claim is pairable, but Cy's,
        # made while the id was known, still pairs with nothing.
        clock.advance(61)
        assert book.ended(active.id) is None
        again = book.resume(active.id, "dan", DAN, "cy")
        assert again.call is None and again.claim is not None and again.claim.pairable
        assert len(book) == 0
        assert book.claim_of("cy") == first.claim


def test_a_claim_naming_a_busy_peer_is_recorded_and_changes_nothing_of_theirs(
    book: CallBook, active: Call
) -> None:
    """The peer's state never refuses a claim (it would tell whether they are
    online); the claim waits for a pairing only the peer's own resume can make."""
    resumed = book.resume(OLD, "cy", CY, "bob")

    assert resumed.call is None and resumed.claim is not None
    assert book.claim_of("cy") == resumed.claim
    assert book.status_of("cy") is Status.IN_CALL
    assert book.live_call_of("bob") == active
    assert (live(book, active).caller_sid, live(book, active).callee_sid) == (ADA, BOB)
    # Bob, in his call, cannot claim it back (his own state): nothing pairs.
    refused(ErrorCode.CALL_NOT_FOUND, lambda: book.resume(OLD, "bob", BOB2, "cy"))
    assert book.claim_of("cy") == resumed.claim and book.claim_of("bob") is None
    # Once free, Bob claiming the same call, naming Cy, is the pairing it waits for.
    book.hangup(active.id, "ada", ADA)
    call = book.resume(OLD, "bob", BOB2, "cy").call
    assert call is not None and (call.caller_id, call.callee_id) == ("cy", "bob")


def test_a_hidden_peers_claim_is_not_paired_with(book: CallBook) -> None:
    """``may_see`` says Bob is hidden from Ada: her resume naming him is answered
    as Eve's, who names Bob while he has no claim (as when he is offline); his
    claim waits on."""
    asked: list[tuple[str, str]] = []

    def may_see(viewer: str, user: str) -> bool:
        asked.append((viewer, user))
        return False

    offline = book.resume(OLD, "eve", EVE, "bob", may_see=may_see)
    assert asked == []  # Bob has no claim: nothing to ask
    bobs = book.resume(OLD, "bob", BOB, "ada").claim

    hidden = book.resume(OLD, "ada", ADA, "bob", may_see=may_see, may_pair=lambda a, b: True)

    assert asked == [("ada", "bob")]
    assert claim_seen(hidden, book, OLD) == claim_seen(offline, book, OLD)
    assert hidden.claim is not None and hidden.claim.pairable
    assert book.claim_of("bob") == bobs
    assert len(book) == 0


def test_the_pairing_check_can_refuse_a_re_creation(book: CallBook) -> None:
    asked: list[tuple[str, str]] = []

    def may_pair(caller: str, callee: str) -> bool:
        asked.append((caller, callee))
        return False

    book.resume(OLD, "ada", ADA, "bob", may_pair=may_pair)
    assert asked == []  # nothing to pair yet

    refused(
        ErrorCode.CALL_NOT_FOUND, lambda: book.resume(OLD, "bob", BOB, "ada", may_pair=may_pair)
    )

    assert asked == [("ada", "bob")]
    assert len(book) == 0
    assert book.claim_of("ada") is not None  # Ada's claim waits on, to expire
    assert book.claim_of("bob") is None


def test_an_expired_claim_ends_and_is_remembered(book: CallBook) -> None:
    claim = book.resume(OLD, "ada", ADA, "bob").claim
    assert claim is not None

    assert book.expire_claim("ada", claim.token) == claim

    assert book.claim_of("ada") is None
    assert book.status_of("ada") is Status.AVAILABLE
    assert book.expire_claim("ada", claim.token) is None
    # Remembered for Ada and Bob only, apart from real calls.
    assert book.ended(OLD) is None
    lapsed = book.lapsed(OLD, "bob", "ada")
    assert lapsed is not None and lapsed.reason is EndReason.PEER_DISCONNECTED
    assert book.lapsed(OLD, "bob", "cy") is None
    # Bob, too late, learns at once that the call is over.
    gone = refused(ErrorCode.CALL_NOT_FOUND, lambda: book.resume(OLD, "bob", BOB, "ada"))
    assert isinstance(gone, CallEndedError)
    assert gone.reason is EndReason.PEER_DISCONNECTED


def test_a_matched_claim_does_not_expire(book: CallBook) -> None:
    claim = book.resume(OLD, "ada", ADA, "bob").claim
    assert claim is not None
    call = book.resume(OLD, "bob", BOB, "ada").call

    assert book.expire_claim("ada", claim.token) is None
    assert book.live_call_of("ada") == call


def test_a_claims_connection_closing_drops_it(book: CallBook) -> None:
    claim = book.resume(OLD, "ada", ADA, "bob").claim

    assert book.drop_claim("ada", ADA2) is None  # another tab of Ada's
    assert book.drop_claim("ada", ADA) == claim

    assert book.claim_of("ada") is None
    assert book.status_of("ada") is Status.AVAILABLE
    assert book.resume(OLD, "bob", BOB, "ada").call is None  # nobody waits any more
