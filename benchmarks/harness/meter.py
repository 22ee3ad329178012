"""Bytes a load client receives: per WebSocket message as it arrives, the UTF-8
length of the text (one Engine.IO packet) plus its server-to-client frame header,
filed under the Socket.IO event it carries; and a Socket.IO client that can skip
decoding presence events (thousands of clients that keep no view of who is online)."""

from __future__ import annotations

from typing import Any, Callable

import engineio
import socketio

from flask_videochat import NAMESPACE

#: How a Socket.IO message carrying a presence event (or the snapshot) starts.
PRESENCE_EVENT = f'2{NAMESPACE},["presence.'
SNAPSHOT_EVENT = f'2{NAMESPACE},["presence.snapshot"'


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
