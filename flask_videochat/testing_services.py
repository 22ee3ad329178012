"""Real servers for tests, started on free loopback ports and stopped afterwards.

:class:`RedisServer` runs Debian's ``redis-server`` (package ``redis-server``) with
no persistence, for tests of a site served by several processes
(``VIDEOCHAT_STORE_URL``). Re-exported by :mod:`flask_videochat.testing`.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
        self.port = port or _free_port()
        #: ``redis://127.0.0.1:<port>/0``
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.timeout = timeout
        self._dir = tempfile.TemporaryDirectory(prefix="videochat-redis-")
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
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
        self.stop()
        self._dir.cleanup()

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
