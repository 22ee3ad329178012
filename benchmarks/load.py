"""Load on the signaling server: many Socket.IO clients in one asyncio process.

Starts the server under test itself (``benchmarks/load_server.py``: Flask,
Flask-SocketIO on eventlet, VideoChat; users sign in with ``?user=<id>`` on the
connect URL), each run on fresh processes, and drives it with
``socketio.AsyncClient`` objects (WebSocket transport only, one shared aiohttp
session) from this process. Every figure is printed per run, then as the median,
min, max and stdev over ``--runs`` runs, and in a summary table at the end, after
the command line that reproduces it with every option spelled out.

Scenarios:

``connections``
    Hold ``--clients`` (5,000) signed-in connections, presence on
    (``--no-presence`` to compare), opened ``--concurrency`` (100) at a time: time
    until all got ``hello`` (and the presence snapshot), whether all did, server and
    client RSS (``VmRSS`` from ``/proc``) before and after, so memory per idle
    connection.
``storm``
    ``--clients`` (1,000) connect at once (``asyncio.gather``); each applies
    ``presence.snapshot`` and then every presence update. Time until every client's
    view of who is online is right (all the others, nobody else). Target < 10 s.
``relay``
    ``--idle`` (1,000) idle connections; two more users in an answered call
    (``call.invite``, ``call.accept``) send ``signal`` messages carrying an ICE
    candidate back and forth, one at a time: one-way relay latency from the
    sender's ``emit`` to the receiver's handler, both in this process (one clock),
    ``--samples`` (2,000). Targets p50 < 2 ms, p99 < 10 ms.
``presence-bytes``
    A watcher among N users online (``--sizes`` 100 1000) counts the bytes of
    presence traffic it receives per other user's join (and leave), over
    ``--joins`` (20) joins one after the other; and the bytes of the snapshot each
    joiner receives (O(N)). The per-join bytes must not grow with N.
``joins``
    ``--joins`` (500) users join one after the other (connect, wait for ``hello``
    and the snapshot, next), all staying connected as watchers; total time with
    presence on and with ``--no-presence``, and their ratio. Target <= 3.
``all``
    Every scenario above with its defaults (and the shared options given).

Shared options: ``--runs`` (3), ``--processes`` (1; more start that many servers on
one Redis store, clients spread over them, and ``relay`` puts the two parties on
different processes), ``--store-url`` (``local``: a ``redis-server`` started by the
tool on a free loopback port, the default with more than one process; or a URL of a
dedicated Redis database whose ``videochat:*`` keys are deleted before each run),
``--config VIDEOCHAT_KEY=JSON`` for the servers, ``--tcp-nodelay`` /
``--no-tcp-nodelay`` (on, as gunicorn does; off is what ``socketio.run`` does: see
``load_server.py``), ``--backlog``, ``--timeout``, ``--py-spy DIR`` (profile every
server), ``--json PATH``.

    python benchmarks/load.py storm --runs 3
    python benchmarks/load.py relay --processes 2
    python benchmarks/load.py all

Bytes are counted per WebSocket message as it arrives at a client: the tool's
Engine.IO client wraps its WebSocket's ``receive()`` and adds the UTF-8 length of
each text message (one Engine.IO packet) plus its 2-, 4- or 10-byte server-to-client
frame header, filed under the Socket.IO event it carries (``presence.changes``...;
acks, pings and connects apart). aiohttp does not offer permessage-deflate, so this
is the uncompressed size; browsers negotiate compression and send fewer bytes.

Both sides share the machine, so the tool watches itself: the client process's CPU
time is printed next to the servers', and ``client loop lag max`` is how late its
event loop ran a 50 ms timer (every time it measures is late by as much). Clients
that keep no view of who is online do not decode presence events (they only note
the snapshot's arrival), so that thousands of them cost the tool little. In
``connections`` and ``storm`` one more client (the probe) sends ``ping`` every
100 ms: how long the server takes to answer anyone while under that load. The
clients wait for the server's pings as long as a browser does (45 s; python-engineio's
client alone gives up after 30 s). Logs of the servers are printed when one fails to
start.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import datetime
import gc
import json
import math
import os
import platform
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable
from urllib.parse import quote

import aiohttp
import engineio
import socketio
from load_server import UNSUPPORTED, raise_fd_limit

NAMESPACE = "/videochat"
HERE = Path(__file__).resolve().parent
SERVER_SCRIPT = HERE / "load_server.py"
REDIS_SERVER = "/usr/bin/redis-server"

#: Seconds a server (or Redis) gets to print ``ready``.
START_TIMEOUT = 30.0
#: Seconds waited after a phase for the server's presence windows to be flushed.
QUIET = 0.5
#: An ICE candidate as a browser trickles it (``{seq}`` tells messages apart).
CANDIDATE = (
    "candidate:{seq} 1 udp 2122260223 192.0.2.10 54400 typ host generation 0 "
    "ufrag EsAw network-id 1"
)

#: User index of the probe client (far from the load's own indexes).
PROBE_INDEX = 999_000

#: How a Socket.IO message carrying a presence event (or the snapshot) starts.
PRESENCE_EVENT = f'2{NAMESPACE},["presence.'
SNAPSHOT_EVENT = f'2{NAMESPACE},["presence.snapshot"'

SCENARIOS = ("connections", "storm", "relay", "presence-bytes", "joins")


class UnsupportedError(Exception):
    """The server's flask_videochat lacks something an option needs."""


# -- processes ---------------------------------------------------------------------


