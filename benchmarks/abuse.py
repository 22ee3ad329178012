"""What one abusive client does to everyone else: attacks on the example site.

Starts ``python -m example_site`` (the served configuration, with its defaults) on a
free port, for each ``--async-mode`` (``eventlet`` and ``threading``), a fresh server
per attack and run. Two bystanders, Ada and Bob, sign in through the site's form and
hold an answered call; each sends the other a ``signal`` carrying an ICE candidate
every ``--interval`` (50 ms) and the tool times each one from the sender's ``emit``
to the receiver's handler (one process, one clock). An attack runs between a quiet
phase before and one after; for each phase the tool prints the bystanders' relay
p50 and p99 (ms), how many relays were lost (never delivered, or refused), the
server's CPU seconds and its RSS (MiB) at the end of the phase.

Attacks (``--attacks``, all by default):

``fragments``
    Five WebSocket connections, one signed in, four anonymous, each sending a text
    frame with ``fin=0`` and then three 900 KB continuation frames, never finishing
    the message (eventlet unmasked these byte by byte in Python, and
    ``max_http_buffer_size`` capped a frame, not a message).
``big-sdp``
    A signed-in attacker in a call with an accomplice sends ``signal`` offers
    carrying the largest SDP the server accepts (``hello``'s ``limits.sdp``) at
    50 a second for 10 s: inside every limit.
``pings``
    One signed-in connection sends 10,000 ``ping`` events as fast as it can (200 KB).
    Also printed: when the first and the last acknowledgement came, how many were
    refused, whether the server closed the connection, and the server CPU per event.
``silent``
    As many idle TCP connections as the server's ``--max-connections`` (100 for
    this attack), opened and left silent, plus as many sending a request head one
    byte every 2 s; meanwhile ``/healthz`` and a new Socket.IO connection are timed
    every 0.5 s.
``malformed``
    2,000 Socket.IO packets python-socketio cannot take (``42/videochat,1[]``), from
    one signed-in connection; the bytes the server logged are printed.

Usage::

    python benchmarks/abuse.py                       # every attack, both servers, 3 runs
    python benchmarks/abuse.py --attacks pings --async-modes eventlet --runs 1

The machine's two cores are shared by the server, the bystanders and the attacker:
the attacker runs in this process too, so an attack that costs the client a lot also
delays the bystanders' own measurement (``client loop lag`` is printed).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import dataclasses
import json
import os
import re
import socket
import statistics
import struct
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable

import aiohttp
import socketio
from load import Child, cpu_seconds, free_port, percentile, rss_kib

NAMESPACE = "/videochat"
ROOT = Path(__file__).resolve().parent.parent
ATTACKS = ("fragments", "big-sdp", "pings", "silent", "malformed")
CANDIDATE = "candidate:{n} 1 udp 2122260223 192.0.2.10 54400 typ host generation 0"
#: Idle and slow sockets of the ``silent`` attack (each), and the server's
#: ``--max-connections`` for it.
SILENT_SOCKETS = 100
#: A relay not delivered this long after the end of its phase is lost.
LOST_AFTER = 5.0


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    lost: int = 0
    cpu: float = 0.0
    rss_mib: float = 0.0
    notes: dict[str, str] = field(default_factory=dict)


@dataclass
class Target:
    """What an attacker (a process of its own) knows of the site."""

    url: str
    pid: int
    log_path: str

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def log_bytes(self) -> int:
        return Path(self.log_path).stat().st_size


class Site:
    """``python -m example_site`` on a free port, with its own secret key and log."""

    def __init__(self, async_mode: str, *, max_connections: int | None = None) -> None:
        self.dir = tempfile.TemporaryDirectory(prefix="videochat-abuse-")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "example_site", "--port", str(self.port),
                   "--async-mode", async_mode]
        if max_connections is not None:
            command += ["--max-connections", str(max_connections)]
        os.environ.setdefault("SECRET_KEY", base64.b64encode(os.urandom(24)).decode())
        self.child = Child("site", command, Path(self.dir.name))
        self.child.wait_ready(self._healthy)

    def _healthy(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"GET /healthz HTTP/1.0\r\nHost: x\r\n\r\n")
                return b" 200 " in s.recv(200)
        except OSError:
            return False

    @property
    def pid(self) -> int:
        return self.child.pid

    @property
    def target(self) -> Target:
        return Target(self.url, self.child.pid, str(self.child.log_path))

    def stop(self) -> None:
        self.child.stop()
        self.dir.cleanup()


async def sign_in(http: aiohttp.ClientSession, url: str, name: str) -> str:
    """Sign in through the site's form (sending its CSRF token when it has one);
    returns the ``Cookie`` header of that person's session."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as own:
        async with own.get(f"{url}/login") as page:
            text = await page.text()
        form = {"name": name}
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text)
        if token:
            form["csrf_token"] = token.group(1)
        async with own.post(f"{url}/login", data=form, allow_redirects=False) as answer:
            if answer.status not in (302, 303):
                raise RuntimeError(f"sign-in of {name} failed: {answer.status}")
        return "; ".join(f"{c.key}={c.value}" for c in jar)


