"""The Redis store shared by several processes: each :class:`RedisStore` here plays
one process of the site (its own connection pools, process id and copies of the
books), all on one Redis started for the session.

What must hold across processes: one view of who is online, transitions that are
atomic (two tabs answering one call on two processes at once: exactly one wins),
the users of a process that died disappear after the presence TTL, and a Redis
that comes back empty is refilled with the connections each process still has."""

from __future__ import annotations

import pickle
import threading
import time
from typing import Any, Callable, Iterator

import pytest
import redis

from flask_videochat import ErrorCode, ProtocolError, Status, User
from flask_videochat.config import DEFAULTS, Settings
from flask_videochat.core.calls import CallState
from flask_videochat.stores import open_store
from flask_videochat.stores.redis import (
    PREFIX,
    RedisStore,
    SecretKeyMismatchError,
    StoreIntegrityError,
)

ADA, BOB, CY = User("ada", "Ada"), User("bob", "Bob"), User("cy", "Cy")

Process = Callable[..., RedisStore]


@pytest.fixture
def process(redis_url: str) -> Iterator[Process]:
    """``process(ttl=2)`` -> a new :class:`RedisStore`: one more process of the site."""
    stores: list[RedisStore] = []

    def start(**config: Any) -> RedisStore:
        values = {**DEFAULTS, "VIDEOCHAT_STORE_URL": redis_url, "VIDEOCHAT_ROOM_CAPACITY": 2}
        values.update({f"VIDEOCHAT_{k.upper()}": v for k, v in config.items()})
        store = open_store(Settings.from_config(values), secret_key="shared-secret")
        assert isinstance(store, RedisStore)
        stores.append(store)
        return store

    yield start
    for store in stores:
        store.close()


def test_presence_is_one_view_across_processes(process: Process) -> None:
    one, two = process(), process()

    assert one.presence.connect("a1", ADA) is True
    assert two.presence.connect("a2", ADA) is False  # Ada's second tab, elsewhere
    two.presence.connect("b1", BOB)

    for store in (one, two):
        assert sorted(u.id for u, _ in store.presence.users()) == ["ada", "bob"]
        assert store.presence.sids_of("ada") == frozenset({"a1", "a2"})
        assert store.presence.user_of("b1") == BOB
    assert one.presence.disconnect("a1") == (ADA, False)
    assert two.presence.disconnect("a2") == (ADA, True)  # her last tab
    assert one.presence.get("ada") is None


def test_a_change_on_one_process_is_seen_by_the_other(process: Process) -> None:
    one, two = process(), process()
    call = one.calls.invite("ada", "a1", "bob")

    assert two.calls.live_call_of("bob") == call
    two.calls.accept(call.id, "bob", "b1")

    assert one.calls.status_of("ada") is Status.IN_CALL
    assert one.calls.relay_target(call.id, "ada", "a1")[1] == "b1"


