"""Idle and slow connections against the example site: does it keep answering?

Starts ``python -m example_site`` (``--mode``, ``--max-connections``, and any server
options after ``--``), opens ``--sockets`` attacking connections, and for
``--duration`` seconds times, every ``--every`` seconds, a ``GET /healthz`` and an
Engine.IO handshake (``GET /socket.io/?EIO=4&transport=polling``) on new
connections (each given up after ``--give-up`` seconds). Then reports how many
attacking sockets the server had closed, and when.

Attacks (``--kind``):

- ``silent``: connect and send nothing;
- ``slowloris``: send ``GET / HTTP/1.1``, ``Host``, then one header byte every
  ``--drip`` seconds, never ending the head;
- ``slow-body``: send a whole ``POST /login`` head announcing 1,000 bytes of body,
  then one body byte every ``--drip`` seconds.

    python benchmarks/slow_clients.py --mode eventlet --max-connections 100 \\
        --sockets 100 --kind silent -- --header-timeout 10

``--code DIR`` runs the server from another checkout (its ``example_site`` and
``flask_videochat``), for a before/after comparison.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import threading
import time
import urllib.request
from pathlib import Path

from flask_videochat.testing import LiveServer, example_site_command

REPO = Path(__file__).resolve().parent.parent


def timed_get(url: str, give_up: float) -> float | None:
    """Seconds until ``url`` answered 200 on a new connection, or ``None``."""
    start = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=give_up) as response:
            response.read()
            return time.monotonic() - start if response.status == 200 else None
    except OSError:
        return None


class Attack:
    """``count`` attacking connections of one kind, dripping in a thread."""

    def __init__(self, port: int, kind: str, count: int, drip: float) -> None:
        self.kind = kind
        self.drip = drip
        self.started = time.monotonic()
        self.sockets: list[socket.socket] = []
        self.closed_at: dict[int, float] = {}
        self.refused = 0
        for _ in range(count):
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=5)
            except OSError:
                self.refused += 1
                continue
            if kind == "slowloris":
                s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            elif kind == "slow-body":
                s.sendall(b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          b"Content-Type: application/x-www-form-urlencoded\r\n"
                          b"Content-Length: 1000\r\n\r\nname=")
            s.setblocking(False)
            self.sockets.append(s)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _closed(self, index: int, s: socket.socket) -> bool:
        """Whether the server closed ``s`` (noting when, the first time)."""
        if index in self.closed_at:
            return True
        try:
            data = s.recv(65536)
        except BlockingIOError:
            return False
        except OSError:
            data = b""
        if data:
            return False  # a response (a 408?): wait for the close
        self.closed_at[index] = time.monotonic() - self.started
        return True

    def _run(self) -> None:
        next_drip = time.monotonic() + self.drip
        while not self._stop.wait(0.05):
            drip = self.kind != "silent" and time.monotonic() >= next_drip
            for index, s in enumerate(self.sockets):
                if self._closed(index, s) or not drip:
                    continue
                try:
                    s.send(b"x")
                except OSError:
                    self.closed_at.setdefault(index, time.monotonic() - self.started)
            if drip:
                next_drip += self.drip

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        for s in self.sockets:
            s.close()


def summary(times: list[float | None]) -> str:
    answered = [t for t in times if t is not None]
    if not answered:
        return f"0/{len(times)} answered"
    return (f"{len(answered)}/{len(times)} answered, median {statistics.median(answered):.3f} s, "
            f"max {max(answered):.3f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("eventlet", "threading"), default="eventlet")
    parser.add_argument("--max-connections", type=int, default=100)
    parser.add_argument("--sockets", type=int, default=100)
    parser.add_argument("--kind", choices=("silent", "slowloris", "slow-body"), default="silent")
    parser.add_argument("--drip", type=float, default=2.0, help="seconds between bytes (2)")
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--every", type=float, default=1.0)
    parser.add_argument("--give-up", type=float, default=10.0)
    parser.add_argument("--code", type=Path, default=REPO,
                        help="checkout to run the server from (this one)")
    parser.add_argument("server_options", nargs="*", help="more options of the server")
    args = parser.parse_args()

    code = str(args.code.resolve())
    command = [*example_site_command(async_mode=args.mode), "--max-connections",
               str(args.max_connections), *args.server_options]
    env = {"SECRET_KEY": "slow-clients", "VIDEOCHAT_ICE_SERVERS": "[]",
           "PYTHONPATH": os.pathsep.join([code, os.environ.get("PYTHONPATH", "")])}
    server = LiveServer(command, env=env)
    previous = os.getcwd()
    os.chdir(code)  # ``python -m`` looks in the working directory first
    try:
        server.start()
    finally:
        os.chdir(previous)
    try:
        attack = Attack(server.port, args.kind, args.sockets, args.drip)
        print(f"{args.mode}, cap {args.max_connections}, {len(attack.sockets)} {args.kind} "
              f"sockets ({attack.refused} not connected), server options "
              f"{args.server_options}, code {code}", flush=True)
        health: list[float | None] = []
        handshake: list[float | None] = []
        end = time.monotonic() + args.duration
        while time.monotonic() < end:
            health.append(timed_get(server.url + "/healthz", args.give_up))
            handshake.append(timed_get(server.url + "/socket.io/?EIO=4&transport=polling",
                                       args.give_up))
            print(f"  t={time.monotonic() - attack.started:5.1f} s  /healthz "
                  f"{health[-1] if health[-1] is None else round(health[-1], 3)}  "
                  f"handshake {handshake[-1] if handshake[-1] is None else round(handshake[-1], 3)}"
                  f"  attackers closed {len(attack.closed_at)}", flush=True)
            time.sleep(args.every)
        attack.stop()
        closed = sorted(attack.closed_at.values())
        print(f"/healthz: {summary(health)}")
        print(f"Engine.IO handshake: {summary(handshake)}")
        if closed:
            print(f"attacking sockets closed by the server: {len(closed)}/{len(attack.sockets)}"
                  f", first after {closed[0]:.1f} s, last after {closed[-1]:.1f} s")
        else:
            print(f"attacking sockets closed by the server: 0/{len(attack.sockets)}")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
