"""The servers under test of the load tool: ``load_server.py`` processes (and the
Redis they share with more than one), started fresh for every run and stopped
whatever happens; their CPU time and memory."""

from __future__ import annotations

import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from load_server import UNSUPPORTED

from flask_videochat.testing import free_port
from harness.processes import Child, cpu_seconds, rss_kib

SERVER_SCRIPT = Path(__file__).resolve().parent.parent / "load_server.py"
REDIS_SERVER = "/usr/bin/redis-server"


def redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


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
            command = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1",
                       "--save", "", "--appendonly", "no"]
            self.redis = Child("redis", command, log_dir)
            self.children.append(self.redis)
            self.redis.wait_ready(lambda: redis_ping(port))
            store_url = f"redis://127.0.0.1:{port}/0{query}"
        elif store_url is not None:
            clear_store(store_url)
        for i in range(spec.processes):
            port = free_port()
            command = [
                sys.executable, str(SERVER_SCRIPT), "--port", str(port),
                "--presence" if spec.presence else "--no-presence",
                "--backlog", str(spec.backlog),
                "--tcp-nodelay" if spec.tcp_nodelay else "--no-tcp-nodelay",
            ]
            if store_url is not None:
                command += ["--store-url", store_url]
            for item in spec.config:
                command += ["--config", item]
            child = Child(f"server{i}", command, log_dir)
            self.children.append(child)
            self.servers.append(child)
            child.wait_ready(lambda c=child: "ready\n" in c.output(), unsupported=UNSUPPORTED)
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

    def redis_rss_kib(self) -> int:
        return rss_kib(self.redis.pid) if self.redis else 0

    def alive(self) -> bool:
        return all(c.process.poll() is None for c in self.children)

    def _profile(self, server: Child, output: Path) -> None:
        """Sample ``server`` with py-spy (non-blocking, 100 Hz) until it exits."""
        output.parent.mkdir(parents=True, exist_ok=True)
        spy = Path(sys.executable).with_name("py-spy")
        command = [str(spy), "record", "--nonblocking", "--format", "raw",
                   "-o", str(output), "-p", str(server.pid)]
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