def _race(*attempts: tuple[RedisStore, Callable[[RedisStore], Any]]) -> list[Any]:
    """Run each ``fn(store)`` in its own thread, released together; returns each
    result, or the error code it raised, in order."""
    start = threading.Barrier(len(attempts))
    outcomes: list[Any] = [None] * len(attempts)

    def run(i: int, store: RedisStore, fn: Callable[[RedisStore], Any]) -> None:
        start.wait()
        try:
            outcomes[i] = fn(store)
        except ProtocolError as exc:
            outcomes[i] = exc.code

    threads = [threading.Thread(target=run, args=(i, *a)) for i, a in enumerate(attempts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return outcomes


def test_two_tabs_accepting_on_two_processes_at_once_exactly_one_wins(process: Process) -> None:
    one, two = process(), process()
    for round_ in range(20):
        call_id = one.calls.invite("ada", "a1", "bob").id
        outcomes = _race(
            (one, lambda store, c=call_id: store.calls.accept(c, "bob", "b1")),
            (two, lambda store, c=call_id: store.calls.accept(c, "bob", "b2")),
        )

        won = [sid for sid, out in zip(("b1", "b2"), outcomes) if not isinstance(out, ErrorCode)]
        assert len(won) == 1, (round_, outcomes)
        lost = [out for out in outcomes if isinstance(out, ErrorCode)]
        assert lost[0] in (ErrorCode.INVALID_STATE, ErrorCode.CALL_NOT_FOUND)
        held = two.calls.live_call_of("bob")
        assert held is not None and held.state is CallState.ACTIVE
        assert held.callee_sid == won[0]
        one.calls.hangup(call_id, "ada")


def test_the_last_seat_of_a_room_goes_to_one_of_two_processes(process: Process) -> None:
    one, two = process(), process()
    for round_ in range(20):
        room = f"standup-{round_}"
        one.rooms.join(room, ADA, "a1")

        outcomes = _race(
            (one, lambda store, r=room: store.rooms.join(r, BOB, "b1")),
            (two, lambda store, r=room: store.rooms.join(r, CY, "c1")),
        )

        assert sorted(isinstance(out, ErrorCode) for out in outcomes) == [False, True], outcomes
        assert ErrorCode.ROOM_FULL in outcomes
        seated = two.rooms.get(room)
        assert seated is not None and len(seated.members) == 2  # capacity 2


def test_the_users_of_a_dead_process_are_reaped_after_the_ttl(process: Process) -> None:
    dead, alive = process(presence_ttl=2), process(presence_ttl=2)
    dead.presence.connect("a1", ADA)
    dead.presence.connect("b1", BOB)
    alive.presence.connect("b2", BOB)  # Bob has a tab on the live process too

    assert alive.heartbeat() == ([], [])  # the dead one's lease is still running
    time.sleep(2.2)  # it never renews: its lease runs out
    reaped, revived = alive.heartbeat()

    assert sorted((sid, user.id, last) for sid, user, last in reaped) == [
        ("a1", "ada", True),
        ("b1", "bob", False),
    ]
    assert revived == []
    assert [u.id for u, _ in alive.presence.users()] == ["bob"]
    assert alive.presence.sids_of("bob") == frozenset({"b2"})
    assert alive.heartbeat() == ([], [])  # reaped once only


def test_a_live_process_renewing_its_lease_is_never_reaped(process: Process) -> None:
    one, two = process(presence_ttl=2), process(presence_ttl=2)
    one.presence.connect("a1", ADA)
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        assert one.heartbeat() == ([], [])
        assert two.heartbeat() == ([], [])
        time.sleep(0.3)
    assert two.presence.get("ada") == ADA


def test_a_redis_that_lost_everything_is_refilled_by_heartbeats(
    process: Process, redis_url: str
) -> None:
    one, two = process(presence_ttl=2), process(presence_ttl=2)
    one.presence.connect("a1", ADA)
    two.presence.connect("b1", BOB)
    one.calls.invite("ada", "a1", "bob")

    client = redis.Redis.from_url(redis_url)
    client.flushall()  # as a Redis restarted without persistence
    client.close()
    assert one.presence.users() == []
    time.sleep(2 / 3)

    assert one.heartbeat() == ([], ["ada"])
    assert two.heartbeat() == ([], ["bob"])
    assert sorted(u.id for u, _ in two.presence.users()) == ["ada", "bob"]
    # Calls in progress are lost to the server; new ones work at once.
    assert two.calls.live_call_of("ada") is None
    call = two.calls.invite("bob", "b1", "ada")
    assert one.calls.accept(call.id, "ada", "a1").state is CallState.ACTIVE


def test_keys_live_under_the_prefix(process: Process, redis_url: str) -> None:
    one = process()
    one.presence.connect("a1", ADA)
    one.calls.invite("ada", "a1", "bob")
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    keys = client.keys("*")
    client.close()
    assert keys and all(k.startswith(PREFIX) for k in keys)


def test_a_book_not_signed_with_the_sites_secret_is_never_unpickled(
    process: Process, redis_url: str, tmp_path: Any
) -> None:
    one = process()
    one.calls.invite("ada", "a1", "bob")
    # Someone who can write to Redis but does not know the secret plants a pickle
    # that would run code when loaded.
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self) -> tuple[Any, ...]:
            return (open, (str(marker), "w"))

    client = redis.Redis.from_url(redis_url)
    # Bare, and behind a made-up signature.
    for planted in (pickle.dumps(Exploit()), b"\0" * 32 + pickle.dumps(Exploit())):
        client.set(PREFIX + "calls", planted)
        client.set(PREFIX + "calls:version", planted[-8:])
        with pytest.raises(StoreIntegrityError, match="SECRET_KEY"):
            one.calls.live_call_of("ada")
        assert not marker.exists()
    client.close()


def test_a_process_with_another_secret_key_refuses_to_start(redis_url: str) -> None:
    """Two processes on one store with different SECRET_KEYs could not read each
    other's books (a call across them would never get media): the second one fails
    at start-up, naming the cause, and the first goes on undisturbed."""
    values = {**DEFAULTS, "VIDEOCHAT_STORE_URL": redis_url}
    ours = open_store(Settings.from_config(values), secret_key="ours")
    try:
        ours.calls.invite("ada", "a1", "bob")
        with pytest.raises(SecretKeyMismatchError, match="different SECRET_KEY") as refused:
            open_store(Settings.from_config(values), secret_key="theirs")
        assert ours.process_id in str(refused.value)
        assert ours.calls.live_call_of("ada") is not None
        same = open_store(Settings.from_config(values), secret_key="ours")
        assert same.calls.live_call_of("ada") is not None, "the same key joins the site"
        same.close()
        client = redis.Redis.from_url(redis_url, decode_responses=True)
        leases = [k for k in client.scan_iter(PREFIX + "proc:*:alive")]
        assert leases == [f"{PREFIX}proc:{ours.process_id}:alive"], "the refused one left none"
        client.close()
    finally:
        ours.close()


def test_books_of_a_live_process_of_an_older_version_are_kept(redis_url: str) -> None:
    """A live process of a version that wrote no key fingerprint (its lease says
    "1"): its key is unknown, so its books are not taken as unreadable leftovers."""
    values = {**DEFAULTS, "VIDEOCHAT_STORE_URL": redis_url}
    old = open_store(Settings.from_config(values), secret_key="old")
    old.calls.invite("ada", "a1", "bob")
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.set(f"{PREFIX}proc:{old.process_id}:alive", "1", px=15000)
    try:
        new = open_store(Settings.from_config(values), secret_key="new")
        new.close()
        assert old.calls.live_call_of("ada") is not None
    finally:
        old.close()
        client.close()


def test_books_left_by_processes_of_another_key_are_dropped_at_start_up(
    redis_url: str,
) -> None:
    """A SECRET_KEY changed while the site was down: the books the old processes
    left cannot be read by anyone; the new process starts them afresh."""
    values = {**DEFAULTS, "VIDEOCHAT_STORE_URL": redis_url}
    old = open_store(Settings.from_config(values), secret_key="old")
    old.calls.invite("ada", "a1", "bob")
    old.close()  # gives up its lease: no live process has the old key
    new = open_store(Settings.from_config(values), secret_key="new")
    try:
        assert new.calls.live_call_of("ada") is None
        new.calls.invite("cy", "c1", "dan")
        assert new.calls.live_call_of("cy") is not None
    finally:
        new.close()


def test_a_redis_store_needs_the_secret_key(redis_url: str) -> None:
    settings = Settings.from_config({**DEFAULTS, "VIDEOCHAT_STORE_URL": redis_url})
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        open_store(settings)
