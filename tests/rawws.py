"""A WebSocket client that sends what a browser never would, for the tests of the
transport: frames of any shape (RFC 6455 section 5.2), Engine.IO and Socket.IO
packets written by hand."""

from __future__ import annotations

import base64
import os
import socket
import struct
from typing import Any

TEXT, BINARY, CLOSE = 0x1, 0x2, 0x8


def frame(opcode: int, payload: bytes, *, fin: bool = True) -> bytes:
    """A client-to-server frame, masked with a random key."""
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


class RawSocket:
    """An Engine.IO WebSocket (``/socket.io/?EIO=4&transport=websocket``) to a server
    on 127.0.0.1, read and written frame by frame.

    :param query: more of the URL's query (``"&user=ada"``).
    :param headers: more request headers, each ending with ``\\r\\n``.
    """

    def __init__(
        self, port: int, query: str = "", *, timeout: float = 5.0, headers: str = ""
    ) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET /socket.io/?EIO=4&transport=websocket{query} HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{headers}\r\n"
            ).encode()
        )
        self._buffer = b""
        head = self._read_until(b"\r\n\r\n")
        #: The server's handshake response (status line and headers).
        self.response_head = head.decode("latin-1")
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError(f"no WebSocket: {head[:100]!r}")
        opcode, data = self.receive()  # Engine.IO open
        assert opcode == TEXT and data.startswith(b"0"), data

    def _read(self, n: int) -> bytes:
        while len(self._buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("the server closed the connection")
            self._buffer += chunk
        data, self._buffer = self._buffer[:n], self._buffer[n:]
        return data

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self._buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("the server closed the connection")
            self._buffer += chunk
        head, _, self._buffer = self._buffer.partition(marker)
        return head

    def send(self, data: bytes | str, *, opcode: int | None = None, fin: bool = True) -> None:
        """Send one frame (text for ``str``)."""
        if isinstance(data, str):
            data, opcode = data.encode(), TEXT if opcode is None else opcode
        self.sock.sendall(frame(BINARY if opcode is None else opcode, data, fin=fin))

    def receive(self) -> tuple[int, bytes]:
        """The next frame from the server: ``(opcode, payload)``.

        :raises EOFError: the connection ended.
        """
        first, second = self._read(2)
        n = second & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._read(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read(8))[0]
        return first & 0x0F, self._read(n)

    def receive_text(self) -> str:
        """The next text frame, answering Engine.IO pings on the way.

        :raises EOFError: the connection ended (or the server sent a close frame).
        """
        while True:
            opcode, data = self.receive()
            if opcode == CLOSE:
                raise EOFError(f"closed by the server: {self.close_code(data)}")
            if data == b"2":
                self.send("3")
                continue
            return data.decode()

    @staticmethod
    def close_code(data: bytes) -> int | None:
        return struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None

    def closed_by_server(self) -> Any:
        """Read until the server closes: the close frame's status code, or ``"eof"``
        for a connection ended without one. Fails after the socket's timeout."""
        try:
            while True:
                opcode, data = self.receive()
                if opcode == CLOSE:
                    return self.close_code(data)
        except EOFError:
            return "eof"
        except ConnectionResetError:
            return "eof"

    def ended_by_server(self) -> bool:
        """Read until the server ends the TCP connection (after its close frame, if
        any): ``True`` once it has; fails after the socket's timeout."""
        try:
            while True:
                self.receive()
        except (EOFError, ConnectionResetError):
            return True

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RawSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