class Person:
    """A signed-in Socket.IO connection to ``/videochat``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sio = socketio.AsyncClient(reconnection=False, handle_sigint=False)
        self.hello: dict[str, Any] = {}
        self.seq = 0
        self.on_signal: Callable[[dict[str, Any]], None] = lambda data: None
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sio.on("hello", self._hello, namespace=NAMESPACE)
        self.sio.on("signal", lambda data: self.on_signal(data), namespace=NAMESPACE)
        self.sio.on("call.incoming", self.incoming.put_nowait, namespace=NAMESPACE)
        self.sio.on("call.accepted", self.incoming.put_nowait, namespace=NAMESPACE)

    def _hello(self, data: dict[str, Any]) -> None:
        self.hello = data

    async def connect(self, url: str, cookie: str) -> None:
        await self.sio.connect(url, headers={"Cookie": cookie}, namespaces=[NAMESPACE],
                               transports=["websocket"], wait_timeout=10)
        for _ in range(200):
            if self.hello:
                return
            await asyncio.sleep(0.02)
        raise RuntimeError(f"{self.name}: no hello")

    @property
    def id(self) -> str:
        return str(self.hello["self"]["id"])

    def numbered(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.seq += 1
        return {**payload, "seq": self.seq}

    async def ask(self, event: str, payload: dict[str, Any], timeout: float = 10) -> Any:
        return await self.sio.call(event, self.numbered(payload), namespace=NAMESPACE,
                                   timeout=timeout)

    def send(self, event: str, payload: dict[str, Any],
             callback: Callable[..., None] | None = None, *, seq: bool = True) -> Awaitable[None]:
        """Emit ``event``, numbered as the widget numbers its events unless ``seq`` is
        false (a client of its own)."""
        return self.sio.emit(event, self.numbered(payload) if seq else payload,
                             namespace=NAMESPACE, callback=callback)

    async def close(self) -> None:
        await self.sio.disconnect()


async def in_call(caller: Person, callee: Person) -> str:
    """``caller`` calls ``callee``, who accepts: the call's id."""
    invite = await caller.ask("call.invite", {"to": callee.id})
    if not invite.get("ok"):
        raise RuntimeError(f"invite refused: {invite}")
    await asyncio.wait_for(callee.incoming.get(), 10)
    accept = await callee.ask("call.accept", {"call_id": invite["call_id"]})
    if not accept.get("ok"):
        raise RuntimeError(f"accept refused: {accept}")
    return str(invite["call_id"])


class Relays:
    """Ada and Bob relay candidates both ways every ``interval`` seconds."""

    def __init__(self, ada: Person, bob: Person, call_id: str, interval: float) -> None:
        self.pairs = ((ada, bob), (bob, ada))
        self.call_id = call_id
        self.interval = interval
        self.sent: dict[int, tuple[float, Phase]] = {}
        self.n = 0
        self.phase: Phase | None = None
        self.lag = 0.0
        for _, receiver in self.pairs:
            receiver.on_signal = self._received

    def _received(self, data: dict[str, Any]) -> None:
        now = time.perf_counter()
        n = int(data["candidate"]["candidate"].split()[0].split(":")[1])
        entry = self.sent.pop(n, None)
        if entry is not None:
            entry[1].latencies.append((now - entry[0]) * 1000)

    def _refused(self, n: int) -> Callable[[Any], None]:
        def ack(answer: Any) -> None:
            if not (isinstance(answer, dict) and answer.get("ok")):
                entry = self.sent.pop(n, None)
                if entry is not None:
                    entry[1].lost += 1
        return ack

    async def run(self, stop: asyncio.Event) -> None:
        turn = 0
        next_at = time.perf_counter()
        while not stop.is_set():
            phase = self.phase
            if phase is not None:
                sender, _ = self.pairs[turn % 2]
                turn += 1
                self.n += 1
                n = self.n
                self.sent[n] = (time.perf_counter(), phase)
                payload = {"call_id": self.call_id,
                           "candidate": {"candidate": CANDIDATE.format(n=n), "sdpMid": "0"}}
                await sender.send("signal", payload, callback=self._refused(n))
            next_at += self.interval
            delay = next_at - time.perf_counter()
            self.lag = max(self.lag, -delay)
            await asyncio.sleep(max(delay, 0))

    def settle(self, phases: list[Phase]) -> None:
        """Relays still undelivered count as lost in their phase."""
        for _, phase in self.sent.values():
            phase.lost += 1
        self.sent.clear()


