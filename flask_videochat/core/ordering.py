"""Events of one connection handled one at a time, in the order the client sent them.

python-socketio runs each incoming event in a task of its own when the server has
``async_handlers=True`` (Flask-SocketIO's default), so two events of one connection
can run at once and finish in either order: a small ICE candidate overtakes the
large SDP offer sent just before it, and the peer drops the candidate. Order is part
of this protocol (``docs/protocol.md``, "Order"), whatever the server's settings:

- The browser numbers its events on each connection, ``"seq": 1, 2, 3...`` in the
  payload (the Socket.IO ack id cannot serve: python-socketio does not hand it to
  the handler).
- :class:`ConnectionQueue` runs an event only after every event of its connection
  with a smaller ``seq`` has been handled, one handler at a time per connection.
  Connections never wait for each other, so a slow handler delays only the events
  of its own connection.
- An event without ``seq`` (a client other than the widget) takes the next number
  when its task reaches the queue: in receipt order when the server runs handlers
  inline (``async_handlers=False``) or in green threads started in order (eventlet,
  gevent), not guaranteed with one thread per event.
- A ``seq`` that is used again (or behind the queue) is refused at once. When the
  events before a waiting one never come (a broken client: over one ordered
  transport nothing is lost without the connection), the queue moves on after
  :data:`GAP_TIMEOUT` seconds: a client can only delay its own events.

Plain Python, no Socket.IO: the namespace gives each queue an event factory of its
async mode (``threading.Event``, eventlet's or gevent's green one), so that waiting
never blocks a whole eventlet or gevent hub.

Example::

    queue = ConnectionQueue(threading.Event)
    queue.run(1, lambda: "handled first")
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Protocol, TypeVar

from .protocol import ErrorCode, ProtocolError
from .ratelimit import RateLimitedError

log = logging.getLogger("flask_videochat")

T = TypeVar("T")

#: Seconds an event waits for the events numbered before it when nothing of its
#: connection is running; then it runs without them (they are taken as lost).
GAP_TIMEOUT = 2.0

#: Most events of one connection waiting for their turn; more are refused at once
#: with ``ERR_RATE_LIMITED`` (and passed over: nothing waits for them). The widget
#: has a few dozen in flight at most (trickle ICE to every member of a full room).
MAX_WAITING = 128

#: Highest ``seq`` accepted (the largest integer a JavaScript number holds exactly).
MAX_SEQ = 2**53 - 1


class Waitable(Protocol):
    """What :class:`ConnectionQueue` needs of an event object (``threading.Event``
    and eventlet's and gevent's green events have it)."""

    def set(self) -> None: ...

    def wait(self, timeout: float | None = None) -> bool: ...


class ConnectionClosed(ProtocolError):  # noqa: N818 (a refusal, as ProtocolError)
    """The connection closed while its event waited for its turn: the event is not
    handled (nobody is left to answer)."""

    def __init__(self) -> None:
        super().__init__(ErrorCode.UNAUTHENTICATED, "This connection is closed.")


class _Waiter:
    __slots__ = ("event", "state")

    def __init__(self, event: Waitable) -> None:
        self.event = event
        #: "waiting", then "handed" (its turn came) or "closed".
        self.state = "waiting"


class ConnectionQueue:
    """The events of one connection, run one at a time in ``seq`` order.

    :param make_event: makes the object a waiting event blocks on
        (``server.eio.create_event`` of the async mode).
    :param gap_timeout: seconds, see :data:`GAP_TIMEOUT`.
    :param max_waiting: see :data:`MAX_WAITING`.
    :param clock: seconds, monotonic (:func:`time.monotonic`).
    """

    def __init__(
        self,
        make_event: Callable[[], Waitable],
        *,
        gap_timeout: float = GAP_TIMEOUT,
        max_waiting: int = MAX_WAITING,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._make_event = make_event
        self._gap_timeout = gap_timeout
        self._max_waiting = max_waiting
        self._clock = clock
        # Held only for a few set and dictionary operations, never while waiting,
        # logging or running a handler: under eventlet or gevent without monkey
        # patching it is a real lock that no green thread ever finds taken.
        self._lock = threading.Lock()
        #: The seq that runs next (or runs now, while busy).
        self._next = 1
        #: The highest seq seen.
        self._tail = 0
        #: Whether a handler of this connection runs (or has been handed the turn).
        self._busy = False
        #: When the last handler finished (the gap timeout counts from then).
        self._idle_since = clock()
        self._waiting: dict[int, _Waiter] = {}
        #: Numbers refused because too many waited: their turn is passed over.
        self._skipped: set[int] = set()
        self._closed = False

    @property
    def waiting(self) -> int:
        """How many events wait for their turn."""
        return len(self._waiting)

    def run(
        self,
        seq: int | None,
        handler: Callable[[], T],
        *,
        before_waiting: Callable[[], None] | None = None,
    ) -> T:
        """Run ``handler`` once every event numbered before ``seq`` has run, and
        return what it returns. ``None`` takes the next number.

        :param before_waiting: called (outside the lock) when the event is about to
            wait for its turn: a check that may refuse it by raising
            :class:`~flask_videochat.core.protocol.ProtocolError` (the size of the payload
            it would hold while waiting).
        :raises ProtocolError: ``ERR_INVALID_PAYLOAD`` for a ``seq`` used already
            (run, running, waiting or refused), ``ERR_RATE_LIMITED`` when
            :data:`MAX_WAITING` events wait already, :class:`ConnectionClosed`, or
            what ``before_waiting`` raises; then ``handler`` does not run and nothing
            changes.
        """
        waiter = None
        screened = before_waiting is None
        while True:
            with self._lock:
                if self._closed:
                    raise ConnectionClosed()
                if seq is None:
                    seq = max(self._tail, self._next - 1) + 1
                if (
                    seq < self._next
                    or (seq == self._next and self._busy)
                    or seq in self._waiting
                    or seq in self._skipped
                ):
                    raise ProtocolError(
                        ErrorCode.INVALID_PAYLOAD,
                        f"seq {seq} was used already on this connection.",
                    )
                if seq == self._next and not self._busy:
                    self._busy = True
                    self._tail = max(self._tail, seq)
                    break
                if len(self._waiting) >= self._max_waiting:
                    if len(self._skipped) < self._max_waiting:
                        self._skipped.add(seq)  # so that nothing waits for it
                    self._tail = max(self._tail, seq)
                    raise RateLimitedError(1.0)
                if screened:
                    waiter = self._waiting[seq] = _Waiter(self._make_event())
                    self._tail = max(self._tail, seq)
                    break
            assert before_waiting is not None
            before_waiting()
            screened = True
        if waiter is not None:
            self._await_turn(seq, waiter)
        try:
            return handler()
        finally:
            self._done(seq)

    def pass_over(self, seq: int) -> None:
        """Event ``seq`` was refused before it reached the queue (over a rate limit):
        nothing waits for it, as if it had run. A ``seq`` used already (run,
        running, waiting or refused) changes nothing."""
        following = None
        with self._lock:
            if (
                self._closed
                or seq < self._next
                or (seq == self._next and self._busy)
                or seq in self._waiting
                or seq in self._skipped
            ):
                return
            self._tail = max(self._tail, seq)
            if seq != self._next:
                if len(self._skipped) < self._max_waiting:
                    self._skipped.add(seq)
                return
            self._next = seq + 1
            while self._next in self._skipped:
                self._skipped.discard(self._next)
                self._next += 1
            following = self._waiting.pop(self._next, None)
            if following is not None:
                self._busy = True
                following.state = "handed"
        if following is not None:
            following.event.set()

    def close(self) -> None:
        """The connection closed: events still waiting are not handled
        (:class:`ConnectionClosed`), nor any that comes later."""
        with self._lock:
            self._closed = True
            waiters = list(self._waiting.values())
            self._waiting.clear()
            for waiter in waiters:
                waiter.state = "closed"
        for waiter in waiters:
            waiter.event.set()

    def _await_turn(self, seq: int, waiter: _Waiter) -> None:
        gap = None
        try:
            timeout = self._gap_timeout
            while True:
                waiter.event.wait(timeout)
                with self._lock:
                    if waiter.state == "handed":
                        return
                    if waiter.state == "closed":
                        raise ConnectionClosed()
                    timeout = self._gap_timeout
                    if not self._busy and seq == min(self._waiting):
                        idle = self._clock() - self._idle_since
                        if idle >= self._gap_timeout:
                            # Nothing has run for the gap timeout and the events
                            # before this one did not come: go on without them.
                            gap = (self._next, seq - 1)
                            del self._waiting[seq]
                            self._skipped = {s for s in self._skipped if s > seq}
                            self._next = seq
                            self._busy = True
                            waiter.state = "handed"
                            break
                        timeout = self._gap_timeout - idle
        except BaseException:
            # Closed, or the waiting thread was killed (a green thread's kill, a
            # timeout): the turn must not be lost with it.
            with self._lock:
                handed = waiter.state == "handed"
                if not handed:
                    self._waiting.pop(seq, None)
            if handed:
                self._done(seq)
            raise
        if gap is not None:
            log.warning("videochat: events %d to %d of a connection never came; going on", *gap)

    def _done(self, seq: int) -> None:
        with self._lock:
            following = None
            self._next = seq + 1
            while self._next in self._skipped:
                self._skipped.discard(self._next)
                self._next += 1
            following = self._waiting.pop(self._next, None)
            if following is None:
                self._busy = False
                self._idle_since = self._clock()
            else:
                following.state = "handed"  # the turn passes on: still busy
        if following is not None:
            following.event.set()


def parse_seq(value: object) -> int:
    """``value`` when it is a valid ``seq``: an integer from 1 to :data:`MAX_SEQ`.

    :raises ProtocolError: ``ERR_INVALID_PAYLOAD`` otherwise.
    """
    if type(value) is not int or not 1 <= value <= MAX_SEQ:
        raise ProtocolError(
            ErrorCode.INVALID_PAYLOAD, f"seq is an integer from 1 to {MAX_SEQ}, in order."
        )
    return value
