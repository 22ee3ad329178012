"""The Redis store: presence, calls and rooms shared by several processes.

Chosen with ``VIDEOCHAT_STORE_URL = "redis://..."``; needs redis-py
(``pip install flask-videochat[redis]``). Layout, under the prefix ``videochat:``:

``users`` (hash user id -> ``{"id", "name"}`` JSON), ``status`` (hash user id ->
status), ``conns:<user id>`` (set of sids), ``sid`` (hash sid -> user id)
    who is online on which connection (:class:`RedisPresence`); each change is one
    Lua script, so it is atomic across processes.
``procs`` (set), ``proc:<id>:alive`` (a key with a TTL), ``proc:<id>:sids`` (set)
    the processes serving the site, their lease and their connections. Every process
    renews its lease every third of ``VIDEOCHAT_PRESENCE_TTL``; one whose lease ran
    out is reaped by the first other process to notice (:meth:`RedisStore.heartbeat`):
    its connections are forgotten and their users shown offline.
``calls``, ``rooms`` (with ``:version`` and ``:lock``)
    the :class:`~flask_videochat.core.calls.CallBook` and
    :class:`~flask_videochat.core.rooms.RoomBook` data, each one pickled document
    (:class:`SharedBook`). Every transition runs under that book's Redis lock on the
    freshest copy, so two processes accepting one call at the same instant are
    serialised and exactly one wins; reads check the version (one GET) and reload
    only when another process changed the book.

The books are pickled, and every pickle is signed (HMAC-SHA256 with a key derived
from the app's ``SECRET_KEY``, which every process of a site shares): a document
whose signature does not match is refused, never unpickled, so someone who can write
to Redis but does not know the secret cannot make the servers run code. They can
still disturb presence and calls: keep Redis private (``docs/security.md``).

If Redis is restarted empty, each process re-registers its own connections at its
next heartbeat; calls and rooms in progress are lost to the server (the browsers'
media goes on; new calls work at once).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import json
import logging
import os
import pickle
import secrets
import socket
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Iterable

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from ..core.presence import PresenceStore, Status, User
from .base import make_books

if TYPE_CHECKING:
    from ..config import Settings
    from ..core.calls import CallBook
    from ..core.rooms import RoomBook

log = logging.getLogger("flask_videochat")

#: Prefix of every key the store writes.
PREFIX = "videochat:"

#: Seconds a book's lock is held at most (a process dying with it frees it after
#: this) and waited for at most.
LOCK_TIMEOUT = 10.0

Args = tuple[Any, ...]
Kwargs = dict[str, Any]

_CONNECT = """
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[5], ARGV[1])
redis.call('SADD', KEYS[4], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
if redis.call('SCARD', KEYS[4]) == 1 then
  redis.call('HSET', KEYS[2], ARGV[2], ARGV[4])
  return 1
end
if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 0 then
  redis.call('HSET', KEYS[2], ARGV[2], ARGV[4])
end
return 0
"""

_DISCONNECT = """
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then return {-1, ''} end
local user = redis.call('HGET', KEYS[1], ARGV[2]) or ''
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('SREM', KEYS[5], ARGV[1])
redis.call('SREM', KEYS[4], ARGV[1])
if redis.call('SCARD', KEYS[4]) == 0 then
  redis.call('HDEL', KEYS[1], ARGV[2])
  redis.call('HDEL', KEYS[2], ARGV[2])
  return {1, user}
end
return {0, user}
"""

_DELETE_IF_SAME = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
"""

_SET_STATUS = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
if redis.call('HGET', KEYS[2], ARGV[1]) == ARGV[2] then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
"""


def _user_json(user: User) -> str:
    return json.dumps(user.public(), separators=(",", ":"))


@functools.lru_cache(maxsize=65536)
def _user(raw: str | None) -> User | None:
    """The user stored as ``raw`` JSON (parsed once per distinct value: a snapshot
    reads every online user)."""
    if not raw:
        return None
    data = json.loads(raw)
    return User(id=data["id"], name=data["name"])


class RedisPresence:
    """:class:`~flask_videochat.core.presence.PresenceStore` in Redis, shared by the
    processes of one site. Connections this process owns are also kept locally, so
    that the check done on every event (:meth:`user_of`) costs no round trip.

    :param client: a redis-py client with ``decode_responses=True``.
    :param process_id: this process's id in ``procs``.
    """

    def __init__(self, client: Any, process_id: str) -> None:
        # A client with decode_responses=True (redis-py's types do not follow it).
        self._r = client
        self.process_id = process_id
        self._local: dict[str, User] = {}
        self._lock = threading.Lock()
        self._connect = client.register_script(_CONNECT)
        self._disconnect = client.register_script(_DISCONNECT)
        self._set_status = client.register_script(_SET_STATUS)

    # -- keys ---------------------------------------------------------------------

    @staticmethod
    def _conns(user_id: str) -> str:
        return f"{PREFIX}conns:{user_id}"

    @staticmethod
    def proc_sids(process_id: str) -> str:
        """The key of the set of connections owned by a process."""
        return f"{PREFIX}proc:{process_id}:sids"

    def _keys(self, user_id: str, process_id: str) -> list[str]:
        return [
            PREFIX + "users",
            PREFIX + "status",
            PREFIX + "sid",
            self._conns(user_id),
            self.proc_sids(process_id),
        ]

    # -- PresenceStore --------------------------------------------------------------

    def connect(self, sid: str, user: User) -> bool:
        with self._lock:
            self._local[sid] = user
        return self.register(sid, user)

    def register(self, sid: str, user: User) -> bool:
        """Write connection ``sid`` of ``user`` to Redis; ``True`` when it is their
        first (this process keeps it locally already)."""
        args = [sid, user.id, _user_json(user), Status.AVAILABLE.value]
        return bool(self._connect(keys=self._keys(user.id, self.process_id), args=args))

    def disconnect(self, sid: str) -> tuple[User | None, bool]:
        with self._lock:
            user = self._local.pop(sid, None)
        if user is None:
            return None, False
        _, last = self.forget(sid, user.id, self.process_id)
        return user, last

    def forget(self, sid: str, user_id: str, process_id: str) -> tuple[User | None, bool]:
        """Remove connection ``sid`` of ``user_id`` owned by ``process_id``; returns
        the user (``None`` when the connection was not there) and whether it was
        their last connection."""
        code, raw = self._disconnect(keys=self._keys(user_id, process_id), args=[sid, user_id])
        if int(code) < 0:
            return None, False
        return _user(raw) or User(user_id, user_id), int(code) == 1

    def user_of(self, sid: str) -> User | None:
        with self._lock:
            user = self._local.get(sid)
        if user is not None:
            return user
        user_id = self._r.hget(PREFIX + "sid", sid)
        return None if user_id is None else self.get(user_id)

    def get(self, user_id: str) -> User | None:
        return _user(self._r.hget(PREFIX + "users", user_id))

    def sids_of(self, user_id: str) -> frozenset[str]:
        return frozenset(self._r.smembers(self._conns(user_id)))

    def users(self) -> list[tuple[User, Status]]:
        pipe = self._r.pipeline(transaction=True)
        pipe.hgetall(PREFIX + "users")
        pipe.hgetall(PREFIX + "status")
        users, statuses = pipe.execute()
        out = []
        for user_id, raw in users.items():
            user = _user(raw)
            if user is not None:
                out.append((user, Status(statuses.get(user_id, Status.AVAILABLE.value))))
        return out

    def states(self, user_ids: Iterable[str]) -> dict[str, tuple[User, Status]]:
        ids = list(user_ids)
        if not ids:
            return {}
        pipe = self._r.pipeline(transaction=True)
        pipe.hmget(PREFIX + "users", ids)
        pipe.hmget(PREFIX + "status", ids)
        users, statuses = pipe.execute()
        out = {}
        for user_id, raw, status in zip(ids, users, statuses):
            user = _user(raw)
            if user is not None:
                out[user_id] = (user, Status(status or Status.AVAILABLE.value))
        return out

    def set_status(self, user_id: str, status: Status) -> bool:
        keys = [PREFIX + "users", PREFIX + "status"]
        return bool(self._set_status(keys=keys, args=[user_id, status.value]))

    def local_connections(self) -> list[tuple[str, User]]:
        """The connections this process owns."""
        with self._lock:
            return list(self._local.items())


class SharedBook:
    """A :class:`~flask_videochat.core.calls.CallBook` or
    :class:`~flask_videochat.core.rooms.RoomBook` whose data lives in Redis.

    Offers the book's methods unchanged. A method in ``readers`` runs on this
    process's copy after reloading it if another process changed the book (one GET
    of the version when nothing changed); any other method is a transition: it
    takes the book's Redis lock, reloads, runs, and saves the data with a new random
    version, all or nothing (a method that raises saves nothing).

    :param key: the Redis key of the pickled data (``:version`` and ``:lock`` beside).
    :param secret: the key signing the pickles (:func:`signing_key`).
    """

    def __init__(
        self, client: redis.Redis, key: str, book: Any, readers: Iterable[str], *, secret: bytes
    ) -> None:
        self._r = client
        self._secret = secret
        self._key = key
        self._version_key = key + ":version"
        self._book = book
        self._readers = frozenset(readers)
        self._empty = pickle.dumps(book.dump_state())
        self._version: bytes | None = None
        self._lock = client.lock(
            key + ":lock",
            timeout=LOCK_TIMEOUT,
            sleep=0.002,
            blocking_timeout=LOCK_TIMEOUT,
            thread_local=False,
        )
        self._local = threading.RLock()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._book, name)
        if not callable(attr) or name.startswith("_"):
            return attr
        if name in self._readers:
            return lambda *a, **k: self._read(attr, a, k)
        return lambda *a, **k: self._write(attr, a, k)

    def __len__(self) -> int:
        return self._read(self._book.__len__, (), {})  # type: ignore[no-any-return]

    def __contains__(self, item: object) -> bool:
        return self._read(self._book.__contains__, (item,), {})  # type: ignore[no-any-return]

    def _sync(self) -> None:
        version = self._r.get(self._version_key)
        if version is not None and version == self._version:
            return
        pipe = self._r.pipeline(transaction=True)
        pipe.get(self._version_key)
        pipe.get(self._key)
        version, blob = pipe.execute()
        raw = self._empty if blob is None else self._verified(blob)
        self._book.load_state(pickle.loads(raw))
        self._version = version

    def drop_unreadable(self) -> bool:
        """Delete the book's document when it is not signed with this process's key
        (left by processes of another ``SECRET_KEY``, none of which is alive, or
        planted): calls and rooms in it are lost, as after a Redis restart.

        :returns: whether there was one to delete.
        """
        with self._local:
            blob = self._r.get(self._key)
            if blob is None:
                return False
            try:
                self._verified(blob)
                return False
            except StoreIntegrityError:
                pass
            # Only that document: not one another process has written since.
            if not self._r.eval(_DELETE_IF_SAME, 2, self._key, self._version_key, blob):
                return False
            log.warning(
                "videochat: %s in Redis was signed with another SECRET_KEY by processes no "
                "longer running; starting it afresh",
                self._key,
            )
            self._version = None
            return True

    def _signed(self, blob: bytes) -> bytes:
        return hmac.new(self._secret, blob, hashlib.sha256).digest() + blob

    def _verified(self, signed: bytes) -> bytes:
        mac, blob = signed[:_MAC_SIZE], signed[_MAC_SIZE:]
        if not hmac.compare_digest(mac, hmac.new(self._secret, blob, hashlib.sha256).digest()):
            raise StoreIntegrityError(
                f"videochat: {self._key} in Redis is not signed with this app's SECRET_KEY "
                "(another app, a different SECRET_KEY, or tampering); refusing to load it"
            )
        return blob

    def _read(self, method: Callable[..., Any], args: Args, kwargs: Kwargs) -> Any:
        with self._local:
            self._sync()
            return method(*args, **kwargs)

    def _write(self, method: Callable[..., Any], args: Args, kwargs: Kwargs) -> Any:
        with self._local:
            if not self._lock.acquire():
                raise TimeoutError(f"videochat: could not lock {self._key} in {LOCK_TIMEOUT} s")
            try:
                self._sync()
                # A transition that raises changed nothing (the books' contract, which
                # their tests check): there is nothing to save.
                result = method(*args, **kwargs)
                version = secrets.token_hex(8).encode()
                pipe = self._r.pipeline(transaction=True)
                pipe.set(self._key, self._signed(pickle.dumps(self._book.dump_state())))
                pipe.set(self._version_key, version)
                pipe.execute()
                self._version = version
                return result
            finally:
                try:
                    self._lock.release()
                except redis.exceptions.LockError:
                    log.warning("videochat: the lock of %s expired while held", self._key)


_MAC_SIZE = hashlib.sha256().digest_size


class StoreIntegrityError(RuntimeError):
    """A document in Redis failed its signature check: it is never unpickled."""


class SecretKeyMismatchError(RuntimeError):
    """Another live process serves the same store with a different ``SECRET_KEY``:
    neither could read the other's calls and rooms (a call across them would ring,
    be answered, and never get media), so this one refuses to start."""


def signing_key(secret_key: str | bytes) -> bytes:
    """The key that signs the books' pickles, derived from the app's ``SECRET_KEY``."""
    raw = secret_key.encode() if isinstance(secret_key, str) else bytes(secret_key)
    return hmac.new(raw, b"flask-videochat redis store", hashlib.sha256).digest()


def key_fingerprint(secret: bytes) -> str:
    """What a process writes in its lease so that the others can tell whether it
    signs with their key: derived from the signing key (:func:`signing_key`), from
    which nothing about the key can be learnt. 16 hex digits."""
    return hmac.new(secret, b"flask-videochat key fingerprint", hashlib.sha256).hexdigest()[:16]


#: Methods of the books that change nothing.
CALL_READERS = (
    "live_call_of",
    "status_of",
    "is_busy",
    "claim_of",
    "ended",
    "lapsed",
    "calls_on_connection",
    "relay_target",
    "held_call",
    "dump_state",
)
ROOM_READERS = (
    "get",
    "seat_of",
    "seat_on",
    "invite_of",
    "status_of",
    "relay_target",
    "check_invite",
    "private_name",
    "dump_state",
)


#: Connections each pool of a process opens to Redis at most.
POOL_SIZE = 50


def _pool(url: str, *, text: bool) -> redis.BlockingConnectionPool:
    # A connection Redis closed (a restart) is retried on a new one, as redis-py's
    # own default client does.
    return redis.BlockingConnectionPool.from_url(
        url,
        max_connections=POOL_SIZE,
        timeout=LOCK_TIMEOUT,
        decode_responses=text,
        health_check_interval=30,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), 3),
        retry_on_error=[redis.exceptions.ConnectionError, redis.exceptions.TimeoutError],
    )


class RedisStore:
    """:class:`~flask_videochat.stores.Store` in Redis, for a site served by several
    processes (``VIDEOCHAT_STORE_URL``).

    :raises redis.exceptions.ConnectionError: Redis does not answer at start-up.
    """

    def __init__(
        self, settings: Settings, *, secret_key: str | bytes, client: redis.Redis | None = None
    ) -> None:
        assert settings.store_url is not None
        secret = signing_key(secret_key)
        # Blocking pools: under eventlet hundreds of green threads may want Redis at
        # once; they wait for a connection instead of failing (redis-py's plain
        # pool raises past its maximum).
        self._r = client or redis.Redis(connection_pool=_pool(settings.store_url, text=False))
        # Presence keys are text; the books are bytes (pickles): two pools.
        self._text: Any = redis.Redis(connection_pool=_pool(settings.store_url, text=True))
        self.ttl = settings.presence_ttl
        self.heartbeat_interval: float | None = min(1.0, self.ttl / 3)
        self.process_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._presence = RedisPresence(self._text, self.process_id)
        self.presence: PresenceStore = self._presence
        # Wall-clock time: the books' times are compared across processes.
        calls, rooms = make_books(settings, clock=time.time)
        self.calls: CallBook = SharedBook(  # type: ignore[assignment]
            self._r, PREFIX + "calls", calls, CALL_READERS, secret=secret
        )
        self.rooms: RoomBook = SharedBook(  # type: ignore[assignment]
            self._r, PREFIX + "rooms", rooms, ROOM_READERS, secret=secret
        )
        self._fingerprint = key_fingerprint(secret)
        self._renewed = 0.0
        self._check_secret_key()
        self._renew()
        try:
            self._check_secret_key()  # another one that started at the same moment
        except SecretKeyMismatchError:
            self.close()  # no lease left behind to refuse the next start
            raise

    def _check_secret_key(self) -> None:
        """Refuse to serve beside a live process that signs with another key; drop
        books left by processes gone with another key (a SECRET_KEY changed while
        the site was down: nobody can read them any more).

        :raises SecretKeyMismatchError: naming the other process.
        """
        unknown = False  # a live process of a version without fingerprints
        for process_id in sorted(self._text.smembers(PREFIX + "procs")):
            if process_id == self.process_id:
                continue
            theirs = self._text.get(self._alive_key(process_id))
            unknown = unknown or theirs == "1"
            # None: its lease ran out.
            if theirs in (None, "1") or hmac.compare_digest(theirs, self._fingerprint):
                continue
            raise SecretKeyMismatchError(
                f"flask-videochat: process {process_id} serves VIDEOCHAT_STORE_URL with a "
                "different SECRET_KEY. Every process of one site must have the same "
                "SECRET_KEY (docs/deployment.md): with two keys, neither process can read "
                "the other's calls and rooms. Refusing to start."
            )
        if unknown:
            return  # its books may be signed with its key: keep them
        for book in (self.calls, self.rooms):
            book.drop_unreadable()  # type: ignore[attr-defined]

    def _alive_key(self, process_id: str) -> str:
        return f"{PREFIX}proc:{process_id}:alive"

    def _renew(self) -> bool:
        """Renew this process's lease; ``True`` when Redis had lost track of this
        process (restarted, or it reaped us after a long pause)."""
        pipe = self._text.pipeline(transaction=True)
        pipe.set(self._alive_key(self.process_id), self._fingerprint, px=int(self.ttl * 1000))
        pipe.sadd(PREFIX + "procs", self.process_id)
        _, added = pipe.execute()
        self._renewed = time.monotonic()
        return bool(added)

    def heartbeat(self) -> tuple[list[tuple[str, User, bool]], list[str]]:
        """Renew the lease (every third of the TTL), re-register this process's
        connections if Redis lost them, and reap processes whose lease ran out.

        :returns: ``(reaped, revived)``: the connections of dead processes as
            ``(sid, user, last)``, and the ids of this process's users registered
            again (Redis had lost them).
        """
        now = time.monotonic()
        revived: list[str] = []
        if now - self._renewed >= self.ttl / 3 and self._renew():
            log.warning("videochat: Redis had forgotten this process; re-registering")
            for sid, user in self._presence.local_connections():
                self._presence.register(sid, user)
                revived.append(user.id)
        reaped: list[tuple[str, User, bool]] = []
        procs = self._text.smembers(PREFIX + "procs")
        for process_id in procs:
            if process_id == self.process_id or self._text.exists(self._alive_key(process_id)):
                continue
            if not self._text.srem(PREFIX + "procs", process_id):
                continue  # another process reaps it
            log.warning(
                "videochat: process %s stopped renewing its lease; forgetting its connections",
                process_id,
            )
            key = RedisPresence.proc_sids(process_id)
            for sid in self._text.smembers(key):
                user_id = self._text.hget(PREFIX + "sid", sid)
                if user_id is None:
                    continue
                gone, last = self._presence.forget(sid, user_id, process_id)
                if gone is not None:
                    reaped.append((sid, gone, last))
            self._text.delete(key)
        return reaped, revived

    closed = False

    def close(self) -> None:
        """Give up this process's lease at once and close the connection pools (the
        heartbeat task ends)."""
        self.closed = True
        with contextlib.suppress(redis.exceptions.RedisError):
            self._text.delete(self._alive_key(self.process_id))
        self._r.close()
        self._text.close()
