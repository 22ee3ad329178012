"""Deadlines for idle and slow connections, and a connection cap that they cannot
fill, for the example site's two servers (eventlet.wsgi and Werkzeug's threaded
server).

A connection is *waiting* while no request of it is in the WSGI app: from accept
until the app is called for its first request (its request head must have arrived
by :attr:`Timeouts.header`), and again from the moment the app returns until it is
called for the next request on the kept-alive connection (:attr:`Timeouts.keepalive`;
the previous response's sending and the next request's head count in it). While the
app reads the request body (``wsgi.input``), the body must have arrived within
:attr:`Timeouts.body` of the app's call. A connection past its deadline is shut
down (``shutdown(SHUT_RDWR)``), which makes the server's blocked read return: its
green thread or thread ends. Time in the app is never limited: an Engine.IO
long-polling ``GET`` waits there up to the ping interval, and a WebSocket's whole
session runs there.

Only these facts about the servers are relied on: each connection is served by one
thread (green thread under eventlet) that calls the WSGI app once the request head
is read and that the app returns to when the request, or the WebSocket session, is
over. Nothing depends on the WebSocket implementation, but for one thing done for
it: a WebSocket request's connection gets a socket timeout of Engine.IO's ping
interval plus ping timeout (45 s), the longest a live client is silent, as Engine.IO
gives it itself when it finds the socket (under eventlet, not under threading), so
that a WebSocket whose client stopped answering ends (:meth:`ConnectionGuard.wsgi`).

The pieces:

- :class:`ConnectionGuard`: the connections, their phases and deadlines; its
  :meth:`~ConnectionGuard.wsgi` middleware marks a connection as in the app; its
  reaper (:meth:`~ConnectionGuard.start_reaper`) shuts down overdue connections.
- :class:`CappedPool`: eventlet.wsgi's ``custom_pool``. At the cap, a new connection
  evicts the connection that has waited longest (then the one reading its body the
  longest) instead of blocking the accept loop; only when every connection is in
  the app does the cap hold new connections back (in the listen backlog).
- :func:`guarded_request_handler`: Werkzeug's request handler registering its
  connection (threading mode: one thread per connection, no cap).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import logging
import socket
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

if TYPE_CHECKING:
    from werkzeug.serving import WSGIRequestHandler

log = logging.getLogger(__name__)

#: A WSGI application (typed loosely: the servers' own types differ).
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: Phases of a connection.
WAITING = "waiting"
IN_APP = "in app"
READING_BODY = "reading body"

#: How many of the oldest waiting connections eviction looks at for one that has
#: sent nothing (one non-blocking peek each).
EVICTION_SCAN = 64

#: The reaper's longest pause between two rounds, in seconds.
MAX_REAP_INTERVAL = 1.0


@dataclass(frozen=True)
class Timeouts:
    """Deadlines of a connection, in seconds (each > 0).

    :param header: from accept until the first request's head (request line and
        headers) is complete and the app is called.
    :param body: from the app's call until the request body is read (counted only
        while the app is reading it).
    :param keepalive: from the end of a request in the app until the next request on
        the same connection is in the app (the response's sending included).
    """

    header: float = 10.0
    body: float = 10.0
    keepalive: float = 10.0

    def __post_init__(self) -> None:
        for name in ("header", "body", "keepalive"):
            if not getattr(self, name) > 0:
                raise ValueError(f"the {name} timeout must be > 0 seconds")

    def reap_interval(self) -> float:
        """How often the reaper looks: a quarter of the shortest deadline, at most
        :data:`MAX_REAP_INTERVAL` (a connection is closed at most that late)."""
        return min(MAX_REAP_INTERVAL, min(self.header, self.body, self.keepalive) / 4)


class Connection:
    """One client connection as the guard sees it."""

    __slots__ = ("body_deadline", "closing", "deadline", "ident", "phase", "reads", "since",
                 "sock")

    def __init__(self, sock: socket.socket, now: float, deadline: float) -> None:
        self.sock = sock
        self.phase = WAITING
        #: When the current phase began.
        self.since = now
        #: When a waiting connection is shut down.
        self.deadline = deadline
        #: When a connection reading its body is shut down.
        self.body_deadline = deadline
        #: The serving thread's :func:`threading.get_ident` (``None`` until it starts).
        self.ident: int | None = None
        #: Shut down by the guard: its thread is ending.
        self.closing = False
        #: Nested reads of ``wsgi.input`` in progress.
        self.reads = 0


class ConnectionGuard:
    """The connections of one server, their phases and deadlines.

    Thread-safe; under eventlet, after ``eventlet.monkey_patch()``, its lock and
    condition are green. Connections are found by the serving thread's identity
    (:func:`threading.get_ident`, one per green thread once eventlet is patched).

    :param timeouts: the deadlines.
    :param websocket_timeout: the socket timeout a WebSocket request's connection
        gets when it enters the app (Engine.IO's ping interval plus ping timeout):
        a WebSocket whose client stopped answering then ends, instead of holding
        its thread and socket (see :meth:`wsgi`). ``None``: none.
    :param clock: seconds, monotonic (for tests).

    Example (threading; :func:`serve_eventlet` and :func:`serve_threading` do this)::

        guard = ConnectionGuard(Timeouts(header=10, body=10, keepalive=10))
        app.wsgi_app = guard.wsgi(app.wsgi_app)
        guard.start_reaper()
    """

    def __init__(self, timeouts: Timeouts, *, websocket_timeout: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.timeouts = timeouts
        self.websocket_timeout = websocket_timeout
        self._clock = clock
        #: Its lock guards everything below; notified when a connection ends, or
        #: becomes evictable.
        self.changed = threading.Condition()
        self._by_ident: dict[int, Connection] = {}
        # Connections by the start of their phase, oldest first: eviction takes the
        # first; the reaper scans them.
        self._waiting: OrderedDict[Connection, None] = OrderedDict()
        self._reading: OrderedDict[Connection, None] = OrderedDict()
        #: Open connections (registered and their thread not ended).
        self.live = 0
        #: Of those, shut down by the guard and ending.
        self.closing = 0
        #: Connections shut down past a deadline, and evicted at the cap, so far.
        self.reaped = 0
        self.evicted = 0

    # -- registration, by the server's thread or pool --------------------------------

    def open(self, sock: socket.socket) -> Connection:
        """Register a connection just accepted: waiting, with the header deadline."""
        now = self._clock()
        conn = Connection(sock, now, now + self.timeouts.header)
        with self.changed:
            self.live += 1
            self._waiting[conn] = None
        return conn

    def bind(self, conn: Connection) -> None:
        """Tie ``conn`` to the calling thread, the one that serves it."""
        conn.ident = threading.get_ident()
        with self.changed:
            self._by_ident[conn.ident] = conn

    def release(self, conn: Connection) -> None:
        """Forget ``conn``: its thread is ending."""
        with self.changed:
            self.live -= 1
            if conn.closing:
                self.closing -= 1
            self._waiting.pop(conn, None)
            self._reading.pop(conn, None)
            if conn.ident is not None and self._by_ident.get(conn.ident) is conn:
                del self._by_ident[conn.ident]
            self.changed.notify_all()

    def current(self) -> Connection | None:
        """The connection the calling thread serves, if it was registered."""
        return self._by_ident.get(threading.get_ident())

    # -- phases, by the middleware ---------------------------------------------------

    def enter_app(self, conn: Connection) -> bool:
        """``conn``'s request goes into the app; ``False`` if it was shut down (its
        head may be cut short: do not serve it)."""
        now = self._clock()
        with self.changed:
            if conn.closing:
                return False
            self._waiting.pop(conn, None)
            conn.phase = IN_APP
            conn.since = now
            conn.body_deadline = now + self.timeouts.body
            return True

    def leave_app(self, conn: Connection) -> None:
        """``conn``'s request left the app: it waits for its next request."""
        now = self._clock()
        with self.changed:
            self._reading.pop(conn, None)
            conn.reads = 0
            if conn.closing:
                return
            conn.phase = WAITING
            conn.since = now
            conn.deadline = now + self.timeouts.keepalive
            self._waiting[conn] = None
            self.changed.notify_all()

    def begin_read(self, conn: Connection) -> None:
        """The app starts reading ``conn``'s request body."""
        with self.changed:
            conn.reads += 1
            if conn.phase != IN_APP or conn.closing:
                return  # nested, or outside the app: the waiting deadline holds
            conn.phase = READING_BODY
            conn.since = self._clock()
            self._reading[conn] = None
            if conn.since >= conn.body_deadline:
                self._shut(conn)
                self.reaped += 1
            else:
                self.changed.notify_all()

    def end_read(self, conn: Connection) -> None:
        """The app's read of ``conn``'s body returned."""
        with self.changed:
            conn.reads = max(0, conn.reads - 1)
            if conn.reads == 0 and conn.phase == READING_BODY:
                self._reading.pop(conn, None)
                conn.phase = IN_APP

    # -- closing ---------------------------------------------------------------------

    def _shut(self, conn: Connection) -> None:
        """Shut ``conn`` down (lock held): its blocked reads return, its thread ends."""
        if conn.closing:
            return
        conn.closing = True
        self.closing += 1
        self._waiting.pop(conn, None)
        self._reading.pop(conn, None)
        with contextlib.suppress(OSError):
            conn.sock.shutdown(socket.SHUT_RDWR)

    def reap(self) -> int:
        """Shut down every connection past its deadline; how many."""
        now = self._clock()
        with self.changed:
            overdue = [c for c in self._waiting if c.deadline <= now]
            overdue += [c for c in self._reading if c.body_deadline <= now]
            for conn in overdue:
                self._shut(conn)
            self.reaped += len(overdue)
        return len(overdue)

    def evict_oldest(self) -> bool:
        """Shut down the connection that has waited longest without sending anything
        (among the :data:`EVICTION_SCAN` oldest waiting ones), else the one that has
        waited longest, else the one that has been reading its body longest;
        ``False`` if every connection is in the app.

        A person's new connection sends its request at once: while it waits for its
        turn, its bytes are there to read, where an idle attacker's socket has none.
        Without that look, a burst of new sockets larger than the cap evicted the
        oldest waiting connection again and again until it reached people's fresh
        requests (a long-polling POST was cut, and the client disconnected)."""
        with self.changed:
            queue = self._waiting or self._reading
            if not queue:
                return False
            victim = next(iter(queue))
            if queue is self._waiting:
                for conn in itertools.islice(queue, EVICTION_SCAN):
                    if not _has_pending_bytes(conn.sock):
                        victim = conn
                        break
            self._shut(victim)
            self.evicted += 1
            return True

    def admit(self, limit: int) -> None:
        """Return once a new connection fits under ``limit``: evict one that is not
        in the app and wait for it to end; if all are in the app, wait for one to
        end or to leave the app."""
        with self.changed:
            while self.live >= limit:
                if self.live - self.closing >= limit:
                    self.evict_oldest()  # may find none: then wait for a change
                self.changed.wait(MAX_REAP_INTERVAL)

    def run_reaper(self, sleep: Callable[[float], Any] = time.sleep) -> None:
        """Reap every :meth:`Timeouts.reap_interval`, forever."""
        interval = self.timeouts.reap_interval()
        while True:
            sleep(interval)
            try:
                self.reap()
            except Exception:  # keep reaping whatever happened to one round
                log.exception("connection reaper")

    def start_reaper(self) -> None:
        """Run :meth:`run_reaper` in a daemon thread (a green thread once eventlet
        is monkey-patched)."""
        threading.Thread(target=self.run_reaper, name="connection-reaper", daemon=True).start()

    # -- the middleware --------------------------------------------------------------

    def wsgi(self, app: WSGIApp) -> WSGIApp:
        """``app`` marking its connection as in the app while it runs, and guarding
        its ``wsgi.input`` with the body deadline. Requests of connections the guard
        does not know (a test client's) pass through untouched.

        A WebSocket request's connection also gets :attr:`websocket_timeout` as its
        socket timeout, as Engine.IO itself gives it when it finds the WebSocket's
        socket (under eventlet). Under threading it finds none (simple-websocket's
        wrapper has neither ``_sock`` nor ``socket``), and when a client stops
        answering pings Engine.IO's close does not wake simple-websocket's blocked
        read: without a timeout the WebSocket's thread and socket stay for as long
        as the client's host keeps the TCP connection up. A live client answers
        every ping (each ping interval), so its reads never wait that long."""

        def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            conn = self.current()
            if conn is None:
                return app(environ, start_response)
            if not self.enter_app(conn):
                start_response("408 Request Timeout", [("Content-Length", "0"),
                                                        ("Connection", "close")])
                return [b""]
            environ["wsgi.input"] = GuardedInput(environ["wsgi.input"], self, conn)
            if (self.websocket_timeout is not None
                    and environ.get("HTTP_UPGRADE", "").lower() == "websocket"):
                with contextlib.suppress(OSError):
                    conn.sock.settimeout(self.websocket_timeout)
            try:
                return app(environ, start_response)
            finally:
                self.leave_app(conn)

        return guarded


class GuardedInput:
    """A request's ``wsgi.input`` whose reads count as reading the body (the body
    deadline holds while they block); everything else is the stream's own."""

    _READS = frozenset({"read", "read1", "readinto", "readinto1", "readline", "readlines"})

    def __init__(self, stream: Any, guard: ConnectionGuard, conn: Connection) -> None:
        self._stream = stream
        self._guard = guard
        self._conn = conn

    def _guarded(self, read: Callable[..., Any], *args: Any) -> Any:
        self._guard.begin_read(self._conn)
        try:
            return read(*args)
        finally:
            self._guard.end_read(self._conn)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._stream, name)
        if name in self._READS:
            return functools.partial(self._guarded, attr)
        return attr

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")


