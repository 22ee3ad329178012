"""Fixtures for the unit and Socket.IO tests. What they hand out (the host app, its
tabs, the fake clock) is in :mod:`tests.harness`; see its docstring.

``host``
    a :class:`~tests.harness.Host` with the default test config (ring timeout 1 s,
    no reconnect grace, one STUN server).
``make_host``
    ``make_host(config=..., login=..., identity_loader=..., can_call=...,
    can_join=..., can_see=...)`` for a host with other settings
    (:func:`~tests.harness.build_host`).
``connect``
    ``connect("ada")`` -> a :class:`~tests.harness.Tab`: a Socket.IO connection to
    ``/videochat`` signed in as Ada. Each call opens another tab in the same browser
    (the same signed-in Flask test client, so the same session cookie);
    ``connect(None)`` is a visitor who is not signed in.
``connector_for``
    ``connector_for(host)`` -> the same as ``connect`` for a host from ``make_host``.
``peer``, ``person``, ``clock``
    a user's public ``{"id", "name"}``; the same with a presence ``"status"``; a
    :class:`~tests.harness.FakeClock` for a :class:`CallBook` or :class:`RoomBook`.
``signals_of``, ``host_signals``
    ``signals_of(host)`` starts recording a host's call and room signals;
    ``host_signals`` is what the default host got of the module's ``HOST_SIGNALS``.
``redis_server``, ``redis_url``, ``shared``
    the stores the state tests run against (see "stores" below).

Test modules import the harness's names from :mod:`tests.harness`, never from
here: with ``tests`` and ``e2e`` in one run, ``import conftest`` may find the other
directory's conftest.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any, Callable, Iterator

import pytest
from flask.testing import FlaskClient

from flask_videochat import (
    CallBook,
    call_answered,
    call_ended,
    call_started,
    room_joined,
    room_left,
)
from flask_videochat.testing.services import RedisServer
from tests.harness import ASYNC_MODES, STORE_KINDS, Connector, FakeClock, Host, MakeHost, build_host
from tests.support import Sent, recording


@pytest.fixture(params=ASYNC_MODES)
def async_mode(request: pytest.FixtureRequest) -> str:
    """The Socket.IO async mode of the host (each test runs under both)."""
    return str(request.param)


@pytest.fixture
def pytestconfig_request(request: pytest.FixtureRequest) -> pytest.FixtureRequest:
    """The fixture request (under another name than Flask's ``request``)."""
    return request


@pytest.fixture
def host_store(request: pytest.FixtureRequest) -> str:
    """Where the host keeps its state: ``"memory"``, unless a module parametrizes it
    (``pytestmark = pytest.mark.parametrize("host_store", STORE_KINDS,
    indirect=True)``) to run its tests on Redis too."""
    return str(getattr(request, "param", "memory"))


@pytest.fixture
def make_host(
    async_mode: str, host_store: str, tmp_path: Any, pytestconfig_request: pytest.FixtureRequest
) -> Iterator[MakeHost]:
    """Build a host app: ``make_host(**options)`` is
    :func:`~tests.harness.build_host` with the test's async mode, and its store
    (on Redis, an empty database). Its store is closed after the test."""
    made: list[Any] = []

    def make(**options: Any) -> Host:
        store_url = None
        if host_store == "redis":
            store_url = pytestconfig_request.getfixturevalue("redis_url")
        host = build_host(async_mode, str(tmp_path / "instance"), store_url=store_url, **options)
        made.append(host.state.store)
        return host

    yield make
    for store in made:
        store.close()


@pytest.fixture
def host(make_host: MakeHost) -> Host:
    """The default test host."""
    return make_host()


@pytest.fixture
def connector_for() -> Iterator[Callable[[Host], Connector]]:
    """``connector_for(host)``: a :class:`Connector` for any host; its tabs are
    closed after the test."""
    made: list[Connector] = []

    def make(host: Host) -> Connector:
        connector = Connector(host)
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close_all()


@pytest.fixture
def connect(host: Host, connector_for: Callable[[Host], Connector]) -> Connector:
    """Open tabs on the default host: ``connect("ada")``."""
    return connector_for(host)


@pytest.fixture
def peer(host: Host) -> Callable[[str], dict[str, str]]:
    """``peer("ada")`` -> ``{"id": "ada", "name": "Ada Lovelace"}`` on the default host."""
    return host.public


@pytest.fixture
def person(host: Host) -> Callable[..., dict[str, str]]:
    """``person("bob", "in_call")``: Bob as presence events list him."""

    def listed(user_id: str, status: str = "available") -> dict[str, str]:
        return {**host.public(user_id), "status": status}

    return listed


@pytest.fixture
def clock() -> FakeClock:
    """A :class:`FakeClock` at t=100 s."""
    return FakeClock()


@pytest.fixture
def client(host: Host) -> FlaskClient:
    """A plain Flask test client of the default host (nobody signed in)."""
    return host.app.test_client()


@pytest.fixture
def signals_of() -> Iterator[Callable[[Host], Sent]]:
    """``signals_of(host)``: start recording the host's call and room signals, as
    ``(name, kwargs)``: ``started``, ``answered``, ``ended``, ``joined``, ``left``."""
    signals = {
        "started": call_started,
        "answered": call_answered,
        "ended": call_ended,
        "joined": room_joined,
        "left": room_left,
    }
    with ExitStack() as stack:
        yield lambda host: stack.enter_context(recording(host, signals))


@pytest.fixture
def host_signals(host: Host, request: pytest.FixtureRequest) -> Iterator[Sent]:
    """Every signal of the test module's ``HOST_SIGNALS`` (name -> blinker signal)
    the default host app gets, in order, as ``(name, kwargs)``."""
    with recording(host, request.module.HOST_SIGNALS) as sent:
        yield sent


# -- stores ----------------------------------------------------------------------
#
# The store tests (books and presence) run once per store: in memory, and in a Redis
# started for the session (Debian's redis-server on a free loopback port), flushed
# before each test.


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A Redis server for the whole test session."""
    with RedisServer() as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The URL of an empty Redis database."""
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    client.close()
    return redis_server.url


@pytest.fixture(params=STORE_KINDS)
def shared(request: pytest.FixtureRequest) -> Callable[[Any, str], Any]:
    """``shared(book, "calls")`` -> the book as the store under test holds it: the book
    itself in memory, or a :class:`~flask_videochat.stores.redis.SharedBook` on an
    empty Redis (its data saved there, reloaded when another copy changed it)."""
    if request.param == "memory":
        return lambda book, key: book
    from flask_videochat.stores.redis import CALL_READERS, PREFIX, ROOM_READERS, SharedBook

    url = request.getfixturevalue("redis_url")
    clients: list[Any] = []

    def wrap(book: Any, key: str) -> Any:
        import redis

        client = redis.Redis.from_url(url)
        clients.append(client)
        readers = CALL_READERS if isinstance(book, CallBook) else ROOM_READERS
        return SharedBook(client, PREFIX + key, book, readers, secret=b"test-signing-key")

    request.addfinalizer(lambda: [c.close() for c in clients])
    return wrap
