"""The store in this process's memory: the default, for a site served by one
process."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.presence import MemoryPresence, PresenceStore, User
from .base import make_books

if TYPE_CHECKING:
    from ..config import Settings


class MemoryStore:
    """:class:`Store` in this process's memory: the default, for a site served by
    one process."""

    heartbeat_interval: float | None = None
    closed = False

    def __init__(self, settings: Settings) -> None:
        self.presence: PresenceStore = MemoryPresence()
        self.calls, self.rooms = make_books(settings)

    def heartbeat(self) -> tuple[list[tuple[str, User, bool]], list[str]]:
        return [], []

    def close(self) -> None:
        self.closed = True