def _die_with_parent() -> None:
    """In a child, before exec: be killed when the tool dies, even by SIGKILL."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kib(pid: int | str = "self") -> int:
    """Resident memory of a process in KiB (``VmRSS`` of ``/proc/<pid>/status``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of a process so far (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Child:
    """A process started by the tool, its output in a log file; waits for a line
    ``ready`` (servers) or a ``PING`` answer (Redis)."""

    def __init__(self, name: str, command: list[str], log_dir: Path) -> None:
        self.name = name
        self.command = command
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            command,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            preexec_fn=_die_with_parent,
        )
        self.pid = self.process.pid

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, is_ready: Callable[[], bool]) -> None:
        """:raises UnsupportedError: the server said it cannot do what was asked.
        :raises RuntimeError: it exited or did not get ready in time."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if is_ready():
                return
            code = self.process.poll()
            if code is not None:
                text = self.output()
                if code == UNSUPPORTED:
                    lines = [ln for ln in text.splitlines() if ln.startswith("unsupported")]
                    raise UnsupportedError(lines[-1] if lines else text)
                raise RuntimeError(f"{self.name} exited with {code}:\n{text[-4000:]}")
            time.sleep(0.05)
        raise RuntimeError(
            f"{self.name} not ready after {START_TIMEOUT} s:\n{self.output()[-4000:]}"
        )

    def stop(self, *, grace: float = 0) -> None:
        """Wait up to ``grace`` seconds for it to exit by itself; then SIGTERM, and
        SIGKILL after 5 s."""
        if grace:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(grace)
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class ServerSpec:
    """What to start for one run."""

    processes: int = 1
    #: ``None`` (memory), ``"local"`` (a redis-server started here; ``local?a=b``
    #: adds that query to its URL) or a URL.
    store_url: str | None = None
    presence: bool = True
    config: list[str] = field(default_factory=list)
    backlog: int = 1024
    tcp_nodelay: bool = True
    #: Record each server with py-spy into this directory (collapsed stacks).
    profile_dir: str | None = None
    #: Names the profiles (``<label>-server<i>.txt``).
    label: str = "run"


class Servers:
    """The server processes of one run (and their Redis), stopped on exit, whatever
    happens (``with Servers(spec) as servers:``)."""

    def __init__(self, spec: ServerSpec) -> None:
        self.spec = spec
        self.children: list[Child] = []
        self.servers: list[Child] = []
        self.redis: Child | None = None
        self.profilers: list[Child] = []
        self.urls: list[str] = []
        self._dir = tempfile.TemporaryDirectory(prefix="videochat-load-")

    def __enter__(self) -> Servers:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _start(self) -> None:
        spec, log_dir = self.spec, Path(self._dir.name)
        store_url = spec.store_url
        if store_url is not None and store_url.startswith("local"):
            query = store_url[len("local") :]  # e.g. "?max_connections=1000"
            port = free_port()
            self.redis = Child(
                "redis",
                [
                    REDIS_SERVER,
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
                log_dir,
            )
            self.children.append(self.redis)
            self.redis.wait_ready(lambda: redis_ping(port))
            store_url = f"redis://127.0.0.1:{port}/0{query}"
        elif store_url is not None:
            clear_store(store_url)
        for i in range(spec.processes):
            port = free_port()
            command = [
                sys.executable,
                str(SERVER_SCRIPT),
                "--port",
                str(port),
                "--presence" if spec.presence else "--no-presence",
                "--backlog",
                str(spec.backlog),
            ]
            command.append("--tcp-nodelay" if spec.tcp_nodelay else "--no-tcp-nodelay")
            if store_url is not None:
                command += ["--store-url", store_url]
            for item in spec.config:
                command += ["--config", item]
            child = Child(f"server{i}", command, log_dir)
            self.children.append(child)
            self.servers.append(child)
            child.wait_ready(lambda c=child: "ready\n" in c.output())
            if spec.profile_dir:
                self._profile(child, Path(spec.profile_dir) / f"{spec.label}-server{i}.txt")
            self.urls.append(f"http://127.0.0.1:{port}")

    def log_tail(self, lines: int = 40) -> str:
        """The last lines each server printed (for a run that went wrong)."""
        parts = []
        for server in self.servers:
            text = server.output().rstrip().splitlines()[-lines:]
            parts.append(f"--- {server.name} ({server.log_path.name}):\n" + "\n".join(text))
        return "\n".join(parts)

    def server_rss_kib(self) -> int:
        return sum(rss_kib(s.pid) for s in self.servers)

    def server_cpu(self) -> float:
        return sum(cpu_seconds(s.pid) for s in self.servers)

    def alive(self) -> bool:
        return all(c.process.poll() is None for c in self.children)

    def _profile(self, server: Child, output: Path) -> None:
        """Sample ``server`` with py-spy (non-blocking, 100 Hz) until it exits."""
        output.parent.mkdir(parents=True, exist_ok=True)
        spy = Path(sys.executable).with_name("py-spy")
        command = [
            str(spy),
            "record",
            "--nonblocking",
            "--format",
            "raw",
            "-o",
            str(output),
            "-p",
            str(server.pid),
        ]
        self.profilers.append(Child(f"py-spy-{server.name}", command, Path(self._dir.name)))

    def stop(self) -> None:
        """Servers first (their profilers then write and exit), their Redis last."""
        for server in self.servers:
            server.stop()
        for profiler in self.profilers:
            profiler.stop(grace=15)
        for child in self.children:
            child.stop()
        self.servers.clear()
        self.profilers.clear()
        self.children.clear()
        self._dir.cleanup()


def clear_store(url: str) -> None:
    """Delete the extension's keys (``videochat:*``) from a Redis given by URL."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter("videochat:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def store_supported() -> bool:
    from flask_videochat.config import DEFAULTS

    return "VIDEOCHAT_STORE_URL" in DEFAULTS


def presence_switch_supported() -> bool:
    from flask_videochat.config import DEFAULTS

    return "VIDEOCHAT_PRESENCE" in DEFAULTS


# -- clients -----------------------------------------------------------------------


def frame_header(n: int) -> int:
    """Bytes of a server-to-client (unmasked) WebSocket frame header for ``n``
    payload bytes (RFC 6455 section 5.2)."""
    return 2 if n < 126 else 4 if n < 65536 else 10


def packet_kind(text: str) -> str:
    """The Socket.IO event a raw Engine.IO packet carries (``presence.changes``...),
    or the kind of packet (``ack``, ``ping``, ``connect``...)."""
    if text.startswith("42"):
        start = text.find('["', 2)
        if start != -1:
            end = text.find('"', start + 2)
            return text[start + 2 : end]
        return "event"
    for prefix, kind in (
        ("43", "ack"),
        ("40", "connect"),
        ("41", "disconnect"),
        ("44", "connect_error"),
        ("2", "ping"),
        ("3", "pong"),
    ):
        if text.startswith(prefix):
            return kind
    return "other"


