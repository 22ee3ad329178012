"""Who is online: users, their connections (Socket.IO sids) and their status.

A user with several tabs or devices is one entry with several connections; they
join with their first connection and leave with their last. This module holds no
Socket.IO code: :class:`~flask_videochat.events.namespace.VideoChatNamespace` turns what it
returns into presence events.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import Enum
from typing import Iterable, Protocol


@dataclass(frozen=True)
class User:
    """A signed-in person as the host app names them.

    :param id: the host's user id, as a string.
    :param name: the display name, untrusted text (the widget renders it as text);
        from the host, cleaned by :func:`flask_videochat.core.text.display_name`.
    """

    id: str
    name: str

    def public(self) -> dict[str, str]:
        """``{"id", "name"}`` as sent to browsers."""
        return {"id": self.id, "name": self.name}


class Status(str, Enum):
    """A user's presence status, derived from their calls."""

    AVAILABLE = "available"
    RINGING = "ringing"
    IN_CALL = "in_call"
    #: A member of a room (a call that grew into a room is a room).
    IN_ROOM = "in_room"


class PresenceStore(Protocol):
    """Storage of online users; the in-memory store is :class:`MemoryPresence`."""

    def connect(self, sid: str, user: User) -> bool:
        """Record connection ``sid`` of ``user``; ``True`` when it is their first."""

    def disconnect(self, sid: str) -> tuple[User | None, bool]:
        """Forget ``sid``; returns its user and ``True`` when it was their last."""

    def user_of(self, sid: str) -> User | None:
        """The user holding connection ``sid``, or ``None``."""

    def get(self, user_id: str) -> User | None:
        """The online user with this id, or ``None`` when offline."""

    def sids_of(self, user_id: str) -> frozenset[str]:
        """The open connections of a user (empty when offline)."""

    def users(self) -> list[tuple[User, Status]]:
        """Every online user with their last published status."""

    def set_status(self, user_id: str, status: Status) -> bool:
        """Publish a status; ``True`` when it changed (and should be broadcast)."""

    def states(self, user_ids: Iterable[str]) -> dict[str, tuple[User, Status]]:
        """The online users among ``user_ids`` with their status (offline ones are
        missing)."""


class MemoryPresence:
    """:class:`PresenceStore` in this process's memory, safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._users: dict[str, User] = {}
        self._sids: dict[str, set[str]] = {}
        self._owner: dict[str, str] = {}
        self._status: dict[str, Status] = {}

    def connect(self, sid: str, user: User) -> bool:
        with self._lock:
            first = user.id not in self._sids
            if first:
                self._users[user.id] = user
                self._sids[user.id] = set()
                self._status[user.id] = Status.AVAILABLE
            self._sids[user.id].add(sid)
            self._owner[sid] = user.id
            return first

    def disconnect(self, sid: str) -> tuple[User | None, bool]:
        with self._lock:
            user_id = self._owner.pop(sid, None)
            if user_id is None:
                return None, False
            user = self._users[user_id]
            sids = self._sids[user_id]
            sids.discard(sid)
            if sids:
                return user, False
            del self._sids[user_id], self._users[user_id], self._status[user_id]
            return user, True

    def user_of(self, sid: str) -> User | None:
        with self._lock:
            user_id = self._owner.get(sid)
            return None if user_id is None else self._users[user_id]

    def get(self, user_id: str) -> User | None:
        with self._lock:
            return self._users.get(user_id)

    def sids_of(self, user_id: str) -> frozenset[str]:
        with self._lock:
            return frozenset(self._sids.get(user_id, ()))

    def users(self) -> list[tuple[User, Status]]:
        with self._lock:
            return [(u, self._status[uid]) for uid, u in self._users.items()]

    def states(self, user_ids: Iterable[str]) -> dict[str, tuple[User, Status]]:
        with self._lock:
            return {
                uid: (self._users[uid], self._status[uid]) for uid in user_ids if uid in self._users
            }

    def set_status(self, user_id: str, status: Status) -> bool:
        with self._lock:
            if user_id not in self._users or self._status[user_id] is status:
                return False
            self._status[user_id] = status
            return True
