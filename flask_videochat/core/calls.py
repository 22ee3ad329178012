"""The server-side call state machine, in plain Python (no Socket.IO here).

The server is authoritative for every call::

    invite -> RINGING --accept--> ACTIVE --hangup / party gone--> ENDED
                 |                    |--grown into a room--> ENDED (moved_to_room)
                 |--decline / cancel / ring timeout / party gone--> ENDED
    invite to a user who is ringing, in a call or in a room -> ENDED (busy) at once

:class:`CallBook` holds the live calls and applies transitions; each method returns
the :class:`Call` it changed, or raises :class:`~flask_videochat.core.protocol.ProtocolError`
and changes nothing. Ended calls are dropped from the book; only their id, parties
and reason are remembered for a while
(:class:`~flask_videochat.core.call_values.EndedCalls`, bounded in size and age),
so that a party coming back with ``call.resume`` learns why the call ended.

A party whose connection dropped takes an active call back on a new connection with
:meth:`CallBook.resume`. After a server restart the book knows no call: each party's
``call.resume`` is then a :class:`~flask_videochat.core.call_values.Claim`, and two
matching claims re-create the call, active, between the claimants' connections.
Anybody else's ``call.resume`` of a call id is answered as for an id the book does
not know, so that it can probe neither call ids nor other people's presence.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from .call_values import (
    ANSWERED_ELSEWHERE,
    DEFAULT_CHAT_HISTORY,
    MAX_ENDED_CALLS,
    MIN_ENDED_MEMORY,
    Call,
    CallEndedError,
    CallState,
    Claim,
    EndedCall,
    EndedCalls,
    EndReason,
    ResumedCall,
    by_id_and_parties,
)
from .chat import ChatLog, ChatMessage, new_message
from .presence import Status, User
from .protocol import ErrorCode, ProtocolError

__all__ = ["ANSWERED_ELSEWHERE", "Call", "CallBook", "CallEndedError", "CallState", "EndReason"]


@dataclass
class _Record:
    """A live call as the book keeps it (mutable, under the book's lock); handlers
    and signal receivers get :class:`Call` snapshots of it."""

    id: str
    caller_id: str
    caller_sid: str
    callee_id: str
    created_at: float
    state: CallState = CallState.RINGING
    callee_sid: str | None = None
    answered_at: float | None = None
    ended_at: float | None = None
    reason: EndReason | None = None
    chat: ChatLog = field(
        default_factory=lambda: ChatLog(DEFAULT_CHAT_HISTORY), repr=False, compare=False
    )

    def has_party(self, user_id: str) -> bool:
        return user_id in (self.caller_id, self.callee_id)

    def other(self, user_id: str) -> str:
        return self.callee_id if user_id == self.caller_id else self.caller_id

    def sid_of(self, user_id: str) -> str | None:
        return self.caller_sid if user_id == self.caller_id else self.callee_sid

    def snapshot(self) -> Call:
        """This call as it is now, frozen."""
        return Call(
            id=self.id,
            caller_id=self.caller_id,
            caller_sid=self.caller_sid,
            callee_id=self.callee_id,
            created_at=self.created_at,
            state=self.state,
            callee_sid=self.callee_sid,
            answered_at=self.answered_at,
            ended_at=self.ended_at,
            reason=self.reason,
            chat=tuple(self.chat.messages()),
        )


def _not_found() -> ProtocolError:
    return ProtocolError(ErrorCode.CALL_NOT_FOUND, "That call does not exist or has ended.")


class CallBook:
    """The live calls of one app, safe across threads.

    :param clock: returns seconds; :func:`time.monotonic` unless a test passes its own.
    :param new_id: makes call ids; 16 random URL-safe bytes unless a test passes its own.
    :param chat_history: chat messages each call keeps (``VIDEOCHAT_CHAT_HISTORY``).
    :param wall_clock: seconds since the Unix epoch, for chat timestamps.
    :param claim_window: seconds a :class:`~flask_videochat.core.call_values.Claim`
        waits for the other party (the namespace expires claims after it); the app's
        book gets ``max(5, VIDEOCHAT_RECONNECT_GRACE)``.
    :param ended_memory: seconds an ended call (or an expired claim) is remembered
        for ``call.resume``; the app's book gets ``max(60, 2 *
        VIDEOCHAT_RECONNECT_GRACE)``.
    :param max_ended: most ended calls remembered (and, apart, most expired claims).

    Example::

        book = CallBook()
        call = book.invite("ada", "sid-a", "bob")
        book.accept(call.id, "bob", "sid-b")
        ended = book.hangup(call.id, "bob")
        assert ended.reason is EndReason.HANGUP
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        new_id: Callable[[], str] = lambda: secrets.token_urlsafe(16),
        chat_history: int = DEFAULT_CHAT_HISTORY,
        wall_clock: Callable[[], float] = time.time,
        claim_window: float = 10.0,
        ended_memory: float = MIN_ENDED_MEMORY,
        max_ended: int = MAX_ENDED_CALLS,
    ) -> None:
        self._clock = clock
        self._new_id = new_id
        self._chat_history = chat_history
        self._wall_clock = wall_clock
        #: Seconds a claim waits for the other party.
        self.claim_window = claim_window
        self._lock = threading.RLock()
        self._calls: dict[str, _Record] = {}
        self._by_user: dict[str, str] = {}
        #: Real calls that ended, by id.
        self._ended = EndedCalls(limit=max_ended, max_age=ended_memory, clock=clock)
        #: Claims that expired, by id and users (apart: a claim's id is anybody's to
        #: choose, and must not overwrite what the parties of a real call learn).
        self._lapsed = EndedCalls(
            limit=max_ended, max_age=ended_memory, clock=clock, key=by_id_and_parties
        )
        #: user id -> their pending claim (one per user).
        self._claims: dict[str, Claim] = {}
        self._last_token = 0

    # -- queries --------------------------------------------------------------

    def live_call_of(self, user_id: str) -> Call | None:
        """The ringing or active call of ``user_id``, or ``None``."""
        with self._lock:
            call_id = self._by_user.get(user_id)
            return None if call_id is None else self._calls[call_id].snapshot()

    def status_of(self, user_id: str) -> Status:
        """The presence status that ``user_id``'s calls give them: a pending claim
        counts as ``IN_CALL`` (the browsers are still talking)."""
        with self._lock:
            call = self.live_call_of(user_id)
            if call is None:
                return Status.IN_CALL if user_id in self._claims else Status.AVAILABLE
            return Status.IN_CALL if call.state is CallState.ACTIVE else Status.RINGING

    def is_busy(self, user_id: str) -> bool:
        """Whether ``user_id`` has a live call or a pending claim (so they cannot be
        called, invited into a room, nor join one)."""
        with self._lock:
            return user_id in self._by_user or user_id in self._claims

    def claim_of(self, user_id: str) -> Claim | None:
        """The pending claim of ``user_id``, or ``None``."""
        with self._lock:
            return self._claims.get(user_id)

    def ended(self, call_id: str) -> EndedCall | None:
        """What is remembered of the ended call ``call_id``, or ``None`` (an expired
        claim is not a call: see :meth:`lapsed`)."""
        with self._lock:
            return self._ended.get(call_id)

    def lapsed(self, call_id: str, user_id: str, peer_id: str) -> EndedCall | None:
        """What is remembered of an expired claim of ``user_id`` or ``peer_id`` for
        ``call_id`` naming the other, or ``None``."""
        with self._lock:
            return self._lapsed.get((call_id, frozenset((user_id, peer_id))))

    def calls_on_connection(self, sid: str) -> list[Call]:
        """Live calls held by connection ``sid`` (as caller or answering callee)."""
        with self._lock:
            return [
                c.snapshot() for c in self._calls.values() if sid in (c.caller_sid, c.callee_sid)
            ]

    def __len__(self) -> int:
        with self._lock:
            return len(self._calls)

    def relay_target(self, call_id: str, user_id: str, sid: str) -> tuple[Call, str]:
        """Check that ``sid`` may signal into ``call_id``; return the call and the
        connection to relay to.

        :raises ProtocolError: ``ERR_CALL_NOT_FOUND`` when the call does not exist or
            ``sid`` does not hold it (not told apart, so ids cannot be probed);
            ``ERR_INVALID_STATE`` while it is still ringing.
        """
        with self._lock:
            call = self._held(call_id, user_id, sid, doing="Signals can only be sent")
            peer_sid = call.sid_of(call.other(user_id))
            assert peer_sid is not None
            return call.snapshot(), peer_sid

    def held_call(
        self, call_id: str, user_id: str, sid: str, *, doing: str = "This can only be done"
    ) -> Call:
        """The active call ``call_id`` when connection ``sid`` of ``user_id`` holds it.

        :param doing: the start of the ``ERR_INVALID_STATE`` message, which goes on
            "once the call is answered."
        :raises ProtocolError: as :meth:`relay_target`.
        """
        with self._lock:
            return self._held(call_id, user_id, sid, doing=doing).snapshot()

    def _held(self, call_id: str, user_id: str, sid: str, *, doing: str) -> _Record:
        call = self._party_call(call_id, user_id)
        if call.state is not CallState.ACTIVE:
            raise ProtocolError(ErrorCode.INVALID_STATE, f"{doing} once the call is answered.")
        if call.sid_of(user_id) != sid:
            raise _not_found()
        return call

    # -- transitions ------------------------------------------------------------

    def invite(
        self, caller_id: str, caller_sid: str, callee_id: str, *, callee_busy: bool = False
    ) -> Call:
        """Start a call from ``caller_id`` (on connection ``caller_sid``) to ``callee_id``.

        :param callee_busy: the callee is busy elsewhere (in a room, or invited to
            one): the call ends at once as if they were in a call.
        :returns: the call, ``RINGING``; or already ``ENDED`` with reason ``BUSY``
            when the callee is ringing, in another call, claiming one or
            ``callee_busy``.
        :raises ProtocolError: ``ERR_SELF_CALL``; ``ERR_ALREADY_IN_CALL`` when the
            caller has a live call or a pending claim.
        """
        if caller_id == callee_id:
            raise ProtocolError(ErrorCode.SELF_CALL, "You cannot call yourself.")
        with self._lock:
            if self.is_busy(caller_id):
                raise ProtocolError(
                    ErrorCode.ALREADY_IN_CALL, "Hang up your current call before starting another."
                )
            now = self._clock()
            call = _Record(self._new_id(), caller_id, caller_sid, callee_id, created_at=now)
            call.chat = ChatLog(self._chat_history)
            if callee_busy or self.is_busy(callee_id):
                return self._finish(call, EndReason.BUSY, now)
            self._calls[call.id] = call
            self._by_user[caller_id] = self._by_user[callee_id] = call.id
            return call.snapshot()

    def accept(self, call_id: str, user_id: str, sid: str) -> Call:
        """The callee answers on connection ``sid``; the first tab to accept wins.

        :raises ProtocolError: ``ERR_CALL_NOT_FOUND`` (no such live call for this
            user, or the user is the caller); ``ERR_INVALID_STATE`` once answered.
        """
        with self._lock:
            call = self._party_call(call_id, user_id)
            if user_id != call.callee_id:
                raise _not_found()
            if call.state is not CallState.RINGING:
                raise ProtocolError(ErrorCode.INVALID_STATE, "This call was already answered.")
            call.state = CallState.ACTIVE
            call.callee_sid = sid
            call.answered_at = self._clock()
            return call.snapshot()

    def decline(self, call_id: str, user_id: str) -> Call:
        """The callee refuses a ringing call (reason ``DECLINED``).

        :raises ProtocolError: ``ERR_CALL_NOT_FOUND``; ``ERR_INVALID_STATE`` once answered.
        """
        return self._end_ringing(call_id, user_id, by_callee=True, reason=EndReason.DECLINED)

    def cancel(self, call_id: str, user_id: str) -> Call:
        """The caller gives up before an answer (reason ``CANCELLED``).

        :raises ProtocolError: ``ERR_CALL_NOT_FOUND``; ``ERR_INVALID_STATE`` once answered.
        """
        return self._end_ringing(call_id, user_id, by_callee=False, reason=EndReason.CANCELLED)

    def hangup(
        self,
        call_id: str,
        user_id: str,
        sid: str | None = None,
        *,
        reason: EndReason = EndReason.HANGUP,
    ) -> Call:
        """Either party ends the call. While ringing this is a cancel (caller) or a
        decline (callee); once answered, ``reason`` (``HANGUP``, or ``CONNECT_FAILED``
        when the browsers could not connect), and only the connection holding the
        call (``sid``, when given) may hang up.

        :raises ProtocolError: ``ERR_CALL_NOT_FOUND``.
        """
        with self._lock:
            call = self._party_call(call_id, user_id)
            if call.state is CallState.RINGING:
                is_callee = user_id == call.callee_id
                reason = EndReason.DECLINED if is_callee else EndReason.CANCELLED
                return self._end_ringing(call_id, user_id, by_callee=is_callee, reason=reason)
            if sid is not None and call.sid_of(user_id) != sid:
                raise _not_found()
            return self._finish(call, reason, self._clock())

    def move_to_room(self, call_id: str, user_id: str, sid: str) -> Call:
        """The call grows into a room: it leaves the book, ended with reason
        ``MOVED_TO_ROOM`` (its :attr:`~Call.duration` and :attr:`~Call.chat` are
        final). Only the connection holding an active call may do this.

        :raises ProtocolError: as :meth:`relay_target`.
        """
        with self._lock:
            call = self._held(call_id, user_id, sid, doing="People can be added")
            return self._finish(call, EndReason.MOVED_TO_ROOM, self._clock())

    def chat(self, call_id: str, sender: User, sid: str, text: str) -> tuple[Call, ChatMessage]:
        """``sender`` (on the connection holding the active call) says ``text``; the
        call keeps the message in its :attr:`~Call.chat`.

        :returns: the call and the new message.
        :raises ProtocolError: as :meth:`relay_target`; ``ERR_INVALID_PAYLOAD`` or
            ``ERR_TOO_LARGE`` for a blank or too long text.
        """
        with self._lock:
            call = self._held(call_id, sender.id, sid, doing="Messages can be sent")
            message = new_message(sender, text, clock=self._wall_clock)
            message = call.chat.add(message)
            return call.snapshot(), message

    def expire(self, call_id: str) -> Call | None:
        """The ring timeout ran out: end a still-ringing call (reason ``NO_ANSWER``).

        :returns: the ended call, or ``None`` when it was answered or ended meanwhile.
        """
        with self._lock:
            call = self._calls.get(call_id)
            if call is None or call.state is not CallState.RINGING:
                return None
            return self._finish(call, EndReason.NO_ANSWER, self._clock())

    def party_gone(self, call_id: str, user_id: str) -> Call | None:
        """A party lost their connection for good (reason ``PEER_DISCONNECTED``).

        :returns: the ended call, or ``None`` when it had already ended.
        """
        with self._lock:
            call = self._calls.get(call_id)
            if call is None or not call.has_party(user_id):
                return None
            return self._finish(call, EndReason.PEER_DISCONNECTED, self._clock())

    # -- resuming -----------------------------------------------------------------

    def resume(
        self,
        call_id: str,
        user_id: str,
        sid: str,
        peer_id: str,
        *,
        busy: bool = False,
        may_see: Callable[[str, str], bool] | None = None,
        may_pair: Callable[[str, str], bool] | None = None,
    ) -> ResumedCall:
        """``user_id``, on connection ``sid``, takes back call ``call_id`` with
        ``peer_id`` after their connection dropped.

        A call is the user's to take back only when ``user_id`` and ``peer_id`` are
        its two parties:

        - Their live active call: ``sid`` now holds it for ``user_id`` (relays,
          hang-ups and the grace check use it). Rebound. Still ringing:
          ``ERR_INVALID_STATE``.
        - Their call that ended recently (or their claim that expired):
          :class:`CallEndedError`, with the reason.

        Any other ``call_id`` is, for these two, a call the book does not know,
        whether it is unknown or a live or recently ended call of other people (the
        answer must not tell these apart: call ids cannot be probed). A
        :class:`Claim` is recorded (replacing the user's previous one), unless the
        peer's claim for the same call names ``user_id``: then the call is
        re-created, active, the peer as caller on their claim's connection and
        ``user_id`` as callee on ``sid``.

        Only the user's own state may refuse a claim (``busy``, a live call of
        theirs, naming themself); the peer's never does, so that the answer does not
        say whether the peer is online, ringing, in a call or in a room (the host's
        ``can_see`` may hide them from the user). A claim naming a busy peer is
        harmless: it changes nothing of the peer's, and it can only be paired by the
        peer's own ``call.resume`` of the same ``call_id`` naming ``user_id``, which
        the peer's browser sends only for a call it had with the user, and which is
        refused while the peer is busy (their own state). So a pairing always joins
        two people who each named the other for the same id, are both free, and
        are both allowed it (``may_pair``).

        A claim is never paired over a call id that exists: when ``call_id`` is a
        live or remembered call (of other people), the claim is recorded not
        pairable (:attr:`Claim.pairable`), and no claim pairs with one that is not
        pairable, so that no call is ever re-created with the id of another one,
        even after the other is forgotten. (Two people acting together could still
        tell such an id by trying to pair on it; they would first need it, and call
        ids are random, made by the server and sent to nobody but the parties.)

        :param busy: the user is busy elsewhere (their room seat or invitation): no
            claim is recorded.
        :param may_see: ``may_see(user_id, peer_id)``, asked before the peer's
            matching claim is paired with (the host's ``can_see``): ``False`` leaves
            that claim alone and records the user's, as for a peer who is offline.
        :param may_pair: ``may_pair(caller_id, callee_id)``, asked before a call is
            re-created (the host's ``can_call``); ``False`` refuses.
        :raises CallEndedError: the call of ``user_id`` and ``peer_id`` ended
            recently (or their claim expired).
        :raises ProtocolError: ``ERR_INVALID_STATE`` for their call still ringing;
            ``ERR_CALL_NOT_FOUND`` for a claim that cannot be recorded (``busy``,
            the user in a live call, ``peer_id`` the user) or refused by
            ``may_pair``.
        """
        with self._lock:
            call = self._calls.get(call_id)
            if call is not None and call.has_party(user_id) and call.other(user_id) == peer_id:
                return self._rebind(call, user_id, sid)
            ended = self._ended.get(call_id)
            # (Both are remembered with two distinct users: none matches a user
            # naming themself.)
            for gone in (ended, self.lapsed(call_id, user_id, peer_id)):
                if gone is not None and gone.parties == {user_id, peer_id}:
                    raise CallEndedError(gone.reason)
            # From here on the id is, to these two, unknown: nothing below may depend
            # on what the book holds under it for others, nor on the peer's state.
            if busy or peer_id == user_id or user_id in self._by_user:
                raise _not_found()
            pairable = call is None and ended is None
            waiting = self._claims.get(peer_id)
            matches = (
                pairable
                and waiting is not None
                and waiting.pairable
                and (waiting.call_id, waiting.peer_id) == (call_id, user_id)
                and (may_see is None or may_see(user_id, peer_id))
            )
            now = self._clock()
            if not matches:
                self._last_token += 1
                claim = Claim(
                    call_id, user_id, sid, peer_id, now, self._last_token, pairable=pairable
                )
                self._claims[user_id] = claim
                return ResumedCall(None, claim=claim)
            assert waiting is not None
            if may_pair is not None and not may_pair(peer_id, user_id):
                raise _not_found()
            del self._claims[peer_id]
            self._claims.pop(user_id, None)
            call = _Record(
                call_id,
                peer_id,
                waiting.sid,
                user_id,
                created_at=now,
                state=CallState.ACTIVE,
                callee_sid=sid,
                answered_at=now,
                chat=ChatLog(self._chat_history),
            )
            self._calls[call_id] = call
            self._by_user[peer_id] = self._by_user[user_id] = call_id
            return ResumedCall(call.snapshot(), matched=waiting)

    def expire_claim(self, user_id: str, token: int) -> Claim | None:
        """The claim window of ``user_id``'s claim ``token`` is over: the peer never
        came. It is remembered as ended (``PEER_DISCONNECTED``) for these two users
        only (:meth:`lapsed`), so the peer's late ``call.resume`` naming the
        claimant learns so at once; what the book remembers of a real call with
        that id, if any, is left alone.

        :returns: the expired claim, or ``None`` when it was matched, replaced or
            dropped meanwhile.
        """
        with self._lock:
            claim = self._claims.get(user_id)
            if claim is None or claim.token != token:
                return None
            del self._claims[user_id]
            parties = frozenset((claim.user_id, claim.peer_id))
            self._lapsed.add(
                EndedCall(claim.call_id, parties, EndReason.PEER_DISCONNECTED, self._clock())
            )
            return claim

    def drop_claim(self, user_id: str, sid: str) -> Claim | None:
        """Connection ``sid`` of ``user_id`` closed: the claim it made, if any, is
        forgotten (the browser claims again from its next connection)."""
        with self._lock:
            claim = self._claims.get(user_id)
            if claim is None or claim.sid != sid:
                return None
            del self._claims[user_id]
            return claim

    # -- sharing ----------------------------------------------------------------

    def dump_state(self) -> dict[str, Any]:
        """The book's data (no lock, no clocks), for a shared store
        (:class:`~flask_videochat.stores.redis.SharedBook`) to save."""
        with self._lock:
            return {
                "calls": self._calls,
                "by_user": self._by_user,
                "ended": self._ended.dump_state(),
                "lapsed": self._lapsed.dump_state(),
                "claims": self._claims,
                "last_token": self._last_token,
            }

    def load_state(self, data: dict[str, Any]) -> None:
        """Replace the book's data with what :meth:`dump_state` gave."""
        with self._lock:
            self._calls = data["calls"]
            self._by_user = data["by_user"]
            self._ended.load_state(data["ended"])
            # (Absent from what a version before it saved.)
            self._lapsed.load_state(data.get("lapsed", []))
            self._claims = data["claims"]
            self._last_token = data["last_token"]

    # -- internals --------------------------------------------------------------

    def _rebind(self, call: _Record, user_id: str, sid: str) -> ResumedCall:
        """Connection ``sid`` of party ``user_id`` now holds ``call``."""
        if call.state is not CallState.ACTIVE:
            raise ProtocolError(ErrorCode.INVALID_STATE, "Only an answered call can be taken back.")
        previous = call.sid_of(user_id)
        if user_id == call.caller_id:
            call.caller_sid = sid
        else:
            call.callee_sid = sid
        return ResumedCall(call.snapshot(), previous_sid=previous)

    def _party_call(self, call_id: str, user_id: str) -> _Record:
        call = self._calls.get(call_id)
        if call is None or not call.has_party(user_id):
            raise _not_found()
        return call

    def _end_ringing(
        self, call_id: str, user_id: str, *, by_callee: bool, reason: EndReason
    ) -> Call:
        with self._lock:
            call = self._party_call(call_id, user_id)
            if (user_id == call.callee_id) != by_callee:
                raise _not_found()
            if call.state is not CallState.RINGING:
                raise ProtocolError(
                    ErrorCode.INVALID_STATE, "This call was already answered; hang up instead."
                )
            return self._finish(call, reason, self._clock())

    def _finish(self, call: _Record, reason: EndReason, now: float) -> Call:
        call.state = CallState.ENDED
        call.reason = reason
        call.ended_at = now
        if self._calls.pop(call.id, None) is not None:
            for user_id in (call.caller_id, call.callee_id):
                if self._by_user.get(user_id) == call.id:
                    del self._by_user[user_id]
            parties = frozenset((call.caller_id, call.callee_id))
            self._ended.add(EndedCall(call.id, parties, reason, now))
        return call.snapshot()
