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
from typing import Callable, Protocol, TypeVar

from .protocol import ErrorCode, ProtocolError
from .ratelimit import RateLimitedError

log = logging.getLogger("flask_videochat")

T = TypeVar("T")

#: Seconds an event waits for the events numbered before it when nothing of its
#: connection is running; then it runs without them (they are taken as lost).
GAP_TIMEOUT = 2.0

#: Most events of one connection waiting for their turn; more are refused at once
#: with ``ERR_RATE_LIMITED`` (the widget has a few dozen in flight at most: trickle
#: ICE to every member of a full room).
MAX_WAITING = 256

#: Highest ``seq`` accepted (the largest integer a JavaScript number holds exactly).
MAX_SEQ = 2**53 - 1


class Waitable(Protocol):
    """What :class:`ConnectionQueue` needs of an event object (``threading.Event``
    and eventlet's and gevent's green events have it)."""

    def set(self) -> None: ...

    def is_set(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> bool: ...


class ConnectionQueue:
    """The events of one connection, run one at a time in ``seq`` order.

    :param make_event: makes the object a waiting event blocks on
        (``server.eio.create_event`` of the async mode).
    :param gap_timeout: seconds, see :data:`GAP_TIMEOUT`.
    :param max_waiting: see :data:`MAX_WAITING`.
    """

    def __init__(
        self,
        make_event: Callable[[], Waitable],
        *,
        gap_timeout: float = GAP_TIMEOUT,
        max_waiting: int = MAX_WAITING,
    ) -> None:
        self._make_event = make_event
        self._gap_timeout = gap_timeout
        self._max_waiting = max_waiting
        # Held only for a few dictionary operations, never while waiting or running
        # a handler: under eventlet or gevent without monkey patching it is a real
        # lock that no green thread ever finds taken.
        self._lock = threading.Lock()
        #: The seq that runs next.
        self._next = 1
        #: The highest seq seen.
        self._tail = 0
        #: Whether a handler of this connection runs (or has been handed the turn).
        self._busy = False
        self._waiting: dict[int, Waitable] = {}

    @property
    def waiting(self) -> int:
        """How many events wait for their turn."""
        return len(self._waiting)

    def run(self, seq: int | None, handler: Callable[[], T]) -> T:
        """Run ``handler`` once every event numbered before ``seq`` has run, and
        return what it returns. ``None`` takes the next number.

        :raises ProtocolError: ``ERR_INVALID_PAYLOAD`` for a ``seq`` used already,
            ``ERR_RATE_LIMITED`` when :data:`MAX_WAITING` events wait already; then
            ``handler`` does not run and nothing changes.
        """
        with self._lock:
            if seq is None:
                seq = max(self._tail, self._next - 1) + 1
            if seq < self._next or seq in self._waiting:
                raise ProtocolError(
                    ErrorCode.INVALID_PAYLOAD, f"seq {seq} was used already on this connection."
                )
            if seq == self._next and not self._busy:
                self._busy = True
                turn = None
            else:
                if len(self._waiting) >= self._max_waiting:
                    raise RateLimitedError(1.0)
                turn = self._waiting[seq] = self._make_event()
            self._tail = max(self._tail, seq)
        if turn is not None:
            self._await_turn(seq, turn)
        try:
            return handler()
        finally:
            self._done(seq)

    def _await_turn(self, seq: int, turn: Waitable) -> None:
        while not turn.wait(self._gap_timeout):
            with self._lock:
                if turn.is_set():
                    return
                if not self._busy and seq == min(self._waiting):
                    # Nothing runs and the events before this one did not come.
                    log.warning(
                        "videochat: events %d to %d of a connection never came; going on",
                        self._next,
                        seq - 1,
                    )
                    del self._waiting[seq]
                    self._next = seq
                    self._busy = True
                    return

    def _done(self, seq: int) -> None:
        with self._lock:
            self._next = seq + 1
            following = self._waiting.pop(self._next, None)
            if following is None:
                self._busy = False
            else:
                following.set()  # the turn passes on: still busy


def parse_seq(value: object) -> int:
    """``value`` when it is a valid ``seq``: an integer from 1 to :data:`MAX_SEQ`.

    :raises ProtocolError: ``ERR_INVALID_PAYLOAD`` otherwise.
    """
    if type(value) is not int or not 1 <= value <= MAX_SEQ:
        raise ProtocolError(
            ErrorCode.INVALID_PAYLOAD, f"seq is an integer from 1 to {MAX_SEQ}, in order."
        )
    return value
