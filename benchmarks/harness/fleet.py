"""Thousands of signed-in Socket.IO clients in one asyncio process: :class:`LoadClient`
(one user, optionally keeping a view of who is online and counting bytes),
:class:`Fleet` (the clients of a run on one aiohttp session), :class:`Probe`
(how long the server takes to answer anyone) and :class:`LagMonitor` (how late the
tool itself runs)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from typing import Any, AsyncIterator, Callable
from urllib.parse import quote

import aiohttp

from harness.figures import Report, percentile
from harness.meter import SNAPSHOT_EVENT, CountingClient, Meter
from harness.servers import Servers
from harness.sio import NAMESPACE, Client


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


class LoadClient(Client):
    """One signed-in user (``?user=<id>`` on the connect URL, as ``load_server.py``
    takes it) that records when ``hello`` and the snapshot came and, with ``track``,
    keeps a view of who is online from the snapshot and every presence update (the
    per-event ``presence.join`` / ``leave`` / ``status`` and the batched
    ``presence.changes``); with ``meter``, counts the bytes it receives."""

    def __init__(
        self,
        index: int,
        url: str,
        session: aiohttp.ClientSession,
        *,
        track: bool = False,
        meter: bool = False,
    ) -> None:
        super().__init__(
            CountingClient(reconnection=False, handle_sigint=False, http_session=session)
        )
        self.id = f"u{index:06d}"
        self.name = f"User {index:06d}"
        self.url = f"{url}/?user={self.id}&name={quote(self.name)}"
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
        self.signal_waiter: tuple[int, asyncio.Future[float]] | None = None
        on = self.sio.on
        on("hello", self._on_hello, namespace=NAMESPACE)
        on("presence.snapshot", self._on_snapshot, namespace=NAMESPACE)
        on("presence.join", self._on_join, namespace=NAMESPACE)
        on("presence.leave", self._on_leave, namespace=NAMESPACE)
        on("presence.status", self._on_status, namespace=NAMESPACE)
        on("presence.changes", self._on_changes, namespace=NAMESPACE)
        on("signal", self._on_signal, namespace=NAMESPACE)
        on("connect_error", self._on_connect_error, namespace=NAMESPACE)

    async def connect(self, timeout: float) -> None:
        await self.sio.connect(
            self.url, namespaces=[NAMESPACE], transports=["websocket"], wait_timeout=timeout
        )

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


@contextlib.asynccontextmanager
async def fleet_on(servers: Servers, timeout: float) -> AsyncIterator[Fleet]:
    """A :class:`Fleet` on ``servers``; at the end the servers stop first (the
    clients then close at once, with no storm of leaves), then the clients."""
    fleet = Fleet(servers.urls, timeout)
    try:
        yield fleet
    finally:
        servers.stop()
        await fleet.close()
        gc.collect()
