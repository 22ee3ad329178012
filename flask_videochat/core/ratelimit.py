"""Limits on what one client may send: how many events per connection and per user,
and how large one event may be.

:class:`EventLimiter` counts every event twice: in the :class:`Budget` of its
connection, and in a budget of its user shared by all the user's connections (tabs,
devices and, with a Redis storage, processes). :func:`check_size` walks a parsed
payload with a budget of bytes and a depth bound. The namespace runs both as soon as
an event arrives, before Flask, the session or the payload's schema are touched, so a
refused event costs a few arithmetic operations and changes nothing
(``docs/security.md``, "What a refused event costs").

Counting, in this process's memory (a connection lives in one process, and so does a
user's budget without a shared storage):

- a limit of at most :data:`EXACT_UP_TO` events per window counts exactly, with the
  times of the events inside the window (a *moving window*): a person placing 8
  calls a minute is never refused by ``10/minute``;
- a larger limit uses a *sliding window counter* (this window's count and the
  previous one's, the previous one weighted by how much of it still overlaps):
  O(1) in time and memory whatever the limit, an estimate that may over-count
  events bunched at the end of the previous window (up to twice), which the large
  limits of signaling can afford.

Counters of a connection go with it; users' counters are forgotten once their
longest window has passed. With ``VIDEOCHAT_RATE_LIMIT_STORAGE`` (or
``VIDEOCHAT_STORE_URL``) on Redis, users' budgets are counted site-wide by the
`limits <https://limits.readthedocs.io>`_ library's sliding window counters in Redis
(one round trip per limit and event), while connections still count here. A refused
event is not counted: a client that keeps flooding gets through at the limit's rate,
each extra event refused cheaply, until the namespace closes its connection.

This module knows nothing of Socket.IO; tests drive it with a fake clock.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict, deque
from typing import Any, Callable, Iterable, Mapping, Sequence, cast
from urllib.parse import quote

from limits import RateLimitItem, parse_many
from limits.errors import ConfigurationError
from limits.storage import SlidingWindowCounterSupport, Storage, storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

from .protocol import ErrorCode, ProtocolError

log = logging.getLogger("flask_videochat")

#: The key of the rate limit of every event not named in the limits table.
DEFAULT = "default"

#: The counting key (and ``VIDEOCHAT_RATE_LIMITS`` name) of connecting to the
#: namespace: a user's connects, over all their tabs.
CONNECT = "connect"

#: The counting key of events that are not part of the protocol (they share one
#: budget per connection and per user, with the ``default`` limit).
UNKNOWN_EVENT = "unknown_event"

#: Built-in rate limits per connection, in limits' notation (``"N/second;M/minute"``:
#: both apply), by event name. ``VIDEOCHAT_RATE_LIMITS`` is applied over them. The
#: figures are for a person using the widget, with room to spare:
BUILT_IN_RATE_LIMITS: dict[str, str] = {
    # Every event not named below: a person's clicks and the widget's own traffic
    # (accept, hang-up, mute, camera, a ping probe when a peer connection breaks, a
    # resume after a reconnect) are a few per second at most.
    DEFAULT: "10/second;120/minute",
    # Trickle ICE: an offer or an answer and its ICE candidates within a second per
    # peer connection: host, server-reflexive and relay candidates of every interface
    # and TURN URL, about 100 with 8 interfaces, STUN and TURN (measured in Chromium,
    # benchmarks/sdp_sizes.py); ICE restarts (every 3 s while a call is broken) and
    # renegotiations (screen share) repeat the burst.
    "signal": "150/second;3000/minute",
    # ``room.signal`` is per peer too, and a member of a room has capacity - 1 peers:
    # see :func:`room_signal_limit`, which sets it from VIDEOCHAT_ROOM_CAPACITY.
    # Each of these rings someone, on every tab: tight.
    "call.invite": "10/minute;60/hour",
    "room.invite": "10/minute;60/hour",
    "call.add": "10/minute;60/hour",
    # A join or a leave is told to every member of the room and to presence.
    "room.join": "20/minute;200/hour",
    # People type: a few lines pasted at once, about one message a second at most.
    "chat.send": "5/second;60/minute",
    # Connecting to /videochat (counted per user only: each connect costs a presence
    # snapshot of everyone online). A page load or a reconnect is one; tabs add up.
    CONNECT: "30/minute",
}

#: ``room.signal`` budget per peer: the ``signal`` budget of one peer connection.
ROOM_SIGNAL_PER_PEER = (150, 3000)

#: Largest limit counted exactly (a moving window keeps one time per event inside
#: the window); larger ones use a sliding window counter.
EXACT_UP_TO = 64

#: Most users whose budgets are kept in memory (about 1 to 20 KB each, by how many
#: kinds of events they sent); beyond it the least recently active are forgotten,
#: so that a site of many (or made-up) users cannot grow the limiter without bound.
MAX_USERS_COUNTED = 100_000

#: Deepest nesting of objects and arrays accepted in a payload.
MAX_DEPTH = 32

# Bytes counted for a value that is not a string (a JSON number is at most ~24
# characters, usually a few; true, false and null 4 or 5).
_SCALAR_SIZE = 8


def room_signal_limit(room_capacity: int) -> str:
    """The built-in ``room.signal`` limit for rooms of ``room_capacity`` people: the
    burst of joining a full room is one offer or answer and its ICE candidates (about
    100 with many interfaces and TURN) for each of its ``room_capacity - 1`` other
    members.

    Example::

        >>> room_signal_limit(4)
        '450/second;9000/minute'
    """
    peers = max(1, room_capacity - 1)
    per_second, per_minute = ROOM_SIGNAL_PER_PEER
    return f"{per_second * peers}/second;{per_minute * peers}/minute"


def parse_limit(text: str) -> tuple[RateLimitItem, ...]:
    """Parse a limit in limits' notation (``"20/second;300/minute"``).

    :raises ValueError: not that notation.
    """
    if not isinstance(text, str):
        raise ValueError(f"a rate limit is a string such as '20/second;300/minute', got {text!r}")
    items = tuple(parse_many(text))
    if not items or any(item.amount < 1 for item in items):
        raise ValueError(f"a rate limit allows at least 1 event, got {text!r}")
    return items


def open_storage(uri: str) -> Storage:
    """A limits storage from its URI (``memory://``, ``redis://host:6379/0``...) that
    supports the sliding window counter strategy. Opening it does not connect.

    :raises ValueError: an unknown scheme, a missing client library, or a storage
        without sliding window counters.
    """
    options: dict[str, Any] = {}
    if uri.startswith(("redis://", "rediss://", "redis+unix://")):
        # A connection Redis closed (a restart) is retried on a new one.
        from redis.backoff import ExponentialBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError
        from redis.retry import Retry

        options = {
            "retry": Retry(ExponentialBackoff(cap=1.0, base=0.05), 3),
            "retry_on_error": [RedisConnectionError, RedisTimeoutError],
        }
    try:
        storage = storage_from_string(uri, **options)
        if not isinstance(storage, Storage):
            raise NotImplementedError("an asyncio storage")
        SlidingWindowCounterRateLimiter(storage)
    except (ConfigurationError, NotImplementedError) as exc:
        raise ValueError(f"{uri!r} is not a limits storage with sliding windows: {exc}") from None
    return storage


class RateLimitedError(ProtocolError):
    """An event over a rate limit: ``ERR_RATE_LIMITED`` with ``retry_after``.

    :param retry_after: seconds until the limit allows one more event of this kind.
    """

    def __init__(self, retry_after: float) -> None:
        wait = max(1, math.ceil(retry_after))
        unit = "second" if wait == 1 else "seconds"
        super().__init__(ErrorCode.RATE_LIMITED, f"Too many requests. Try again in {wait} {unit}.")
        self.retry_after = retry_after

    def ack(self) -> dict[str, Any]:
        """``{"ok": false, "error": {"code", "message", "retry_after": seconds}}``."""
        ack = super().ack()
        ack["error"]["retry_after"] = self.retry_after
        return ack


class _Moving:
    """An exact moving window: the times of the events of the last ``expiry``
    seconds, at most ``amount`` of them."""

    __slots__ = ("amount", "expiry", "times")

    def __init__(self, amount: int, expiry: float) -> None:
        self.amount = amount
        self.expiry = expiry
        self.times: deque[float] = deque()

    def hit(self, now: float) -> float | None:
        """Count one event at ``now``: ``None`` when it fits, else the seconds until
        one would (and it is not counted)."""
        times = self.times
        while times and times[0] <= now - self.expiry:
            times.popleft()
        if len(times) >= self.amount:
            return max(times[0] + self.expiry - now, 0.0)
        times.append(now)
        return None


class _Sliding:
    """A sliding window counter, as limits' ``SlidingWindowCounterRateLimiter``:
    windows aligned on multiples of ``expiry``, the previous window's count weighted
    by the share of it the sliding window still covers."""

    __slots__ = ("amount", "current", "expiry", "previous", "window")

    def __init__(self, amount: int, expiry: float) -> None:
        self.amount = amount
        self.expiry = expiry
        self.window = -1
        self.current = 0
        self.previous = 0

    def hit(self, now: float) -> float | None:
        """Count one event at ``now``: ``None`` when it fits, else the seconds until
        one would (and it is not counted)."""
        expiry = self.expiry
        window = int(now // expiry)
        if window != self.window:
            self.previous = self.current if window == self.window + 1 else 0
            self.current = 0
            self.window = window
        left = expiry - (now - window * expiry)  # of this window; the previous one's share
        weighted = self.previous * left / expiry + self.current
        if math.floor(weighted) + 1 <= self.amount:
            self.current += 1
            return None
        limit, current, previous = self.amount, self.current, self.previous
        if current >= limit:
            # This window alone is full: wait for it to become the previous one,
            # then for its weight to fall under the limit.
            return left + expiry * (1 - limit / current)
        # (At least a moment: at the boundary the weight must still fall.)
        return max(left - expiry * (limit - current) / previous, 0.0)


def _counter(item: RateLimitItem) -> _Moving | _Sliding:
    kind = _Moving if item.amount <= EXACT_UP_TO else _Sliding
    return kind(item.amount, float(item.get_expiry()))


class Budget:
    """The counters of one connection (or of one user), by counting key.

    :param limits_of: the limits of a counting key.
    :param clock: seconds, monotonic.
    """

    __slots__ = ("_clock", "_counters", "_limits_of", "_lock", "last_hit")

    def __init__(
        self,
        limits_of: Callable[[str], Sequence[RateLimitItem]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits_of = limits_of
        self._clock = clock
        self._counters: dict[str, tuple[_Moving | _Sliding, ...]] = {}
        # Under threading a connection's events may arrive on several threads at once.
        self._lock = threading.Lock()
        #: When an event was last counted (:data:`-inf` before the first).
        self.last_hit = -math.inf

    def hit(self, key: str) -> None:
        """Count one event counted under ``key``.

        :raises RateLimitedError: over one of its limits; the event is then not
            counted in any of them.
        """
        now = self._clock()
        with self._lock:
            counters = self._counters.get(key)
            if counters is None:
                counters = self._counters[key] = tuple(map(_counter, self._limits_of(key)))
            for i, counter in enumerate(counters):
                wait = counter.hit(now)
                if wait is not None:
                    for counted in counters[:i]:
                        _uncount(counted)
                    raise RateLimitedError(math.ceil(wait * 1000 + 1) / 1000)
            self.last_hit = now


def _uncount(counter: _Moving | _Sliding) -> None:
    """Take back the event just counted in ``counter``."""
    if isinstance(counter, _Moving):
        counter.times.pop()
    else:
        counter.current -= 1


class EventLimiter:
    """Per-connection and per-user rate limits of the events of one app.

    :param rules: counting key (the handler's name without ``on_``: ``call_invite``,
        ``unknown_event``) -> the limits of one connection; an empty tuple is no
        limit.
    :param default: the limits of keys not in ``rules``.
    :param per_user: how many connections' worth a user gets, over all their
        connections: each limit's amount times this, rounded up. At least 1.
    :param storage: where users' counters live when they are shared between
        processes (a limits storage, see :func:`open_storage`); ``None`` counts in
        this process's memory.
    :param clock: seconds, monotonic (for the counters in memory).

    Example::

        limiter = EventLimiter(
            {"call_invite": parse_limit("3/minute")},
            default=parse_limit("10/second"),
            per_user=2,
        )
        budget = limiter.budget()                    # one per connection
        budget.hit("call_invite")                    # raises RateLimitedError when over
        limiter.hit_user("call_invite", user_id)
    """

    def __init__(
        self,
        rules: Mapping[str, Sequence[RateLimitItem]],
        *,
        default: Sequence[RateLimitItem],
        per_user: float,
        storage: Storage | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_user < 1:
            raise ValueError(f"per_user must be at least 1, got {per_user!r}")
        self._connection = {key: tuple(items) for key, items in rules.items()}
        self._default = tuple(default)
        self._user = {key: _scaled(items, per_user) for key, items in self._connection.items()}
        self._user_default = _scaled(self._default, per_user)
        self.per_user = per_user
        self.storage = storage
        self._clock = clock
        self._strategy = SlidingWindowCounterRateLimiter(storage) if storage is not None else None
        self._warned_at = -math.inf
        #: Users' budgets in memory, least recently used first.
        self._users: OrderedDict[str, Budget] = OrderedDict()
        self._users_lock = threading.Lock()
        every = [*self._connection.values(), self._default]
        #: Seconds after its last event that a user's budget is forgotten: by then
        #: every window of it has passed (a sliding counter looks one window back).
        self._forget_after = 2 * max(
            (float(i.get_expiry()) for items in every for i in items), default=0.0
        )

    def limits_of(self, key: str) -> tuple[RateLimitItem, ...]:
        """The per-connection limits of events counted under ``key``."""
        return self._connection.get(key, self._default)

    def user_limits_of(self, key: str) -> tuple[RateLimitItem, ...]:
        """The limits of one user, over all their connections, of events counted
        under ``key``."""
        return self._user.get(key, self._user_default)

    def budget(self) -> Budget:
        """The budget of a new connection (kept with it, gone with it)."""
        return Budget(self.limits_of, self._clock)

    def hit_user(self, key: str, user_id: str) -> None:
        """Count one event of user ``user_id`` (any of their connections).

        :raises RateLimitedError: over one of their limits.
        """
        if self._strategy is None:
            self._user_budget(user_id).hit(key)
            return
        who = quote(user_id, safe="")
        for item in self.user_limits_of(key):
            try:
                allowed = self._strategy.hit(item, "videochat", key, "user", who)
            except Exception:
                # The limits' storage (Redis) does not answer: let the event through
                # rather than refuse everyone (fail open), and say so once a minute.
                now = time.monotonic()
                if now - self._warned_at > 60:
                    self._warned_at = now
                    log.exception("videochat: the rate-limit storage failed; not limiting")
                return
            if not allowed:
                raise RateLimitedError(self._retry_after(item, "videochat", key, "user", who))

    def _user_budget(self, user_id: str) -> Budget:
        """``user_id``'s budget in memory; budgets idle past every window are dropped
        on the way (oldest first, so each costs O(1) over time)."""
        now = self._clock()
        users = self._users
        with self._users_lock:
            budget = users.get(user_id)
            if budget is None:
                budget = users[user_id] = Budget(self.user_limits_of, self._clock)
            else:
                users.move_to_end(user_id)
            while users:
                oldest = next(iter(users.values()))
                if oldest is budget or (
                    now - oldest.last_hit < self._forget_after and len(users) <= MAX_USERS_COUNTED
                ):
                    break
                users.popitem(last=False)
        return budget

    @property
    def users_counted(self) -> int:
        """How many users' budgets are kept in memory."""
        return len(self._users)

    def _retry_after(self, item: RateLimitItem, *identifiers: str) -> float:
        """Seconds until ``item`` lets one more event through, from its two windows
        in the storage (limits' own ``get_window_stats`` estimate is coarser): the
        previous window's count weighs by the share of it still inside the sliding
        window, and an event passes once ``previous x weight + current < amount``."""
        window = item.get_expiry()
        storage = cast(SlidingWindowCounterSupport, self.storage)
        previous, previous_ttl, current, current_ttl = storage.get_sliding_window(
            item.key_for(*identifiers), window
        )
        limit = item.amount
        if current >= limit:
            wait = max(current_ttl - window, 0) + window * (1 - limit / current)
        elif previous:
            wait = previous_ttl - window * (limit - current) / previous
        else:
            wait = 0
        return math.ceil(max(wait, 0) * 1000 + 1) / 1000


def _scaled(items: Iterable[RateLimitItem], factor: float) -> tuple[RateLimitItem, ...]:
    return tuple(type(item)(math.ceil(item.amount * factor), item.multiples) for item in items)


def check_size(args: Iterable[Any], *, max_bytes: int, max_depth: int = MAX_DEPTH) -> None:
    """Refuse a payload over ``max_bytes`` or nested deeper than ``max_depth``.

    The payload arrives parsed (dicts, lists, strings, numbers); its size is what its
    JSON would be without escapes: strings count their UTF-8 bytes and quotes,
    containers their brackets and separators, other values 8 bytes. The walk stops
    as soon as the budget is spent, so its cost is bounded by ``max_bytes`` however
    large or deep the payload, and it uses no recursion.

    :param args: the arguments of one event.
    :raises ProtocolError: ``ERR_TOO_LARGE``.
    """
    budget = max_bytes
    stack: list[tuple[Any, int]] = [(arg, 1) for arg in args]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            size = len(value) + 2
            if size <= budget and not value.isascii():
                size = len(value.encode("utf-8", "surrogatepass")) + 2
            budget -= size
        elif isinstance(value, (dict, list, tuple)):
            if depth > max_depth:
                raise ProtocolError(
                    ErrorCode.TOO_LARGE,
                    f"This message is nested too deeply (more than {max_depth} levels).",
                )
            budget -= 2 + len(value)
            if budget >= 0:
                if isinstance(value, dict):
                    for key, item in value.items():
                        stack.append((key, depth + 1))
                        stack.append((item, depth + 1))
                else:
                    stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, (bytes, bytearray)):
            budget -= len(value)
        else:
            budget -= _SCALAR_SIZE
        if budget < 0:
            raise ProtocolError(
                ErrorCode.TOO_LARGE, f"This message is too large (more than {max_bytes} bytes)."
            )