class CappedPool:
    """eventlet.wsgi.server's ``custom_pool``: at most ``max_size`` connections,
    each served by a green thread registered with ``guard``. At the cap,
    :meth:`spawn` evicts a connection that is not in the app (see
    :meth:`ConnectionGuard.admit`) rather than wait for one to end.

    Needs ``eventlet``; the guard's reaper must run (``guard.start_reaper()``).
    """

    def __init__(self, guard: ConnectionGuard, max_size: int) -> None:
        if max_size < 1:
            raise ValueError("max_size must be >= 1")
        self.guard = guard
        self.max_size = max_size
        self._threads: set[Any] = set()

    def spawn(self, func: Callable[..., Any], conn_state: list[Any], *args: Any) -> Any:
        """Serve ``conn_state`` (eventlet.wsgi's ``[address, socket, state]``) with
        ``func`` in a new green thread, once it fits under the cap."""
        import eventlet

        self.guard.admit(self.max_size)
        conn = self.guard.open(conn_state[1])
        thread = eventlet.spawn(self._serve, conn, func, conn_state, *args)
        self._threads.add(thread)
        thread.link(self._threads.discard)
        return thread

    def _serve(self, conn: Connection, func: Callable[..., Any], *args: Any) -> Any:
        self.guard.bind(conn)
        try:
            return func(*args)
        finally:
            self.guard.release(conn)

    def waitall(self) -> None:
        """Wait for every connection's green thread to end."""
        while self._threads:
            for thread in list(self._threads):
                with contextlib.suppress(Exception):
                    thread.wait()