class Meter:
    """Bytes and WebSocket messages received by one client, per kind."""

    __slots__ = ("by_kind",)

    def __init__(self) -> None:
        #: kind -> [messages, bytes]
        self.by_kind: dict[str, list[int]] = {}

    def add(self, data: str | bytes) -> None:
        text = data if isinstance(data, str) else data.decode("utf-8", "replace")
        size = len(data) if isinstance(data, bytes) else len(data.encode())
        entry = self.by_kind.setdefault(packet_kind(text), [0, 0])
        entry[0] += 1
        entry[1] += size + frame_header(size)

    def total(self, prefix: str = "") -> tuple[int, int]:
        """(messages, bytes) of the kinds starting with ``prefix``."""
        picked = [v for k, v in self.by_kind.items() if k.startswith(prefix)]
        return sum(v[0] for v in picked), sum(v[1] for v in picked)

    def presence_updates(self) -> tuple[int, int]:
        """(messages, bytes) of presence traffic after the snapshot."""
        messages, size = self.total("presence.")
        snap = self.by_kind.get("presence.snapshot", [0, 0])
        return messages - snap[0], size - snap[1]


class CountingEngineIO(engineio.AsyncClient):
    """An Engine.IO client that hands every WebSocket message it receives to
    ``self.meter`` (when set) before decoding it, and waits for the server's pings
    as long as a browser does."""

    meter: Meter | None = None

    async def _write_loop(self) -> None:
        # python-engineio's client gives up when it has sent nothing (no pong, so no
        # ping came) for max(pingInterval, pingTimeout) + 5 s: 30 s. The browser's
        # client waits pingInterval + pingTimeout: 45 s. A busy server that pings
        # late would otherwise lose the tool's clients before a browser's.
        self.ping_timeout = self.ping_interval + self.ping_timeout - 5
        await super()._write_loop()

    async def _read_loop_websocket(self) -> None:
        meter, ws = self.meter, self.ws
        if meter is not None:
            receive = ws.receive

            async def counted(*args: Any, **kwargs: Any) -> Any:
                message = await receive(*args, **kwargs)
                if isinstance(message.data, (str, bytes)):
                    meter.add(message.data)
                return message

            ws.receive = counted
        await super()._read_loop_websocket()

    def __del__(self) -> None:
        # engineio's __del__ closes self.http even when it is a shared session.
        if not self.external_http:
            super().__del__()


class CountingClient(socketio.AsyncClient):
    """A Socket.IO client on :class:`CountingEngineIO` that, with ``skim`` set,
    hands presence events to it undecoded: thousands of clients that do not keep a
    view of who is online would otherwise spend the tool's CPU decoding every
    snapshot and update in JSON, and slow the server down by reading late."""

    skim: Callable[[str], None] | None = None

    def _engineio_client_class(self) -> type[engineio.AsyncClient]:
        return CountingEngineIO

    async def _handle_eio_message(self, data: Any) -> None:
        if self.skim is not None and isinstance(data, str) and data.startswith(PRESENCE_EVENT):
            self.skim(data)
            return
        await super()._handle_eio_message(data)


class Convergence:
    """Counts clients whose view of who is online is right; ``done`` is set while
    all are, ``at`` is when that last became true."""

    def __init__(self, clients: int) -> None:
        self.clients = clients
        self.right = 0
        self.at: float | None = None
        self.done = asyncio.Event()

    def update(self, was: bool, now: bool) -> None:
        if was == now:
            return
        self.right += 1 if now else -1
        if self.right == self.clients:
            self.at = time.perf_counter()
            self.done.set()
        else:
            self.done.clear()


