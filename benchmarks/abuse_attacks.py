"""The attacks of ``abuse.py``, each run in a process of its own so that its work
does not delay the bystanders' clients in the tool's process:

    python benchmarks/abuse_attacks.py ATTACK TARGET_JSON

``TARGET_JSON`` is a :class:`Target` as JSON (``abuse.py`` writes it); the notes of
the attack (what it saw) are printed as one JSON object on the last line. The
attacks are described in ``abuse.py``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable

import aiohttp
import socketio
from harness.processes import cpu_seconds
from harness.sio import Person, in_call, sign_in

ATTACKS = ("fragments", "big-sdp", "pings", "silent", "malformed")
#: Idle and slow sockets of the ``silent`` attack (each), and the server's
#: ``--max-connections`` for it.
SILENT_SOCKETS = 100


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


async def signed_in(site: Target, name: str) -> Person:
    """``name``, signed in through the site's form and connected."""
    person = Person(name)
    await person.connect(site.url, await sign_in(site.url, name))
    return person


def counter(refusals: list[int], arrivals: list[float] | None = None) -> Callable[[Any], None]:
    """An acknowledgement callback that counts refusals in ``refusals[0]`` (and
    notes when each acknowledgement came in ``arrivals``)."""
    def ack(answer: Any) -> None:
        if arrivals is not None:
            arrivals.append(time.perf_counter())
        if not (isinstance(answer, dict) and answer.get("ok")):
            refusals[0] += 1
    return ack


async def attack_fragments(site: Target, http: aiohttp.ClientSession,
                           notes: dict[str, str]) -> None:
    chunk = b"4" + b"x" * 900_000
    closed = 0
    cookie = await sign_in(site.url, "Mallet")

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
    mallory, trent = await signed_in(site, "Mallory"), await signed_in(site, "Trent")
    call_id = await in_call(mallory, trent)
    limit = int(mallory.hello["limits"]["sdp"])
    sdp = ("v=0\r\n" + "a=x-padding:" + "y" * limit)[:limit]
    refused = [0]
    start = time.perf_counter()
    for i in range(500):
        await mallory.send("signal", {"call_id": call_id,
                                      "description": {"type": "offer", "sdp": sdp}},
                           counter(refused))
        await asyncio.sleep(max(0.0, start + (i + 1) / 50 - time.perf_counter()))
    await asyncio.sleep(1)
    notes["sdp chars"] = str(limit)
    notes["refused"] = f"{refused[0]}/500"
    await mallory.disconnect()
    await trent.disconnect()


async def attack_pings(site: Target, http: aiohttp.ClientSession, notes: dict[str, str]) -> None:
    eve = await signed_in(site, "Eve")
    acks: list[float] = []
    refused = [0]
    ack = counter(refused, acks)
    cpu0 = cpu_seconds(site.pid)
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
    notes["acks"] = f"{len(acks)} ({refused[0]} refused)"
    notes["attacker disconnected"] = str(not eve.sio.connected)
    notes["server µs/event"] = f"{cpu / 10_000 * 1e6:.0f}"
    if eve.sio.connected:
        await eve.disconnect()


async def open_sockets(site: Target, count: int) -> list[asyncio.StreamWriter]:
    """Up to ``count`` TCP connections to the site (as many as it accepts)."""
    writers = []
    for _ in range(count):
        try:
            _, w = await asyncio.open_connection("127.0.0.1", site.port)
            writers.append(w)
        except OSError:
            break
    return writers


async def attack_silent(site: Target, http: aiohttp.ClientSession,
                        notes: dict[str, str]) -> None:
    cookie = await sign_in(site.url, "Walter")  # before the attack starts
    writers = await open_sockets(site, SILENT_SOCKETS)
    slow = await open_sockets(site, SILENT_SOCKETS)
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
            await walter.disconnect()
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
    cookie = await sign_in(site.url, "Mallet")
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
    """Run ``attack`` on ``target`` in a process of its own; its notes."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, __file__, attack, json.dumps(target.__dict__),
        stdout=asyncio.subprocess.PIPE)
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


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ATTACKS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(ATTACKS)}}} TARGET_JSON")
    sys.exit(asyncio.run(attacker_main(sys.argv[1], Target(**json.loads(sys.argv[2])))))
