"""Real servers for tests, started on free loopback ports and stopped afterwards:
your site (:class:`LiveServer`), a TURN server (:class:`Coturn`, Debian's ``coturn``)
and Redis (:class:`RedisServer`, Debian's ``redis-server``, no persistence), and the
one :func:`free_port` every tool of the project uses."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Sequence


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def terminate(process: subprocess.Popen[Any] | None) -> None:
    """Stop ``process`` if it runs: SIGTERM, then SIGKILL after 5 s; wait for it."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class LiveServer:
    """A site run in a subprocess until :meth:`stop`: ``command`` gets ``{port}``
    substituted, and the server counts as up once ``health_path`` answers 200.

    :raises RuntimeError: from :meth:`start` when it does not come up within
        ``timeout`` seconds; the message holds its output.

    Example::

        server = LiveServer([sys.executable, "-m", "example_site", "--port", "{port}"])
        with server:
            page.goto(server.url + "/login")
    """

    def __init__(self, command: Sequence[str], *, health_path: str = "/healthz",
                 env: dict[str, str] | None = None, timeout: float = 20.0,
                 port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = [part.replace("{port}", str(self.port)) for part in command]
        self.health_path = health_path
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.timeout = timeout
        self._log = tempfile.TemporaryFile(mode="w+")
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> LiveServer:
        """Start the site and wait until ``health_path`` answers 200."""
        self._process = subprocess.Popen(
            self.command, stdout=self._log, stderr=subprocess.STDOUT, env=self.env, text=True
        )
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.url + self.health_path, timeout=1) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{' '.join(self.command)} did not come up:\n{self.output()}")

    def output(self) -> str:
        """Everything the server printed so far."""
        self._log.seek(0)
        return self._log.read()

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a crash would."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    def restart(self) -> LiveServer:
        """Start the server again on the same port (after :meth:`kill` or :meth:`stop`)."""
        self.stop()
        return self.start()

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s). Its output stays
        readable through :meth:`output` until the object is garbage-collected."""
        terminate(self._process)

    def __del__(self) -> None:
        self.stop()
        self._log.close()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _free_udp_port(*, also_tcp: bool = False) -> int:
    """A UDP port (and TCP, with ``also_tcp``) free on 127.0.0.1 right now."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
            if not also_tcp:
                return port
            try:
                with socket.socket() as tcp:
                    tcp.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port on 127.0.0.1")


def _free_udp_range(count: int) -> tuple[int, int]:
    """``count`` consecutive UDP ports free on 127.0.0.1 right now, below Linux's
    ephemeral range (32768 up) so that other programs' sockets rarely take them."""
    for _ in range(200):
        first = 20000 + secrets.randbelow(12000 - count)
        try:
            for port in range(first, first + count):
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return first, first + count - 1
    raise RuntimeError(f"no {count} consecutive free UDP ports on 127.0.0.1")


