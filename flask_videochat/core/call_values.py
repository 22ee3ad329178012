"""What a :class:`~flask_videochat.core.calls.CallBook` keeps to let calls be taken back
after a dropped connection (``call.resume``): the recently ended calls and the claims
that expired (:class:`EndedCalls`), the claims made after a server restart
(:class:`Claim`), and what a resume did (:class:`ResumedCall`). Plain values, no
locking: the book holds its lock around them.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from enum import Enum
from typing import Callable, Hashable

from .chat import ChatMessage
from .protocol import ErrorCode, ProtocolError

#: Messages a call keeps when its book is not told otherwise.
DEFAULT_CHAT_HISTORY = 50


class CallState(str, Enum):
    """Where a call is in its life."""

    RINGING = "ringing"
    ACTIVE = "active"
    ENDED = "ended"


class EndReason(str, Enum):
    """Why a call ended; sent to every party in ``call.ended``."""

    DECLINED = "declined"
    CANCELLED = "cancelled"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    HANGUP = "hangup"
    PEER_DISCONNECTED = "peer_disconnected"
    #: The call grew into a room (``call.add``); both parties are members of it
    #: and keep their peer connection.
    MOVED_TO_ROOM = "moved_to_room"
    #: Answered, but the browsers could not connect to each other (no ICE candidate
    #: pair worked, even after an ICE restart): a party's widget gave up
    #: (``call.hangup`` with this reason).
    CONNECT_FAILED = "connect_failed"

    @classmethod
    def from_hangup(cls, reason: str | None) -> EndReason:
        """The reason of a ``call.hangup`` carrying ``reason`` (``None``: a hang-up)."""
        return cls.CONNECT_FAILED if reason == cls.CONNECT_FAILED.value else cls.HANGUP


#: Reason sent to the callee's other tabs when one tab answers (not a call end).
ANSWERED_ELSEWHERE = "answered_elsewhere"


@dataclass(frozen=True)
class Call:
    """One 1:1 call as it was when the book handed it out (a snapshot: the book
    changes its own record, never this). Times are seconds from the book's clock
    (monotonic). Handlers and the host's signal receivers get these."""

    id: str
    caller_id: str
    caller_sid: str
    callee_id: str
    created_at: float
    state: CallState = CallState.RINGING
    #: The callee tab that answered; ``None`` while ringing on every tab.
    callee_sid: str | None = None
    answered_at: float | None = None
    ended_at: float | None = None
    reason: EndReason | None = None
    #: The last chat messages of the call (oldest first), carried into the room it
    #: may grow into.
    chat: tuple[ChatMessage, ...] = field(default=(), repr=False, compare=False)

    @property
    def duration(self) -> float:
        """Seconds between answer and end (``0.0`` for a call never answered)."""
        if self.answered_at is None or self.ended_at is None:
            return 0.0
        return self.ended_at - self.answered_at

    def has_party(self, user_id: str) -> bool:
        """Whether ``user_id`` is the caller or the callee."""
        return user_id in (self.caller_id, self.callee_id)

    def other(self, user_id: str) -> str:
        """The user id of the other party."""
        return self.callee_id if user_id == self.caller_id else self.caller_id

    def sid_of(self, user_id: str) -> str | None:
        """The connection holding the call for ``user_id`` (``None``: callee ringing)."""
        return self.caller_sid if user_id == self.caller_id else self.callee_sid



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
    otherwise). Not locked: the :class:`~flask_videochat.core.calls.CallBook` holds its
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
    expires it (:meth:`~flask_videochat.core.calls.CallBook.expire_claim`).

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
    """What :meth:`~flask_videochat.core.calls.CallBook.resume` did: one of three outcomes.

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
