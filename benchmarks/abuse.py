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

The machine's two cores are shared by the server, the bystanders and the attacker.
The attacker runs in a process of its own (``abuse_attacks.py``, where the attacks
are), so that its work does not delay the bystanders' clients in this process; an
attack that costs the machine a lot still can (``client loop lag`` is printed).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import socket
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from abuse_attacks import ATTACKS, SILENT_SOCKETS, Target, run_attacker, signed_in
from harness.figures import median_range, percentile
from harness.processes import Child, cpu_seconds, rss_kib
from harness.sio import Person, in_call

from flask_videochat.testing import free_port

ROOT = Path(__file__).resolve().parent.parent
CANDIDATE = "candidate:{n} 1 udp 2122260223 192.0.2.10 54400 typ host generation 0"
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


async def one_run(attack: str, async_mode: str, args: argparse.Namespace) -> list[Phase]:
    site = Site(async_mode, max_connections=SILENT_SOCKETS if attack == "silent" else None)
    phases = [Phase("before"), Phase("during"), Phase("after")]
    try:
        target = site.target
        ada, bob = await signed_in(target, "Ada"), await signed_in(target, "Bob")
        relays = Relays(ada, bob, await in_call(ada, bob), args.interval)
        stop = asyncio.Event()
        loop = asyncio.create_task(relays.run(stop))
        for phase in phases:
            relays.phase = phase
            if phase.name == "during":
                phase.notes.update(await run_attacker(attack, target))
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
        await ada.disconnect()
        await bob.disconnect()
    finally:
        site.stop()
    previous = 0.0
    for phase in phases:
        phase.cpu, previous = phase.cpu - previous, phase.cpu
    return phases


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
        print(f"| {name} | {median_range(p50)} | {median_range(p99)} | {median_range(lost)} of "
              f"{statistics.median(sent):.0f} | {median_range([p.cpu for p in phases])} | "
              f"{median_range([p.rss_mib for p in phases])} |")
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
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    args = parser.parse_args()
    return asyncio.run(amain(args))


if __name__ == "__main__":
    sys.exit(main())