class LoadClient:
    """One signed-in user: a Socket.IO client on ``/videochat`` that records when
    ``hello`` and the snapshot came and, with ``track``, keeps a view of who is
    online from the snapshot and every presence update (the per-event
    ``presence.join`` / ``leave`` / ``status`` and the batched ``presence.changes``)."""

    def __init__(
        self,
        index: int,
        url: str,
        session: aiohttp.ClientSession,
        *,
        track: bool = False,
        meter: bool = False,
    ) -> None:
        self.id = f"u{index:06d}"
        self.seq = 0
        self.name = f"User {index:06d}"
        self.url = f"{url}/?user={self.id}&name={quote(self.name)}"
        self.sio = CountingClient(reconnection=False, handle_sigint=False, http_session=session)
        self.meter = Meter() if meter else None
        self.sio.eio.meter = self.meter
        self.hello = asyncio.Event()
        self.snapshot = asyncio.Event()
        self.hello_at = self.snapshot_at = 0.0
        self.error: str | None = None
        #: user id -> status, or None when not tracking
        self.view: dict[str, str] | None = {} if track else None
        #: ids named by presence updates that came before the snapshot
        self.early: set[str] = set()
        if not track:
            self.sio.skim = self._skimmed
        self.changed = asyncio.Event()
        self.expected: int | None = None  # size of a right view (storm)
        self.convergence: Convergence | None = None
        self.right = False
        self.incoming: asyncio.Future[dict[str, Any]] | None = None
        self.accepted: asyncio.Future[dict[str, Any]] | None = None
        self.signal_waiter: tuple[int, asyncio.Future[float]] | None = None
        on = self.sio.on
        on("hello", self._on_hello, namespace=NAMESPACE)
        on("presence.snapshot", self._on_snapshot, namespace=NAMESPACE)
        on("presence.join", self._on_join, namespace=NAMESPACE)
        on("presence.leave", self._on_leave, namespace=NAMESPACE)
        on("presence.status", self._on_status, namespace=NAMESPACE)
        on("presence.changes", self._on_changes, namespace=NAMESPACE)
        on("call.incoming", self._on_incoming, namespace=NAMESPACE)
        on("call.accepted", self._on_accepted, namespace=NAMESPACE)
        on("signal", self._on_signal, namespace=NAMESPACE)
        on("connect_error", self._on_connect_error, namespace=NAMESPACE)

    async def connect(self, timeout: float) -> None:
        await self.sio.connect(
            self.url, namespaces=[NAMESPACE], transports=["websocket"], wait_timeout=timeout
        )

    async def disconnect(self) -> None:
        with contextlib.suppress(Exception):
            await self.sio.disconnect()

    #: Whether clients number their events (``--seq``).
    numbering = True

    def numbered(self, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` with this connection's next ``seq``, as the widget sends it."""
        if not self.numbering:
            return data
        self.seq += 1
        return {**data, "seq": self.seq}

    async def call(self, event: str, data: dict[str, Any], timeout: float = 10) -> Any:
        return await self.sio.call(event, self.numbered(data), namespace=NAMESPACE,
                                   timeout=timeout)

    # -- handlers -------------------------------------------------------------------

    def _on_connect_error(self, data: Any = None) -> None:
        self.error = repr(data)

    def _on_hello(self, data: dict[str, Any]) -> None:
        self.hello_at = time.perf_counter()
        self.hello.set()

    def _on_snapshot(self, data: dict[str, Any]) -> None:
        self.snapshot_at = time.perf_counter()
        self.snapshot.set()
        if self.view is not None:
            self.view = {u["id"]: u["status"] for u in data["users"] if u["id"] != self.id}
            self._viewed()

    def _skimmed(self, data: str) -> None:
        if data.startswith(SNAPSHOT_EVENT):
            self.snapshot_at = time.perf_counter()
            self.snapshot.set()

    def _on_join(self, data: dict[str, Any]) -> None:
        user = data["user"]
        if self.view is not None and user["id"] != self.id:
            self.view[user["id"]] = user["status"]
            self._viewed()

    def _on_leave(self, data: dict[str, Any]) -> None:
        if self.view is not None:
            self.view.pop(data["id"], None)
            self._viewed()

    def _on_status(self, data: dict[str, Any]) -> None:
        if self.view is not None and data["id"] in self.view:
            self.view[data["id"]] = data["status"]
            self._viewed()

    def _on_changes(self, data: dict[str, Any]) -> None:
        view = self.view
        if view is None:
            return
        if not self.snapshot.is_set():
            # Applied, then overwritten by the snapshot: lost if the snapshot is older.
            self.early.update(u["id"] for u in data.get("users", ()))
            self.early.update(data.get("left", ()))
        for user in data.get("users", ()):
            if user["id"] != self.id:
                view[user["id"]] = user["status"]
        for user_id in data.get("left", ()):
            view.pop(user_id, None)
        self._viewed()

    def _viewed(self) -> None:
        self.changed.set()
        if self.convergence is not None and self.view is not None:
            right = len(self.view) == self.expected
            self.convergence.update(self.right, right)
            self.right = right

    def _on_incoming(self, data: dict[str, Any]) -> None:
        if self.incoming is not None and not self.incoming.done():
            self.incoming.set_result(data)

    def _on_accepted(self, data: dict[str, Any]) -> None:
        if self.accepted is not None and not self.accepted.done():
            self.accepted.set_result(data)

    def _on_signal(self, data: dict[str, Any]) -> None:
        now = time.perf_counter()
        if self.signal_waiter is None:
            return
        seq, future = self.signal_waiter
        if not future.done():
            if data["candidate"]["candidate"].startswith(f"candidate:{seq} "):
                future.set_result(now)
            else:
                future.set_exception(RuntimeError(f"unexpected signal {data!r}"))

    async def wait_view(self, predicate: Callable[[dict[str, str]], bool], timeout: float) -> bool:
        """Wait until ``predicate(view)`` holds; ``False`` after ``timeout`` seconds."""
        deadline = time.perf_counter() + timeout
        while self.view is None or not predicate(self.view):
            left = deadline - time.perf_counter()
            if left <= 0:
                return False
            self.changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.changed.wait(), left)
        return True


class LagMonitor:
    """How late this process's event loop runs a task: a saturated tool shows here
    (every figure it times is then late by as much)."""

    INTERVAL = 0.05

    def __init__(self) -> None:
        self.lags: list[float] = []
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(self.INTERVAL)
            self.lags.append((time.perf_counter() - before - self.INTERVAL) * 1000)

    def reset(self) -> None:
        self.lags = []

    def worst(self) -> float:
        return max(self.lags, default=0.0)

    def stop(self) -> None:
        self._task.cancel()


class Probe:
    """One more signed-in client that sends ``ping`` every ``interval`` seconds and
    times the acknowledgement: how long the server takes to answer anyone while it
    is under load."""

    def __init__(self, client: LoadClient, interval: float = 0.1) -> None:
        self.client = client
        self.interval = interval
        self.rtts: list[float] = []
        self.lost = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.rtts, self.lost = [], 0
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            sent = time.perf_counter()
            try:
                await self.client.call("ping", {}, timeout=60)
                self.rtts.append((time.perf_counter() - sent) * 1000)
            except Exception:
                self.lost += 1
            await asyncio.sleep(self.interval)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def report(self, report: Report, scenario: str) -> None:
        if self.rtts:
            report.add(scenario, "server ping answer p50 (probe)", percentile(self.rtts, 50), "ms")
            report.add(scenario, "server ping answer max (probe)", max(self.rtts), "ms")
        if self.lost:
            report.note(scenario, f"the probe lost {self.lost} pings")


class Fleet:
    """The clients of one run, sharing one aiohttp session (no connection limit,
    no cookies); spread over the servers' URLs by index unless told otherwise."""

    def __init__(self, urls: list[str], timeout: float) -> None:
        self.urls = urls
        self.timeout = timeout
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), cookie_jar=aiohttp.DummyCookieJar()
        )
        self.clients: list[LoadClient] = []
        self.lag = LagMonitor()

    async def probe(self, index: int, server: int = 0) -> Probe:
        """A connected :class:`Probe` as user ``index`` (not started)."""
        client = self.add(index, server=server)
        if await self.connect([client]):
            raise RuntimeError(f"the probe could not connect: {client.error}")
        return Probe(client)

    def add(
        self, index: int, *, server: int | None = None, track: bool = False, meter: bool = False
    ) -> LoadClient:
        url = self.urls[(index if server is None else server) % len(self.urls)]
        client = LoadClient(index, url, self.session, track=track, meter=meter)
        self.clients.append(client)
        return client

    async def connect(self, clients: list[LoadClient], concurrency: int | None = None) -> list[str]:
        """Connect ``clients``, at most ``concurrency`` at a time (all at once when
        ``None``); returns the errors."""
        gate = asyncio.Semaphore(concurrency or len(clients) or 1)

        async def one(client: LoadClient) -> str | None:
            async with gate:
                try:
                    await client.connect(self.timeout)
                except Exception as exc:
                    client.error = client.error or f"{type(exc).__name__}: {exc}"
                    return client.error
            return None

        results = await asyncio.gather(*(one(c) for c in clients))
        return [r for r in results if r is not None]

    async def close(self) -> None:
        self.lag.stop()
        await asyncio.gather(*(c.disconnect() for c in self.clients))
        await self.session.close()
        self.clients.clear()


async def wait_all(events: list[asyncio.Event], timeout: float) -> bool:
    """Wait until every event is set; ``False`` after ``timeout`` seconds."""
    pending = [e.wait() for e in events if not e.is_set()]
    if not pending:
        return True
    try:
        await asyncio.wait_for(asyncio.gather(*pending), timeout)
    except asyncio.TimeoutError:
        return False
    return True


@contextlib.asynccontextmanager
async def fleet_on(servers: Servers, timeout: float) -> Any:
    fleet = Fleet(servers.urls, timeout)
    try:
        yield fleet
    finally:
        servers.stop()  # the clients then close at once, with no leave storm
        await fleet.close()
        gc.collect()


# -- figures -----------------------------------------------------------------------


def num(value: float) -> str:
    if value != value:  # NaN
        return "n/a"
    if abs(value) >= 100 or value == int(value):
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (``p`` in 0..100)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class Figure:
    scenario: str
    name: str
    unit: str
    target: str
    values: list[float] = field(default_factory=list)

    def stats(self) -> tuple[float, float, float, float, str]:
        """Median, min, max, stdev over the runs that produced a value, and how many
        did (``2/3`` when one failed)."""
        ok = [x for x in self.values if math.isfinite(x)]
        runs = str(len(ok)) if len(ok) == len(self.values) else f"{len(ok)}/{len(self.values)}"
        if not ok:
            return math.nan, math.nan, math.nan, math.nan, runs
        return statistics.median(ok), min(ok), max(ok), statistics.pstdev(ok), runs

    def spread(self) -> str:
        median, low, high, stdev, runs = self.stats()
        text = f"median {num(median)}"
        if len(self.values) > 1:
            text += f"  (min {num(low)}, max {num(high)}, stdev {num(stdev)}; runs {runs})"
        return text


class Report:
    """Figures of every run, printed as they come and summed up at the end."""

    def __init__(self) -> None:
        self.figures: dict[tuple[str, str], Figure] = {}
        self.commands: dict[str, str] = {}
        self.notes: dict[str, list[str]] = {}

    def add(self, scenario: str, name: str, value: float, unit: str = "", target: str = "") -> None:
        key = (scenario, name)
        if key not in self.figures:
            self.figures[key] = Figure(scenario, name, unit, target)
        self.figures[key].values.append(float(value))
        print(f"  {name}: {num(value)} {unit}".rstrip(), flush=True)

    def note(self, scenario: str, text: str, *, servers: Servers | None = None) -> None:
        """Record a remark; with ``servers``, print the end of their logs too."""
        self.notes.setdefault(scenario, []).append(text)
        print(f"  note: {text}", flush=True)
        if servers is not None:
            print(servers.log_tail(), flush=True)

    def print_scenario(self, scenario: str) -> None:
        runs = max((len(f.values) for f in self.of(scenario)), default=0)
        print(f"\n{scenario}: over {runs} run(s)")
        for fig in self.of(scenario):
            target = f"   [target {fig.target}]" if fig.target else ""
            unit = f" ({fig.unit})" if fig.unit else ""
            print(f"  {fig.name}{unit}: {fig.spread()}{target}")
        print(flush=True)

    def of(self, scenario: str) -> list[Figure]:
        return [f for f in self.figures.values() if f.scenario == scenario]

    def print_summary(self) -> None:
        rows = [("scenario", "figure", "unit", "median", "min", "max", "stdev", "runs", "target")]
        for fig in self.figures.values():
            median, low, high, stdev, runs = fig.stats()
            rows.append(
                (
                    fig.scenario,
                    fig.name,
                    fig.unit,
                    num(median),
                    num(low),
                    num(high),
                    num(stdev),
                    runs,
                    fig.target,
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        print("summary")
        for i, row in enumerate(rows):
            print(
                "  "
                + "  ".join(
                    c.ljust(w) if j < 3 else c.rjust(w) if j < 8 else c
                    for j, (c, w) in enumerate(zip(row, widths))
                ).rstrip()
            )
            if i == 0:
                print("  " + "  ".join("-" * w for w in widths))
        for scenario, command in self.commands.items():
            print(f"  {scenario}: {command}")
        for scenario, notes in self.notes.items():
            for text in notes:
                print(f"  {scenario}: {text}")

    def to_json(self) -> dict[str, Any]:
        return {
            "machine": machine(),
            "commands": self.commands,
            "notes": self.notes,
            "figures": [
                {**f.__dict__, "values": [x if math.isfinite(x) else None for x in f.values]}
                for f in self.figures.values()
            ],
        }


def machine() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=HERE,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=HERE,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        commit, dirty = "?", ""
    return (
        f"{datetime.date.today().isoformat()}, {os.cpu_count()} cores, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"commit {commit or '?'}{' with uncommitted changes' if dirty else ''}"
    )


class Stopwatch:
    """CPU seconds of the servers and of this process over a phase."""

    def __init__(self, servers: Servers) -> None:
        self.servers = servers
        self.server0 = servers.server_cpu()
        self.client0 = time.process_time()

    def server(self) -> float:
        return self.servers.server_cpu() - self.server0

    def client(self) -> float:
        return time.process_time() - self.client0


# -- scenarios ---------------------------------------------------------------------


def spec_of(args: argparse.Namespace, *, presence: bool = True, part: str = "") -> ServerSpec:
    return ServerSpec(
        profile_dir=args.py_spy,
        label=f"{args.label}{part}",
        processes=args.processes,
        store_url=args.store_url,
        presence=presence,
        config=list(args.config),
        backlog=args.backlog,
        tcp_nodelay=args.tcp_nodelay,
    )


async def connections(args: argparse.Namespace, report: Report) -> None:
    scenario, n = "connections", args.clients
    with Servers(spec_of(args, presence=args.presence)) as servers:
        await asyncio.sleep(QUIET)
        gc.collect()
        server_before, client_before = servers.server_rss_kib(), rss_kib()
        redis_before = rss_kib(servers.redis.pid) if servers.redis else 0
        async with fleet_on(servers, args.timeout) as fleet:
            probe = await fleet.probe(PROBE_INDEX)
            clients = [fleet.add(i) for i in range(n)]
            cpu = Stopwatch(servers)
            probe.start()
            fleet.lag.reset()
            start = time.perf_counter()
            errors = await fleet.connect(clients, args.concurrency)
            ready = [(c.snapshot if args.presence else c.hello) for c in clients if not c.error]
            await wait_all(ready, args.timeout)
            hellos = [c.hello_at for c in clients if c.hello.is_set()]
            took = (max(hellos) if hellos else time.perf_counter()) - start
            server_cpu, client_cpu = cpu.server(), cpu.client()
            await probe.stop()
            lag = fleet.lag.worst()
            await asyncio.sleep(args.settle)
            gc.collect()
            server_after, client_after = servers.server_rss_kib(), rss_kib()
            redis_after = rss_kib(servers.redis.pid) if servers.redis else 0
            connected = sum(c.sio.connected for c in clients)
            report.add(scenario, "time to connect all", took, "s")
            report.add(scenario, "connections per second", n / took if took else 0, "/s")
            report.add(scenario, "got hello", len(hellos), f"of {n}")
            if args.presence:
                got = sum(c.snapshot.is_set() for c in clients)
                report.add(scenario, "got snapshot", got, f"of {n}")
            report.add(scenario, "still connected", connected, f"of {n}")
            report.add(scenario, "server RSS before", server_before / 1024, "MiB")
            report.add(scenario, "server RSS after", server_after / 1024, "MiB")
            report.add(
                scenario, "server memory per connection", (server_after - server_before) / n, "KiB"
            )
            if args.label.endswith("-run1"):
                # Later runs reuse memory the first one freed: only a fresh process counts.
                report.add(
                    scenario,
                    "client memory per connection (first run)",
                    (client_after - client_before) / n,
                    "KiB",
                )
            if servers.redis:
                report.add(
                    scenario, "Redis memory per connection", (redis_after - redis_before) / n, "KiB"
                )
            report.add(scenario, "server CPU while connecting", server_cpu, "s")
            report.add(scenario, "client CPU while connecting", client_cpu, "s")
            probe.report(report, scenario)
            report.add(scenario, "client loop lag max", lag, "ms")
            if errors:
                report.note(
                    scenario, f"{len(errors)} connections failed, e.g. {errors[0]}", servers=servers
                )


async def storm(args: argparse.Namespace, report: Report) -> None:
    scenario, n = "storm", args.clients
    with Servers(spec_of(args)) as servers:
        async with fleet_on(servers, args.timeout) as fleet:
            probe = await fleet.probe(PROBE_INDEX)
            convergence = Convergence(n)
            clients = [fleet.add(i, track=True, meter=True) for i in range(n)]
            for c in clients:
                # a right view: the n - 1 others, and the probe
                c.expected, c.convergence = n, convergence
            cpu = Stopwatch(servers)
            probe.start()
            fleet.lag.reset()
            start = time.perf_counter()
            errors = await fleet.connect(clients)
            converged = False
            if not errors:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(convergence.done.wait(), args.timeout)
                    converged = True
            server_cpu, client_cpu = cpu.server(), cpu.client()
            await probe.stop()
            lag = fleet.lag.worst()
            hellos = [c.hello_at for c in clients if c.hello.is_set()]
            report.add(
                scenario,
                "all got hello after",
                (max(hellos) - start) if len(hellos) == n else math.nan,
                "s",
            )
            report.add(
                scenario,
                "all views right after",
                (convergence.at - start) if converged and convergence.at else math.nan,
                "s",
                "< 10 s",
            )
            report.add(scenario, "clients with a right view", convergence.right, f"of {n}")
            updates = [c.meter.presence_updates()[1] for c in clients if c.meter]
            snaps = [
                c.meter.by_kind.get("presence.snapshot", [0, 0])[1] for c in clients if c.meter
            ]
            report.add(
                scenario,
                "presence update bytes per client (median)",
                statistics.median(updates),
                "B",
            )
            report.add(
                scenario, "snapshot bytes per client (median)", statistics.median(snaps), "B"
            )
            report.add(scenario, "server CPU", server_cpu, "s")
            report.add(scenario, "client CPU", client_cpu, "s")
            probe.report(report, scenario)
            report.add(scenario, "client loop lag max", lag, "ms")
            if errors:
                report.note(
                    scenario, f"{len(errors)} connections failed, e.g. {errors[0]}", servers=servers
                )
            elif not converged:
                report.note(scenario, wrong_views(clients, fleet, n, args.timeout))


def wrong_views(clients: list[LoadClient], fleet: Fleet, expected: int, timeout: float) -> str:
    """Who misses whom, for a storm whose views never all became right."""
    everyone = {c.id for c in clients} | {c.id for c in fleet.clients}
    server_of = {c.id: fleet.urls.index(c.url.split("/?")[0]) for c in fleet.clients}
    wrong = [c for c in clients if not c.right]
    lines = [f"{len(wrong)} views still wrong after {timeout} s (expected {expected} others)"]
    for c in wrong[:5]:
        view = c.view or {}
        missing = sorted(everyone - set(view) - {c.id})
        extra = sorted(set(view) - everyone)
        early = [m for m in missing if m in c.early]
        lines.append(
            f"{c.id} (server {server_of[c.id]}) misses {len(missing)}: "
            + ", ".join(f"{m} (server {server_of[m]})" for m in missing[:6])
            + (
                f"; {len(early)} of them were in a presence update received before its snapshot"
                if early
                else ""
            )
            + (f"; sees {len(extra)} unknown ids" if extra else "")
        )
    return "\n    ".join(lines)


def candidate(seq: int, call_id: str) -> dict[str, Any]:
    return {
        "call_id": call_id,
        "candidate": {
            "candidate": CANDIDATE.format(seq=seq),
            "sdpMid": "0",
            "sdpMLineIndex": 0,
            "usernameFragment": "EsAw",
        },
    }


async def relay(args: argparse.Namespace, report: Report) -> None:
    scenario = "relay"
    with Servers(spec_of(args)) as servers:
        async with fleet_on(servers, args.timeout) as fleet:
            idle = [fleet.add(i) for i in range(args.idle)]
            errors = await fleet.connect(idle, args.concurrency)
            await wait_all([c.snapshot for c in idle if not c.error], args.timeout)
            if errors:
                report.note(
                    scenario, f"{len(errors)} idle connections failed: {errors[0]}", servers=servers
                )
            caller = fleet.add(args.idle, server=0)
            callee = fleet.add(args.idle + 1, server=1)  # the other process, if two
            if await fleet.connect([caller, callee]):
                raise RuntimeError(
                    f"the call's parties could not connect: {caller.error} {callee.error}"
                )
            loop = asyncio.get_running_loop()
            callee.incoming, caller.accepted = loop.create_future(), loop.create_future()
            invited = await caller.call("call.invite", {"to": callee.id})
            if not invited.get("ok") or invited.get("state") != "ringing":
                raise RuntimeError(f"call.invite: {invited}")
            call_id = invited["call_id"]
            await asyncio.wait_for(callee.incoming, 10)
            accepted = await callee.call("call.accept", {"call_id": call_id})
            if not accepted.get("ok"):
                raise RuntimeError(f"call.accept: {accepted}")
            await asyncio.wait_for(caller.accepted, 10)
            await asyncio.sleep(QUIET)  # the status changes' presence window goes out

            refused: list[Any] = []

            def acked(answer: Any) -> None:
                if not (isinstance(answer, dict) and answer.get("ok")):
                    refused.append(answer)

            samples: list[float] = []
            cpu = Stopwatch(servers)
            for k in range(args.warmup + args.samples):
                sender, receiver = (caller, callee) if k % 2 == 0 else (callee, caller)
                future: asyncio.Future[float] = loop.create_future()
                receiver.signal_waiter = (k, future)
                sent = time.perf_counter()
                await sender.sio.emit(
                    "signal",
                    sender.numbered(candidate(k, call_id)),
                    namespace=NAMESPACE,
                    callback=acked,
                )
                arrived = await asyncio.wait_for(future, 10)
                if k >= args.warmup:
                    samples.append((arrived - sent) * 1000)
            server_cpu, client_cpu = cpu.server(), cpu.client()
            await asyncio.sleep(0.1)  # the last acks
            cross = len(servers.urls) > 1
            report.add(scenario, "one-way p50", percentile(samples, 50), "ms", "< 2 ms")
            report.add(scenario, "one-way p99", percentile(samples, 99), "ms", "< 10 ms")
            report.add(scenario, "one-way max", max(samples), "ms")
            report.add(scenario, "one-way mean", statistics.fmean(samples), "ms")
            report.add(scenario, "server CPU per message", server_cpu / len(samples) * 1e6, "us")
            report.add(scenario, "client CPU per message", client_cpu / len(samples) * 1e6, "us")
            if cross:
                report.note(scenario, "caller and callee on different server processes")
            if refused:
                report.note(scenario, f"{len(refused)} signals refused, e.g. {refused[0]}")


async def presence_bytes(args: argparse.Namespace, report: Report) -> None:
    scenario = "presence-bytes"
    for size in args.sizes:
        print(f" {size} users online", flush=True)
        with Servers(spec_of(args, part=f"-{size}")) as servers:
            async with fleet_on(servers, args.timeout) as fleet:
                watcher = fleet.add(0, server=0, track=True, meter=True)
                if await fleet.connect([watcher]):
                    raise RuntimeError(f"the watcher could not connect: {watcher.error}")
                others = [fleet.add(i) for i in range(1, size)]
                errors = await fleet.connect(others, args.concurrency)
                if errors:
                    raise RuntimeError(f"{len(errors)} connections failed: {errors[0]}")
                if not await watcher.wait_view(lambda v, s=size: len(v) == s - 1, args.timeout):
                    raise RuntimeError("the watcher never saw everyone online")
                await asyncio.sleep(QUIET)
                assert watcher.meter is not None
                before = watcher.meter.presence_updates()
                joiners: list[LoadClient] = []
                snapshots: list[int] = []
                for j in range(args.joins):
                    joiner = fleet.add(size + j, server=j + 1, meter=True)
                    joiners.append(joiner)
                    if await fleet.connect([joiner]):
                        raise RuntimeError(f"a joiner could not connect: {joiner.error}")
                    await wait_all([joiner.snapshot], args.timeout)
                    if not await watcher.wait_view(lambda v, u=joiner.id: u in v, args.timeout):
                        raise RuntimeError(f"the watcher never saw {joiner.id} join")
                    assert joiner.meter is not None
                    snapshots.append(joiner.meter.by_kind["presence.snapshot"][1])
                await asyncio.sleep(QUIET)
                joined = watcher.meter.presence_updates()
                for joiner in joiners:
                    await joiner.disconnect()
                    if not await watcher.wait_view(lambda v, u=joiner.id: u not in v, args.timeout):
                        raise RuntimeError(f"the watcher never saw {joiner.id} leave")
                await asyncio.sleep(QUIET)
                left = watcher.meter.presence_updates()
                k = args.joins
                report.add(
                    scenario,
                    f"bytes per join at {size}",
                    (joined[1] - before[1]) / k,
                    "B",
                    "independent of N",
                )
                report.add(
                    scenario, f"messages per join at {size}", (joined[0] - before[0]) / k, ""
                )
                report.add(scenario, f"bytes per leave at {size}", (left[1] - joined[1]) / k, "B")
                report.add(scenario, f"snapshot bytes at {size}", statistics.median(snapshots), "B")
                kinds = sorted(k for k in watcher.meter.by_kind if k.startswith("presence."))
                print(f"  (watcher's presence events: {', '.join(kinds)})", flush=True)


async def joins(args: argparse.Namespace, report: Report) -> None:
    scenario, n = "joins", args.joins
    modes = [True, False] if presence_switch_supported() else [True]
    if len(modes) == 1:
        report.note(scenario, "no VIDEOCHAT_PRESENCE in this flask_videochat: presence on only")
    totals: dict[bool, float] = {}
    for presence in modes:
        label = "on" if presence else "off"
        with Servers(spec_of(args, presence=presence, part=f"-presence-{label}")) as servers:
            async with fleet_on(servers, args.timeout) as fleet:
                each: list[float] = []
                cpu = Stopwatch(servers)
                start = time.perf_counter()
                for i in range(n):
                    client = fleet.add(i)
                    began = time.perf_counter()
                    if await fleet.connect([client]):
                        raise RuntimeError(f"join {i} failed: {client.error}")
                    ready = client.snapshot if presence else client.hello
                    if not await wait_all([ready], args.timeout):
                        raise RuntimeError(f"join {i}: no {'snapshot' if presence else 'hello'}")
                    each.append((time.perf_counter() - began) * 1000)
                totals[presence] = time.perf_counter() - start
                server_cpu, client_cpu = cpu.server(), cpu.client()
                report.add(scenario, f"total, presence {label}", totals[presence], "s")
                report.add(
                    scenario, f"per join median, presence {label}", statistics.median(each), "ms"
                )
                report.add(scenario, f"per join p99, presence {label}", percentile(each, 99), "ms")
                report.add(scenario, f"server CPU, presence {label}", server_cpu, "s")
                report.add(scenario, f"client CPU, presence {label}", client_cpu, "s")
    if len(totals) == 2:
        report.add(scenario, "ratio on / off", totals[True] / totals[False], "", "<= 3")


RUNNERS: dict[str, Callable[[argparse.Namespace, Report], Awaitable[None]]] = {
    "connections": connections,
    "storm": storm,
    "relay": relay,
    "presence-bytes": presence_bytes,
    "joins": joins,
}


# -- command line ------------------------------------------------------------------


def shared_options() -> argparse.ArgumentParser:
    shared = argparse.ArgumentParser(add_help=False)
    shared.add_argument("--runs", type=int, default=3, help="runs, each on fresh servers (3)")
    shared.add_argument(
        "--processes", type=int, default=1, help="server processes on one Redis store (1)"
    )
    shared.add_argument(
        "--store-url",
        default=None,
        help="Redis store: 'local' (a redis-server started here; the default "
        "with --processes > 1; 'local?max_connections=1000' adds a query to its URL) "
        "or the URL of a dedicated database whose "
        "videochat:* keys are deleted before each run (none: memory)",
    )
    shared.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="KEY=JSON",
        help="a VIDEOCHAT_* setting for the servers (repeatable)",
    )
    shared.add_argument(
        "--backlog", type=int, default=1024, help="the servers' listen backlog (1024)"
    )
    shared.add_argument(
        "--tcp-nodelay",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the servers set TCP_NODELAY on their sockets (on, as gunicorn does; "
        "--no-tcp-nodelay: Nagle's algorithm on, as socketio.run leaves it)",
    )
    shared.add_argument(
        "--seq",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="number each client's events (\"seq\", as the widget does: docs/protocol.md, "
        "Order); --no-seq for a flask_videochat older than that",
    )
    shared.add_argument(
        "--py-spy",
        default=None,
        metavar="DIR",
        help="record every server with py-spy (100 Hz, non-blocking) into DIR as collapsed "
        "stacks, one file per server and run",
    )
    shared.add_argument(
        "--timeout", type=float, default=120, help="seconds to wait for any one phase (120)"
    )
    shared.add_argument(
        "--json", default=None, metavar="PATH", help="also write every figure to this JSON file"
    )
    return shared


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join(__doc__.split("\n\n")[1:]),
    )
    sub = parser.add_subparsers(dest="scenario", required=True)
    shared = shared_options()
    subs: dict[str, argparse.ArgumentParser] = {}

    def add(name: str, text: str) -> argparse.ArgumentParser:
        subs[name] = sub.add_parser(name, parents=[shared], help=text, description=text)
        return subs[name]

    p = add("connections", "hold many signed-in connections: time, memory per connection")
    p.add_argument("--clients", type=int, default=5000, help="connections (5000)")
    p.add_argument("--concurrency", type=int, default=100, help="opened at a time (100)")
    p.add_argument(
        "--presence",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="VIDEOCHAT_PRESENCE on the servers (on)",
    )
    p.add_argument(
        "--settle",
        type=float,
        default=2.0,
        help="seconds between the last snapshot and the RSS reading (2)",
    )
    p = add("storm", "clients connect at once: time until every view of who is online is right")
    p.add_argument("--clients", type=int, default=1000, help="clients (1000)")
    p = add("relay", "one-way signal relay latency in a call among idle connections")
    p.add_argument("--idle", type=int, default=1000, help="idle connections (1000)")
    p.add_argument("--samples", type=int, default=2000, help="one-way messages measured (2000)")
    p.add_argument("--warmup", type=int, default=100, help="messages not measured first (100)")
    p.add_argument("--concurrency", type=int, default=100, help="idle ones opened at a time")
    p = add("presence-bytes", "presence bytes a watcher receives per join, at several N")
    p.add_argument(
        "--sizes", type=int, nargs="+", default=[100, 1000], help="users online (100 1000)"
    )
    p.add_argument("--joins", type=int, default=20, help="joins measured at each size (20)")
    p.add_argument("--concurrency", type=int, default=100, help="opened at a time (100)")
    p = add("joins", "sequential joins with presence on and off")
    p.add_argument("--joins", type=int, default=500, help="users joining one by one (500)")
    add("all", "every scenario with its defaults (and the shared options given)")
    return parser, subs


def command_of(args: argparse.Namespace, sub: argparse.ArgumentParser) -> str:
    """The command line that reproduces ``args``, every option spelled out."""
    parts = ["python", "benchmarks/load.py", args.scenario]
    for action in sub._actions:
        if not action.option_strings or action.dest in ("help", "json"):
            continue
        value = getattr(args, action.dest)
        option = action.option_strings[0]
        if value is None:
            continue
        if isinstance(action, argparse.BooleanOptionalAction):
            parts.append(option if value else f"--no-{option[2:]}")
        elif isinstance(value, list):
            if action.nargs in ("+", "*"):
                parts += [option, *map(str, value)]
            else:
                for item in value:
                    parts += [option, str(item)]
        else:
            parts += [option, str(value)]
    return shlex.join(parts)


def resolve(args: argparse.Namespace) -> None:
    if args.processes > 1 and args.store_url is None:
        args.store_url = "local"


async def run_scenario(
    args: argparse.Namespace, sub: argparse.ArgumentParser, report: Report
) -> None:
    scenario = args.scenario
    command = command_of(args, sub)
    report.commands[scenario] = command
    print(f"== {scenario}\ncommand: {command}", flush=True)
    if args.store_url is not None and not store_supported():
        report.note(
            scenario,
            "could not run: this flask_videochat has no VIDEOCHAT_STORE_URL (the Redis store)",
        )
        return
    for run in range(1, args.runs + 1):
        print(f"run {run}/{args.runs}", flush=True)
        args.label = f"{scenario}-run{run}"
        try:
            await RUNNERS[scenario](args, report)
        except UnsupportedError as exc:
            report.note(scenario, f"could not run: {exc}")
            return
        except (RuntimeError, asyncio.TimeoutError, socketio.exceptions.SocketIOError) as exc:
            report.note(scenario, f"run {run} failed: {type(exc).__name__}: {exc}")
    report.print_scenario(scenario)


async def amain(argv: list[str]) -> int:
    parser, subs = build_parser()
    args = parser.parse_args(argv)
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    report = Report()
    LoadClient.numbering = args.seq
    print(f"machine: {machine()}\nfile descriptors: {raise_fd_limit()}", flush=True)
    if args.scenario == "all":
        shared = argv[1:]
        for name in SCENARIOS:
            scenario_args = parser.parse_args([name, *shared])
            resolve(scenario_args)
            await run_scenario(scenario_args, subs[name], report)
    else:
        resolve(args)
        await run_scenario(args, subs[args.scenario], report)
    report.print_summary()
    if args.json:
        Path(args.json).write_text(json.dumps(report.to_json(), indent=2))
    return 0


def main() -> int:
    try:
        return asyncio.run(amain(sys.argv[1:]))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted; servers stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