class Coturn:
    """A coturn TURN server (Debian's ``turnserver``, package ``coturn``) on
    127.0.0.1, run until :meth:`stop`. It takes the short-lived credentials that
    ``VIDEOCHAT_TURN_SECRET`` mints (``use-auth-secret``, ``static-auth-secret``),
    relays between loopback addresses (``allow-loopback-peers``; a real server
    refuses them) on a few free UDP ports, has no TLS, DTLS nor CLI, and logs
    verbosely to a file of its own (:meth:`output`).

    :param secret: the shared secret (letters and digits; default: a random one).
    :param realm: the TURN realm.
    :param port: the UDP and TCP port to listen on (default: a free one).
    :param relay_ports: how many UDP ports to relay on.
    :param binary: the ``turnserver`` program (default: ``turnserver`` on ``PATH``).
    :param options: more ``turnserver.conf`` lines (``"max-bps=100000"``).
    :raises RuntimeError: from :meth:`start` when ``turnserver`` is not installed, or
        does not answer a STUN binding request within ``timeout`` seconds (the
        message holds its log).

    Example::

        with Coturn() as turn:
            app.config.update(turn.config())   # VIDEOCHAT_TURN_URLS and _SECRET
    """

    def __init__(self, *, secret: str | None = None, realm: str = "videochat.test",
                 port: int | None = None, relay_ports: int = 20, timeout: float = 10.0,
                 binary: str | None = None, options: Sequence[str] = ()) -> None:
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self.secret = secret or secrets.token_hex(16)
        self.realm = realm
        self.port = port or _free_udp_port(also_tcp=True)
        self.relay_ports = relay_ports
        self.timeout = timeout
        self.binary = binary or shutil.which("turnserver") or "turnserver"
        self.options = list(options)

    @property
    def url(self) -> str:
        """The server's ``turn:`` URL over UDP."""
        return f"turn:127.0.0.1:{self.port}?transport=udp"

    @property
    def urls(self) -> list[str]:
        """Its ``turn:`` URLs over UDP and over TCP."""
        return [self.url, f"turn:127.0.0.1:{self.port}?transport=tcp"]

    def config(self) -> dict[str, Any]:
        """``VIDEOCHAT_TURN_URLS`` (UDP) and ``VIDEOCHAT_TURN_SECRET`` for this server."""
        return {"VIDEOCHAT_TURN_URLS": [self.url], "VIDEOCHAT_TURN_SECRET": self.secret}

    def _conf(self, directory: Path) -> str:
        low, high = _free_udp_range(self.relay_ports)
        lines = [
            "listening-ip=127.0.0.1", "relay-ip=127.0.0.1", f"listening-port={self.port}",
            f"min-port={low}", f"max-port={high}", f"realm={self.realm}",
            "use-auth-secret", f"static-auth-secret={self.secret}", "fingerprint",
            "no-tls", "no-dtls", "no-cli", "allow-loopback-peers", "no-multicast-peers",
            f"log-file={directory / 'turnserver.log'}", "simple-log", "no-stdout-log",
            "verbose", f"pidfile={directory / 'turnserver.pid'}",
            # Its own user database, not the system's /var/lib/turn/turndb.
            f"userdb={directory / 'turndb'}",
            *self.options,
        ]
        return "\n".join(lines) + "\n"

    def start(self) -> Coturn:
        """Start the server and wait until it answers a STUN binding request."""
        if not shutil.which(self.binary):
            raise RuntimeError(f"{self.binary} not found: install Debian's coturn package")
        self._dir = tempfile.TemporaryDirectory(prefix="videochat-coturn-")
        directory = Path(self._dir.name)
        conf = directory / "turnserver.conf"
        conf.write_text(self._conf(directory))
        with (directory / "stdout.log").open("wb") as out:
            self._process = subprocess.Popen([self.binary, "-c", str(conf)], stdout=out,
                                             stderr=subprocess.STDOUT, cwd=directory)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline and self._process.poll() is None:
            if self._answers_stun():
                return self
        self.stop()
        raise RuntimeError(f"turnserver did not come up on port {self.port}:\n{self.output()}")

    def _answers_stun(self) -> bool:
        """Whether a STUN binding request (RFC 5389) to the port gets its response."""
        tid = secrets.token_bytes(12)
        request = b"\x00\x01\x00\x00\x21\x12\xa4\x42" + tid
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.2)
            try:
                s.sendto(request, ("127.0.0.1", self.port))
                reply = s.recv(2048)
            except OSError:
                return False
        return reply[:2] == b"\x01\x01" and reply[8:20] == tid

    def output(self) -> str:
        """The server's log so far (and anything it printed)."""
        if self._dir is None:
            return ""
        directory = Path(self._dir.name)
        parts = [p.read_text(errors="replace") for p in
                 (directory / "stdout.log", directory / "turnserver.log") if p.exists()]
        return "\n".join(parts)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s). :meth:`output` stays
        readable until the object is garbage-collected."""
        terminate(self._process)

    def close(self) -> None:
        """Stop the server and delete its directory (config and logs)."""
        self.stop()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __del__(self) -> None:
        self.close()

    def __enter__(self) -> Coturn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def example_site_command(host: str = "127.0.0.1", async_mode: str = "eventlet") -> list[str]:
    """The command running flask-videochat's demo site on ``{port}``."""
    return [sys.executable, "-m", "example_site", "--host", host, "--port", "{port}",
            "--async-mode", async_mode]


class RedisServer:
    """``redis-server`` on ``127.0.0.1:<free port>`` until :meth:`stop`; no disk
    persistence, so :meth:`restart` brings it back empty (as a crashed Redis without
    persistence would be).

    :param executable: the server binary (default: ``redis-server`` on ``PATH``).
    :raises RuntimeError: from :meth:`start` when the binary is missing or the
        server does not answer within ``timeout`` seconds.

    Example::

        with RedisServer() as redis_server:
            app.config["VIDEOCHAT_STORE_URL"] = redis_server.url
    """

    def __init__(self, *, executable: str | None = None, port: int | None = None,
                 timeout: float = 10.0) -> None:
        self.executable = executable or shutil.which("redis-server") or "redis-server"
        self.port = port or free_port()
        #: ``redis://127.0.0.1:<port>/0``
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.timeout = timeout
        self._dir = tempfile.TemporaryDirectory(prefix="videochat-redis-")
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        """Start the server and wait until it answers ``PING``."""
        if shutil.which(self.executable) is None and not Path(self.executable).exists():
            raise RuntimeError(
                "redis-server not found: install Debian's 'redis-server' package "
                "(scripts/test does so when run as root)"
            )
        log = Path(self._dir.name, "redis.log")
        self._process = subprocess.Popen(
            [self.executable, "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", self._dir.name,
             "--logfile", str(log)],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            if self.ping():
                return self
            time.sleep(0.02)
        self.stop()
        text = log.read_text() if log.exists() else ""
        raise RuntimeError(f"redis-server did not come up on port {self.port}:\n{text}")

    def ping(self) -> bool:
        """Whether the server answers ``PING``."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """Stop the server (SIGKILL: nothing to save) and wait for it."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(10)
        self._process = None

    def restart(self) -> RedisServer:
        """Stop and start again on the same port, empty."""
        self.stop()
        return self.start()

    def close(self) -> None:
        """Stop the server and delete its directory."""
        self.stop()
        self._dir.cleanup()

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
