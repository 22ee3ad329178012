"""What a :class:`~flask_videochat.calls.CallBook` keeps to let calls be taken back
after a dropped connection (``call.resume``): the recently ended calls and the claims
that expired (:class:`EndedCalls`), the claims made after a server restart
(:class:`Claim`), and what a resume did (:class:`ResumedCall`). Plain values, no
locking: the book holds its lock around them.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Hashable

from .protocol import ErrorCode, ProtocolError

if TYPE_CHECKING:
    from .calls import Call, EndReason

#: Most ended calls remembered for ``call.resume`` (the oldest are forgotten first).
MAX_ENDED_CALLS = 10_000
#: Least seconds an ended call is remembered; the book is given ``max(this, 2 *
#: VIDEOCHAT_RECONNECT_GRACE)``.
MIN_ENDED_MEMORY = 60.0
#: Least seconds a claim waits for the other party after a server restart; the book
#: is given ``max(this, VIDEOCHAT_RECONNECT_GRACE)``.
MIN_CLAIM_WINDOW = 5.0


@dataclass(frozen=True)
class EndedCall:
    """What is remembered of an ended call (or of a claim that expired).

    :param ended_at: the book's clock when it ended.
    """

    id: str
    parties: frozenset[str]
    reason: EndReason
    ended_at: float


def by_id(call: EndedCall) -> Hashable:
    """The key of an ended call in the book's memory of real calls: its id (a real
    call's id is never reused while it is remembered)."""
    return call.id


def by_id_and_parties(call: EndedCall) -> Hashable:
    """The key of an expired claim: its call id and its two users. A claim's id is
    chosen by a browser, and anybody may claim any id, so that claims of different
    people under one id are remembered side by side and none of them replaces
    another's (nor a real call's, which is kept apart)."""
    return (call.id, call.parties)


class EndedCalls:
    """Recently ended calls: at most ``limit`` of them, none older than ``max_age``
    seconds of ``clock``, each under ``key(call)`` (:func:`by_id` unless told
    otherwise). Not locked: the :class:`~flask_videochat.calls.CallBook` holds its
    lock.

    Example::

        ended = EndedCalls(limit=2, max_age=60, clock=time.monotonic)
        ended.add(EndedCall("c1", frozenset({"ada", "bob"}), EndReason.HANGUP, time.monotonic()))
        assert ended.get("c1").reason is EndReason.HANGUP
    """

    def __init__(
        self,
        *,
        limit: int,
        max_age: float,
        clock: Callable[[], float],
        key: Callable[[EndedCall], Hashable] = by_id,
    ) -> None:
        self._limit = limit
        self._max_age = max_age
        self._clock = clock
        self._key = key
        self._calls: OrderedDict[Hashable, EndedCall] = OrderedDict()

    def add(self, call: EndedCall) -> None:
        """Remember ``call``, forgetting the oldest ones when full or too old."""
        self._forget_old()
        key = self._key(call)
        self._calls.pop(key, None)
        self._calls[key] = call
        while len(self._calls) > self._limit:
            self._calls.popitem(last=False)

    def get(self, key: Hashable) -> EndedCall | None:
        """The ended call under ``key`` (a call id, or what ``key`` makes), or
        ``None`` when unknown or forgotten."""
        self._forget_old()
        return self._calls.get(key)

    def __len__(self) -> int:
        self._forget_old()
        return len(self._calls)

    def dump_state(self) -> list[EndedCall]:
        """The remembered calls, oldest first (for a shared store)."""
        return list(self._calls.values())

    def load_state(self, calls: list[EndedCall]) -> None:
        """Replace the remembered calls with what :meth:`dump_state` gave."""
        self._calls = OrderedDict((self._key(c), c) for c in calls)

    def _forget_old(self) -> None:
        oldest = self._clock() - self._max_age
        while self._calls:
            first = next(iter(self._calls.values()))
            if first.ended_at >= oldest:
                break
            self._calls.popitem(last=False)


@dataclass(frozen=True)
class Claim:
    """A party's ``call.resume`` for a call the book does not know (the server
    restarted): ``user_id`` on connection ``sid`` says they were in call ``call_id``
    with ``peer_id``. It waits for the peer's matching claim until the namespace
    expires it (:meth:`~flask_videochat.calls.CallBook.expire_claim`).

    :param since: the book's clock when it was made.
    :param token: tells this claim from a later one by the same user, so that a stale
        expiry timer ends nothing.
    :param pairable: whether the claim may re-create its call. ``False`` when
        ``call_id`` was, as the claim was made, a live or remembered call of other
        people: the claim then waits and expires like any other (its claimant cannot
        tell the id from an unknown one), but no call is ever made over that id.
    """

    call_id: str
    user_id: str
    sid: str
    peer_id: str
    since: float
    token: int
    #: A default, so that claims pickled by an older version (on Redis) load.
    pairable: bool = True


@dataclass(frozen=True)
class ResumedCall:
    """What :meth:`~flask_videochat.calls.CallBook.resume` did: one of three outcomes.

    - **rebound**: ``call`` is the live call, now held by the resumer's connection;
      ``previous_sid`` held it before.
    - **re-created**: ``call`` is new and active, the resumer its callee;
      ``matched`` is the peer's claim (its connection is the caller's).
    - **pending**: ``call`` is ``None``; ``claim`` is the resumer's recorded claim.
    """

    call: Call | None
    previous_sid: str | None = None
    matched: Claim | None = None
    claim: Claim | None = None


class CallEndedError(ProtocolError):
    """``call.resume`` of a call that ended recently: ``ERR_CALL_NOT_FOUND``, with
    the :attr:`reason` it ended for (which the sender's browser is told)."""

    def __init__(self, reason: EndReason) -> None:
        super().__init__(ErrorCode.CALL_NOT_FOUND, "That call has ended.")
        self.reason = reason
