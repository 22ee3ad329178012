"""Where the extension keeps its state: presence, calls and rooms.

One process (the default) keeps everything in its memory: :class:`MemoryStore`.
Several processes serving one site keep it in Redis
(:class:`~flask_videochat.stores.redis.RedisStore`, chosen with
``VIDEOCHAT_STORE_URL``): python-socketio keeps its rooms and sessions inside the
process that owns a connection, so everything global (who is online on which
connection, calls, rooms, claims, kept seats) lives in the store, and emits cross
processes through Flask-SocketIO's ``message_queue``.

Both stores offer the same three objects, so the namespace does not know which one
it talks to: ``presence`` (a :class:`~flask_videochat.core.presence.PresenceStore`),
``calls`` (a :class:`~flask_videochat.core.calls.CallBook`) and ``rooms`` (a
:class:`~flask_videochat.core.rooms.RoomBook`), plus :meth:`Store.heartbeat`, which a
shared store uses to notice processes that died.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable, Protocol

from ..core.call_values import MIN_CLAIM_WINDOW, MIN_ENDED_MEMORY
from ..core.calls import CallBook
from ..core.presence import PresenceStore, User
from ..core.rooms import RoomBook

if TYPE_CHECKING:
    from ..config import Settings


class Store(Protocol):
    """The state of one site, shared by every process that serves it."""

    presence: PresenceStore
    calls: CallBook
    rooms: RoomBook
    #: Seconds between :meth:`heartbeat` calls; ``None`` when the store needs none.
    heartbeat_interval: float | None
    #: Whether :meth:`close` was called (the heartbeat task then ends).
    closed: bool

    def heartbeat(self) -> tuple[list[tuple[str, User, bool]], list[str]]:
        """Renew this process's lease and forget the connections of processes whose
        lease ran out. Returns ``(reaped, revived)``: those connections as
        ``(sid, user, last)`` (``last`` when it was the user's last connection), and
        the ids of this process's users registered again after the backing server
        lost them."""

    def close(self) -> None:
        """Release connections to the backing server (nothing for memory)."""


def make_books(
    settings: Settings, *, clock: Callable[[], float] = time.monotonic
) -> tuple[CallBook, RoomBook]:
    """A :class:`CallBook` and a :class:`RoomBook` configured from ``settings``."""
    history = settings.chat_history
    grace = settings.reconnect_grace
    calls = CallBook(
        chat_history=history,
        claim_window=max(MIN_CLAIM_WINDOW, grace),
        ended_memory=max(MIN_ENDED_MEMORY, 2 * grace),
        clock=clock,
    )
    rooms = RoomBook(capacity=settings.room_capacity, chat_history=history, clock=clock)
    return calls, rooms
