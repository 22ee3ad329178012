"""The rules of :class:`example_site.serving.ConnectionGuard` (deadlines, the
body deadline, eviction at the cap, the middleware), driven with a fake clock over
socket pairs; the example site's servers are tested live in
``test_example_site_serving.py``."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from example_site import serving
from example_site.serving import (
    IN_APP,
    READING_BODY,
    WAITING,
    ConnectionGuard,
    Timeouts,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def guard(clock: Clock) -> ConnectionGuard:
    return ConnectionGuard(Timeouts(header=10, body=5, keepalive=20), clock=clock)


@pytest.fixture
def pairs() -> Iterator[list[tuple[socket.socket, socket.socket]]]:
    made: list[tuple[socket.socket, socket.socket]] = []
    yield made
    for server_side, client_side in made:
        server_side.close()
        client_side.close()


def shut(client_side: socket.socket) -> bool:
    """Whether the server side of this pair was shut down (the client reads EOF)."""
    client_side.settimeout(0.5)
    try:
        return client_side.recv(1) == b""
    except TimeoutError:
        return False


def test_deadlines_hold_outside_the_app_only(
    guard: ConnectionGuard, clock: Clock, pairs: list[tuple[socket.socket, socket.socket]]
) -> None:
    pairs += [socket.socketpair() for _ in range(3)]
    idle, served, kept = (guard.open(server_side) for server_side, _ in pairs)
    for conn in (served, kept):
        clock.now += 1
        assert guard.enter_app(conn)
    clock.now += 7.5
    assert guard.reap() == 0
    clock.now += 0.5  # idle has waited its 10 s
    assert guard.reap() == 1 and idle.closing
    assert shut(pairs[0][1]) and not shut(pairs[1][1])
    guard.leave_app(kept)  # the keep-alive deadline from now
    clock.now += 1000
    assert not served.closing, "never while in the app"
    assert guard.reap() == 1 and kept.closing
    assert served.phase == IN_APP and kept.phase == WAITING
    assert not guard.enter_app(kept), "a connection shut down is not served"


def test_the_body_deadline_holds_while_the_app_reads(
    guard: ConnectionGuard, clock: Clock, pairs: list[tuple[socket.socket, socket.socket]]
) -> None:
    pairs += [socket.socketpair() for _ in range(2)]
    reading, late = (guard.open(server_side) for server_side, _ in pairs)
    assert guard.enter_app(reading) and guard.enter_app(late)
    guard.begin_read(reading)
    assert reading.phase == READING_BODY
    clock.now += 4.9
    assert guard.reap() == 0
    clock.now += 0.1
    assert guard.reap() == 1 and reading.closing
    assert shut(pairs[0][1])
    # A read that starts past the deadline is cut at once.
    assert not late.closing
    guard.begin_read(late)
    assert late.closing and shut(pairs[1][1])
    guard.end_read(late)


def test_eviction_takes_the_longest_waiting_then_the_longest_reading(
    guard: ConnectionGuard, clock: Clock, pairs: list[tuple[socket.socket, socket.socket]]
) -> None:
    pairs += [socket.socketpair() for _ in range(4)]
    conns = []
    for server_side, _ in pairs:
        conns.append(guard.open(server_side))
        clock.now += 1
    first, second, reading, in_app = conns
    for conn in (reading, in_app):
        assert guard.enter_app(conn)
    guard.begin_read(reading)
    assert guard.evict_oldest() and first.closing
    assert guard.evict_oldest() and second.closing
    assert guard.evict_oldest() and reading.closing
    assert not guard.evict_oldest(), "never one in the app"
    assert not in_app.closing
    assert (guard.live, guard.closing, guard.evicted) == (4, 3, 3)


def test_eviction_spares_a_waiting_connection_whose_request_has_arrived(
    guard: ConnectionGuard, clock: Clock, pairs: list[tuple[socket.socket, socket.socket]]
) -> None:
    # A person's fresh request waits behind a burst of silent sockets: its bytes are
    # there, the silent ones have none, so they go first however old the request is.
    pairs += [socket.socketpair() for _ in range(3)]
    conns = []
    for server_side, _ in pairs:
        conns.append(guard.open(server_side))
        clock.now += 1
    request, silent, later_silent = conns
    pairs[0][1].sendall(b"POST /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n")

    assert guard.evict_oldest() and silent.closing and not request.closing
    assert guard.evict_oldest() and later_silent.closing and not request.closing
    assert guard.evict_oldest() and request.closing, "then the oldest, bytes or not"
    assert pairs[0][0].recv(100).startswith(b"POST"), "the peek consumed nothing"


def test_admit_evicts_one_and_waits_for_it_to_end(
    guard: ConnectionGuard, pairs: list[tuple[socket.socket, socket.socket]]
) -> None:
    pairs += [socket.socketpair() for _ in range(2)]
    idle, busy = (guard.open(server_side) for server_side, _ in pairs)
    assert guard.enter_app(busy)
    ended = threading.Event()

    def serve_idle() -> None:  # the idle connection's thread: its read returns at shutdown
        pairs[0][0].recv(1)
        guard.release(idle)
        ended.set()

    threading.Thread(target=serve_idle, daemon=True).start()
    guard.admit(2)
    assert ended.is_set() and idle.closing and not busy.closing
    assert guard.live == 1


def test_admit_holds_back_while_every_connection_is_in_the_app(
    guard: ConnectionGuard, pairs: list[tuple[socket.socket, socket.socket]]
) -> None:
    pairs.append(socket.socketpair())
    busy = guard.open(pairs[0][0])
    assert guard.enter_app(busy)
    admitted = threading.Event()
    threading.Thread(target=lambda: (guard.admit(1), admitted.set()), daemon=True).start()
    assert not admitted.wait(0.3), "held back"
    guard.leave_app(busy)  # evictable now: admit evicts it, and waits for its end
    end = time.monotonic() + 2
    while not busy.closing and time.monotonic() < end:
        time.sleep(0.01)
    assert busy.closing and not admitted.is_set()
    guard.release(busy)
    assert admitted.wait(2)


def test_the_middleware_marks_the_app_and_guards_the_body(
    guard: ConnectionGuard, clock: Clock, pairs: list[tuple[socket.socket, socket.socket]]
) -> None:
    pairs.append(socket.socketpair())
    conn = guard.open(pairs[0][0])
    seen: list[str] = []

    class Stream:
        def read(self, size: int = -1) -> bytes:
            seen.append(conn.phase)
            return b"name=Ada"

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(conn.phase)
        body = environ["wsgi.input"].read()
        assert not hasattr(environ["wsgi.input"], "readinto"), "only what the stream has"
        start_response("200 OK", [])
        return [body]

    wrapped = guard.wsgi(app)
    assert wrapped({"wsgi.input": Stream()}, lambda *a: None) == [b"name=Ada"], "not bound"
    guard.bind(conn)
    assert wrapped({"wsgi.input": Stream()}, lambda *a: None) == [b"name=Ada"]
    assert seen == [WAITING, WAITING, IN_APP, READING_BODY]
    assert conn.phase == WAITING and conn.deadline == clock.now + 20
    guard.evict_oldest()
    statuses: list[str] = []
    assert wrapped({}, lambda status, headers: statuses.append(status)) == [b""]
    assert statuses == ["408 Request Timeout"], "a head cut short is not served"


def test_timeouts_must_be_positive() -> None:
    with pytest.raises(ValueError, match="body"):
        Timeouts(body=0)
    assert Timeouts(header=1, body=2, keepalive=3).reap_interval() == 0.25
    assert Timeouts().reap_interval() == serving.MAX_REAP_INTERVAL


def test_the_command_line_takes_the_timeouts() -> None:
    out = subprocess.run([sys.executable, "-m", "example_site", "--help"], capture_output=True,
                         text=True, check=True).stdout
    for option in ("--header-timeout", "--body-timeout", "--keepalive-timeout"):
        assert option in out
    bad = subprocess.run([sys.executable, "-m", "example_site", "--header-timeout", "0"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "must be > 0 seconds" in bad.stderr


def test_a_websocket_request_gets_the_websocket_timeout(
    clock: Clock, pairs: list[tuple[socket.socket, socket.socket]]
) -> None:
    """Under threading Engine.IO sets no socket timeout on a WebSocket, and a client
    that stops answering would keep its thread: the guard sets it."""
    guard = ConnectionGuard(Timeouts(), websocket_timeout=45.0, clock=clock)
    pairs += [socket.socketpair() for _ in range(2)]
    timeouts: list[float | None] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        timeouts.append(current.gettimeout())
        return []

    wrapped = guard.wsgi(app)
    for (current, _), upgrade in zip(pairs, ["websocket", ""]):
        conn = guard.open(current)
        guard.bind(conn)
        wrapped({"wsgi.input": None, "HTTP_UPGRADE": upgrade}, lambda *a: None)
        guard.release(conn)
    assert timeouts == [45.0, None]
