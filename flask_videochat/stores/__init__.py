"""Where the extension keeps its state (presence, calls, rooms): in this process's
memory (:class:`~flask_videochat.stores.memory.MemoryStore`, the default) or in
Redis (:class:`~flask_videochat.stores.redis.RedisStore`, with
``VIDEOCHAT_STORE_URL``). Both offer the same :class:`~flask_videochat.stores.base.Store`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Store, make_books
from .memory import MemoryStore

if TYPE_CHECKING:
    from ..config import Settings

__all__ = ["MemoryStore", "Store", "make_books", "open_store"]


def open_store(settings: Settings, *, secret_key: str | bytes | None = None) -> Store:
    """The store ``settings.store_url`` names: memory when it is ``None``.

    :param secret_key: the app's ``SECRET_KEY``, which signs what a Redis store
        writes (every process of the site must share it).
    :raises RuntimeError: a Redis URL but redis-py is not installed, or no
        ``secret_key``.
    """
    if settings.store_url is None:
        return MemoryStore(settings)
    try:
        from .redis import RedisStore
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError(
            "VIDEOCHAT_STORE_URL is a Redis URL but redis-py is missing: "
            "pip install 'flask-videochat[redis]'"
        ) from exc
    if not secret_key:
        raise RuntimeError(
            "VIDEOCHAT_STORE_URL needs the app's SECRET_KEY, shared by every process of "
            "the site: it signs what the extension writes to Redis."
        )
    return RedisStore(settings, secret_key=secret_key)