def _has_pending_bytes(sock: Any) -> bool:
    """Whether ``sock`` has bytes to read (or its peer closed it), without reading
    them or waiting (eventlet's green socket: its ``fd``)."""
    raw = getattr(sock, "fd", sock)
    try:
        raw.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:
        return True  # broken: as good as gone, not a person's pending request
    return True


def guarded_request_handler(guard: ConnectionGuard) -> type[WSGIRequestHandler]:
    """A Werkzeug request handler class registering each connection with ``guard``
    (for ``run_simple(request_handler=...)``; Flask-SocketIO's ``socketio.run``
    passes it on under threading)."""
    from werkzeug.serving import WSGIRequestHandler

    class GuardedRequestHandler(WSGIRequestHandler):
        def handle(self) -> None:
            conn = guard.open(self.connection)
            guard.bind(conn)
            try:
                super().handle()
            finally:
                guard.release(conn)

    return GuardedRequestHandler


def engineio_timeout(app: Any) -> float:
    """Engine.IO's ping interval plus ping timeout for ``app``'s Flask-SocketIO (45 s
    by default): the longest a live WebSocket client is silent."""
    eio = app.extensions["socketio"].server.eio
    return float(eio.ping_interval + eio.ping_timeout)


def serve_eventlet(app: Any, host: str, port: int, *, max_connections: int,
                   timeouts: Timeouts) -> None:
    """Serve ``app`` (a Flask app with Flask-SocketIO, after
    ``eventlet.monkey_patch()``) on eventlet.wsgi: what ``socketio.run`` does under
    eventlet, plus what it cannot pass:

    - the cap of ``max_connections``, which idle and slow connections cannot fill
      (:class:`CappedPool`; eventlet.wsgi serves at most 1,024 connections by
      default, and a full pool blocks its accept loop);
    - the deadlines of ``timeouts`` (:class:`ConnectionGuard`);
    - TCP_NODELAY on the listening socket, which accepted connections inherit.
      Without it Nagle's algorithm holds a small WebSocket frame sent right after
      another (an ack, then the signal it relays) until the browser's delayed ACK,
      about 40 ms (``docs/performance.md``).
    """
    import eventlet
    import eventlet.wsgi

    guard = ConnectionGuard(timeouts, websocket_timeout=engineio_timeout(app))
    app.wsgi_app = guard.wsgi(app.wsgi_app)
    guard.start_reaper()
    listener = eventlet.listen((host, port), backlog=1024)
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    eventlet.wsgi.server(listener, app, log_output=False,
                         custom_pool=CappedPool(guard, max_connections))


def serve_threading(app: Any, host: str, port: int, *, timeouts: Timeouts) -> None:
    """Serve ``app`` with ``socketio.run`` under threading (Werkzeug's threaded
    server, simple-websocket), with the deadlines of ``timeouts``. One thread per
    connection and no cap: the deadlines end the threads of idle and slow
    connections, and the WebSocket timeout those of WebSockets whose client stopped
    answering."""
    guard = ConnectionGuard(timeouts, websocket_timeout=engineio_timeout(app))
    app.wsgi_app = guard.wsgi(app.wsgi_app)
    guard.start_reaper()
    app.extensions["socketio"].run(app, host=host, port=port, log_output=False,
                                   allow_unsafe_werkzeug=True,
                                   request_handler=guarded_request_handler(guard))