# -- attacks ---------------------------------------------------------------------------


def ws_frame(opcode: int, payload: bytes, *, fin: bool) -> bytes:
    """A client-to-server WebSocket frame (RFC 6455 section 5.2), masked."""
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    mask = os.urandom(4)
    key = (mask * (n // 4 + 1))[:n]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")
    return head + mask + masked


async def open_websocket(url: str, cookie: str | None) -> tuple[Any, Any]:
    """A raw Engine.IO WebSocket (``/socket.io/?EIO=4&transport=websocket``)."""
    port = int(url.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    head = (f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n")
    if cookie:
        head += f"Cookie: {cookie}\r\n"
    writer.write((head + "\r\n").encode())
    await writer.drain()
    status = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    if b" 101 " not in status.split(b"\r\n", 1)[0]:
        raise RuntimeError(f"no WebSocket: {status[:80]!r}")
    return reader, writer


async def attack_fragments(site: Target, http: aiohttp.ClientSession,
                           notes: dict[str, str]) -> None:
    chunk = b"4" + b"x" * 900_000
    closed = 0
    cookie = await sign_in(http, site.url, "Mallet")

    async def one(cookie: str | None) -> None:
        nonlocal closed
        reader, writer = await open_websocket(site.url, cookie)
        try:
            writer.write(ws_frame(1, chunk, fin=False))
            for _ in range(3):
                writer.write(ws_frame(0, chunk[1:], fin=False))
            await asyncio.wait_for(writer.drain(), 30)
            # Closed by the server: a close frame (0x88) or the end of the stream.
            while True:
                head = await asyncio.wait_for(reader.read(2), 5)
                if not head or head[0] == 0x88:
                    closed += 1
                    break
                await reader.read(65536)  # an Engine.IO open or ping packet
        except (OSError, asyncio.TimeoutError):
            closed += isinstance(sys.exc_info()[1], OSError)
        finally:
            writer.close()

    await asyncio.gather(one(cookie), *(one(None) for _ in range(4)))
    notes["closed by server"] = f"{closed}/5"


async def attack_big_sdp(site: Target, http: aiohttp.ClientSession, notes: dict[str, str]) -> None:
    mallory, trent = Person("Mallory"), Person("Trent")
    await mallory.connect(site.url, await sign_in(http, site.url, "Mallory"))
    await trent.connect(site.url, await sign_in(http, site.url, "Trent"))
    call_id = await in_call(mallory, trent)
    limit = int(mallory.hello["limits"]["sdp"])
    sdp = ("v=0\r\n" + "a=x-padding:" + "y" * limit)[:limit]
    refused = 0

    def ack(answer: Any) -> None:
        nonlocal refused
        if not (isinstance(answer, dict) and answer.get("ok")):
            refused += 1

    start = time.perf_counter()
    for i in range(500):
        await mallory.send("signal", {"call_id": call_id,
                                      "description": {"type": "offer", "sdp": sdp}}, ack)
        await asyncio.sleep(max(0.0, start + (i + 1) / 50 - time.perf_counter()))
    await asyncio.sleep(1)
    notes["sdp chars"] = str(limit)
    notes["refused"] = f"{refused}/500"
    await mallory.close()
    await trent.close()


async def attack_pings(site: Target, http: aiohttp.ClientSession, notes: dict[str, str]) -> None:
    eve = Person("Eve")
    await eve.connect(site.url, await sign_in(http, site.url, "Eve"))
    acks: list[float] = []
    refused = 0
    cpu0 = cpu_seconds(site.pid)

    def ack(answer: Any) -> None:
        nonlocal refused
        acks.append(time.perf_counter())
        if not (isinstance(answer, dict) and answer.get("ok")):
            refused += 1

    start = time.perf_counter()
    for i in range(10_000):
        # Half numbered as the widget does, half not (a client of its own).
        await eve.send("ping", {}, ack, seq=i % 2 == 0)
    deadline = time.perf_counter() + 120
    while len(acks) < 10_000 and eve.sio.connected and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    cpu = cpu_seconds(site.pid) - cpu0
    notes["first ack s"] = f"{acks[0] - start:.2f}" if acks else "none"
    notes["last ack s"] = f"{acks[-1] - start:.2f}" if acks else "none"
    notes["acks"] = f"{len(acks)} ({refused} refused)"
    notes["attacker disconnected"] = str(not eve.sio.connected)
    notes["server µs/event"] = f"{cpu / 10_000 * 1e6:.0f}"
    if eve.sio.connected:
        await eve.close()


async def attack_silent(site: Target, http: aiohttp.ClientSession,
                        notes: dict[str, str]) -> None:
    count = SILENT_SOCKETS
    cookie = await sign_in(http, site.url, "Walter")  # before the attack starts
    writers = []
    for _ in range(count):
        try:
            _, w = await asyncio.open_connection("127.0.0.1", site.port)
            writers.append(w)
        except OSError:
            break
    slow = []
    for _ in range(count):
        try:
            _, w = await asyncio.open_connection("127.0.0.1", site.port)
            slow.append(w)
        except OSError:
            break
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"y" * 200

    async def trickle() -> None:
        for i in range(len(head)):
            for w in slow:
                if not w.is_closing():
                    w.write(head[i:i + 1])
            await asyncio.sleep(2)

    trickler = asyncio.create_task(trickle())
    health: list[float] = []
    connects: list[float] = []
    failures = 0
    end = time.perf_counter() + 15
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        try:
            async with http.get(f"{site.url}/healthz",
                                timeout=aiohttp.ClientTimeout(total=5)) as r:
                await r.read()
            health.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            walter = Person("Walter")
            await asyncio.wait_for(walter.connect(site.url, cookie), 5)
            connects.append((time.perf_counter() - t0) * 1000)
            await walter.close()
        except (OSError, asyncio.TimeoutError, aiohttp.ClientError, RuntimeError,
                socketio.exceptions.ConnectionError):
            failures += 1
        await asyncio.sleep(0.5)
    trickler.cancel()
    notes["silent/slow sockets"] = f"{len(writers)}/{len(slow)}"
    notes["healthz ms max"] = f"{max(health):.0f}" if health else "none"
    notes["connect ms max"] = f"{max(connects):.0f}" if connects else "none"
    notes["probe failures"] = str(failures)
    for w in writers + slow:
        w.close()


async def attack_malformed(site: Target, http: aiohttp.ClientSession,
                           notes: dict[str, str]) -> None:
    cookie = await sign_in(http, site.url, "Mallet")
    before = site.log_bytes()
    _, writer = await open_websocket(site.url, cookie)
    try:
        writer.write(ws_frame(1, b"40/videochat,", fin=True))
        for _ in range(2000):
            writer.write(ws_frame(1, b"42/videochat,1[]", fin=True))
        await asyncio.wait_for(writer.drain(), 30)
    except (OSError, asyncio.TimeoutError):
        pass
    await asyncio.sleep(2)
    writer.close()
    notes["server log bytes"] = str(site.log_bytes() - before)


ATTACKERS: dict[str, Callable[[Target, aiohttp.ClientSession, dict[str, str]],
                              Awaitable[None]]] = {
    "fragments": attack_fragments,
    "big-sdp": attack_big_sdp,
    "pings": attack_pings,
    "silent": attack_silent,
    "malformed": attack_malformed,
}


async def run_attacker(attack: str, target: Target) -> dict[str, str]:
    """Run ``attack`` in a process of its own (so that its own work does not delay
    the bystanders' clients here); its notes."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--attacker", attack, "--target",
        json.dumps(dataclasses.asdict(target)), stdout=asyncio.subprocess.PIPE)
    out, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"the {attack} attacker failed ({process.returncode})")
    return dict(json.loads(out.decode().strip().splitlines()[-1]))


async def attacker_main(attack: str, target: Target) -> int:
    notes: dict[str, str] = {}
    async with aiohttp.ClientSession() as http:
        await ATTACKERS[attack](target, http, notes)
    print(json.dumps(notes))
    return 0


# -- runs ------------------------------------------------------------------------------


async def one_run(attack: str, async_mode: str, args: argparse.Namespace) -> list[Phase]:
    site = Site(async_mode, max_connections=SILENT_SOCKETS if attack == "silent" else None)
    phases = [Phase("before"), Phase("during"), Phase("after")]
    try:
        async with aiohttp.ClientSession() as http:
            ada, bob = Person("Ada"), Person("Bob")
            await ada.connect(site.url, await sign_in(http, site.url, "Ada"))
            await bob.connect(site.url, await sign_in(http, site.url, "Bob"))
            relays = Relays(ada, bob, await in_call(ada, bob), args.interval)
            stop = asyncio.Event()
            loop = asyncio.create_task(relays.run(stop))
            for phase in phases:
                relays.phase = phase
                if phase.name == "during":
                    phase.notes.update(await run_attacker(attack, site.target))
                else:
                    await asyncio.sleep(args.quiet)
                phase.cpu = cpu_seconds(site.pid)
                phase.rss_mib = rss_kib(site.pid) / 1024
            relays.phase = None
            await asyncio.sleep(LOST_AFTER)
            stop.set()
            await loop
            relays.settle(phases)
            phases[0].notes["client loop lag ms"] = f"{relays.lag * 1000:.0f}"
            await ada.close()
            await bob.close()
    finally:
        site.stop()
    previous = 0.0
    for phase in phases:
        phase.cpu, previous = phase.cpu - previous, phase.cpu
    return phases


def ms(values: list[float], p: float) -> str:
    return f"{percentile(values, p):.1f}" if values else "-"


def spread(values: list[float]) -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.1f}"
    return f"{statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f})"


def report(attack: str, async_mode: str, runs: list[list[Phase]]) -> None:
    print(f"\n## {attack} on {async_mode} ({len(runs)} run(s); median (min-max) over runs)")
    print("| phase | relay p50 ms | relay p99 ms | lost relays | server CPU s | server RSS MiB |")
    print("|---|---|---|---|---|---|")
    for i, name in enumerate(("before", "during", "after")):
        phases = [run[i] for run in runs]
        p50 = [percentile(p.latencies, 50) for p in phases if p.latencies]
        p99 = [percentile(p.latencies, 99) for p in phases if p.latencies]
        lost = [float(p.lost) for p in phases]
        sent = [len(p.latencies) + p.lost for p in phases]
        print(f"| {name} | {spread(p50)} | {spread(p99)} | {spread(lost)} of "
              f"{statistics.median(sent):.0f} | {spread([p.cpu for p in phases])} | "
              f"{spread([p.rss_mib for p in phases])} |")
    for run_index, run in enumerate(runs):
        notes = {**run[0].notes, **run[1].notes}
        print(f"run {run_index + 1}: " + ", ".join(f"{k}: {v}" for k, v in notes.items()))
    sys.stdout.flush()


async def amain(args: argparse.Namespace) -> int:
    print(f"# abuse: {' '.join(sys.argv)}")
    for attack in args.attacks:
        for async_mode in args.async_modes:
            runs = [await one_run(attack, async_mode, args) for _ in range(args.runs)]
            report(attack, async_mode, runs)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--attacks", nargs="+", choices=ATTACKS, default=list(ATTACKS))
    parser.add_argument("--async-modes", nargs="+", choices=("eventlet", "threading"),
                        default=["eventlet", "threading"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--interval", type=float, default=0.05,
                        help="seconds between two bystander relays (0.05)")
    parser.add_argument("--quiet", type=float, default=5.0,
                        help="seconds of the phases before and after the attack (5)")
    parser.add_argument("--attacker", choices=ATTACKS, help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    args = parser.parse_args()
    if args.attacker:
        return asyncio.run(attacker_main(args.attacker, Target(**json.loads(args.target))))
    return asyncio.run(amain(args))


if __name__ == "__main__":
    sys.exit(main())
