"""What the extension does to the host's Socket.IO server so that one client cannot
freeze the site, below the events (``VIDEOCHAT_HARDEN_TRANSPORT``, on by default):

- **WebSocket messages are capped as a whole.** python-engineio caps a message at
  ``SocketIO(max_http_buffer_size=...)`` only once it has been read in full, and
  under eventlet its WebSocket (``eventlet.websocket``) checks each *frame* against
  it, so a message sent as endless continuation frames (``fin=0``) is read forever;
  eventlet also unmasks every byte in Python (about 0.5 µs a byte, on the one hub
  thread). Under eventlet, threading and gevent (without gevent-websocket), the
  extension serves WebSockets with `simple-websocket
  <https://github.com/miguelgrinberg/simple-websocket>`_ over `wsproto
  <https://github.com/python-hyper/wsproto>`_ (the WebSocket python-engineio itself
  uses in threading and gevent mode), with ``max_message_size`` set to
  ``max_http_buffer_size``: a message, all its fragments together, over it closes
  the connection with status 1009 (RFC 6455 section 7.4.1) as soon as the excess
  arrives. wsproto unmasks with ``bytes.translate``, in C.
- **Packets python-socketio cannot take close their connection.** A packet that
  does not decode (JSON beyond Python's limits: a 5,000-digit integer, 5,000 levels
  of nesting; a bad binary attachment header), an event packet that is not a
  non-empty array, or text where a binary attachment is due would otherwise make
  python-socketio log a traceback for each, and a bad attachment count left the
  connection a zombie that swallowed every later message. The Socket.IO reference
  server (JavaScript) closes a connection on a parse error too. One line a minute
  is logged, however many arrive.

Both act on the host's ``SocketIO`` server object only, for every namespace (a
malformed packet is malformed before anyone knows its namespace).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any, Callable

log = logging.getLogger("flask_videochat")

#: Most binary attachments a packet may announce (python-socketio itself allows up
#: to 10 digits' worth). The extension's own events have none.
MAX_ATTACHMENTS = 64

#: Most messages of one WebSocket read ahead of python-engineio; then the server
#: stops reading that connection until they are taken.
MAX_BUFFERED_MESSAGES = 16
#: Seconds between two looks at a full read-ahead buffer.
BACKPRESSURE_PAUSE = 0.005

#: Most WebSocket frames one connection may send in a second (pings, pongs and
#: empty continuation frames included); more closes it (status 1008). A widget
#: sends a few dozen messages a second at most, each one frame.
MAX_FRAMES_PER_SECOND = 1_000

#: Seconds an Engine.IO session has to connect a Socket.IO namespace before it is
#: closed (the Socket.IO reference server's ``connectTimeout`` is 45 s; python-socketio
#: has none): a session nobody signs in to holds a connection for nothing.
CONNECT_TIMEOUT = 10.0

#: Socket.IO packet types a client may send (CONNECT, DISCONNECT, EVENT, ACK,
#: BINARY_EVENT, BINARY_ACK; not CONNECT_ERROR, which only a server sends).
CLIENT_PACKET_TYPES = frozenset((0, 1, 2, 3, 5, 6))

#: Async modes whose WebSocket the extension replaces (python-engineio's drivers).
WEBSOCKET_MODES = ("eventlet", "threading", "gevent")

_HARDENED = "_videochat_hardened"


class OncePerMinuteLog:
    """Log a warning at most once a minute; the next line says how many were left
    out meanwhile. For what a client can make happen at will.

    :param logger: where to log.
    :param clock: seconds, monotonic.
    """

    def __init__(self, logger: logging.Logger, clock: Callable[[], float] = time.monotonic) -> None:
        self._logger = logger
        self._clock = clock
        self._last = -float("inf")
        self._left_out = 0
        self._lock = threading.Lock()

    def warning(self, message: str, *args: Any) -> None:
        """Log ``message % args`` unless a line went out less than a minute ago."""
        with self._lock:
            now = self._clock()
            if now - self._last < 60:
                self._left_out += 1
                return
            left_out, self._left_out, self._last = self._left_out, 0, now
        if left_out:
            message += " (and %d more like it in the last minute)"
            args = (*args, left_out)
        self._logger.warning(message, *args)


class MalformedPacket(ValueError):  # noqa: N818 (a packet, as python-socketio's errors)
    """A Socket.IO packet the server cannot take: its connection is closed."""


_malformed_log = OncePerMinuteLog(log)


def harden(socketio: Any) -> bool:
    """Harden ``socketio``'s server (a :class:`flask_socketio.SocketIO` whose server
    exists): see the module's docstring. Does it once per server.

    :returns: whether the server is hardened now (``False`` before
        ``SocketIO.init_app`` made it; call again later).
    """
    server = getattr(socketio, "server", None)
    if server is None:
        return False
    eio = server.eio
    if getattr(server, _HARDENED, False):
        return True
    setattr(server, _HARDENED, True)
    text = bool(getattr(server.packet_class, "uses_binary_events", True))
    server.packet_class = _guarded_packet_class(server.packet_class)
    eio.on("message", _guarded_messages(server, text=text))
    eio.on("connect", _connect_deadline(server))
    _quiet_handler_errors(eio.logger)
    websocket = _capped_websocket_class(eio)
    if websocket is not None:
        # A copy: the driver's table is shared by every server of that async mode.
        eio._async = {**eio._async, "websocket": websocket}
    else:
        log.info(
            "videochat: not replacing the WebSocket of async mode %r: cap its messages "
            "in the server in front (docs/deployment.md)", eio.async_mode
        )
    return True


# -- packets ----------------------------------------------------------------------------


def _guarded_packet_class(base: type) -> type:
    """``base`` (python-socketio's packet class, or the host's) refusing what the
    server cannot take with :class:`MalformedPacket`."""
    from socketio import packet

    events = (packet.EVENT, packet.BINARY_EVENT)

    class GuardedPacket(base):  # type: ignore[misc,valid-type]
        def decode(self, encoded_packet: Any) -> int:
            try:
                attachments = int(super().decode(encoded_packet) or 0)
            except Exception as exc:  # ValueError, RecursionError, TypeError...
                raise MalformedPacket(f"undecodable packet ({type(exc).__name__})") from None
            if self.packet_type not in CLIENT_PACKET_TYPES:
                raise MalformedPacket(f"a packet of type {self.packet_type!r}")
            if attachments > MAX_ATTACHMENTS:
                raise MalformedPacket(f"{attachments} binary attachments announced")
            if self.packet_type in events and not (isinstance(self.data, list) and self.data):
                raise MalformedPacket("an event that is not a non-empty array")
            return attachments

        @classmethod
        def data_is_binary(cls, data: Any) -> bool:
            # python-socketio's walks every value with functools.reduce, a list per
            # level, for every packet it makes (each acknowledgement): the same
            # answer, in a loop that stops at the first binary value.
            stack = [data]
            while stack:
                value = stack.pop()
                if isinstance(value, (bytes, bytearray)):
                    return True
                if isinstance(value, list):
                    stack.extend(value)
                elif isinstance(value, dict):
                    stack.extend(value.values())
            return False

        def add_attachment(self, attachment: Any) -> bool:
            if not isinstance(attachment, (bytes, bytearray)):
                raise MalformedPacket("text where a binary attachment was due")
            try:
                return bool(super().add_attachment(attachment))
            except Exception as exc:
                raise MalformedPacket(f"bad binary attachment ({type(exc).__name__})") from None

    GuardedPacket.__name__ = GuardedPacket.__qualname__ = f"Guarded{base.__name__}"
    return GuardedPacket


def _guarded_messages(server: Any, *, text: bool) -> Callable[[str, Any], Any]:
    """python-socketio's Engine.IO message handler, closing the connection of a
    packet it cannot take instead of logging a traceback (or waiting forever for
    attachments that never come), and dropping before any decoding an event for a
    namespace the connection is not in (python-socketio decodes it, then drops it).

    :param text: the server's packets are text (the default serializer): binary
        data is only ever an attachment (not so with msgpack, say).
    """
    handle = server._handle_eio_message
    manager = server.manager

    def on_message(eio_sid: str, data: Any) -> Any:
        try:
            if eio_sid not in server._binary_packet:
                if text and not isinstance(data, str):
                    raise MalformedPacket("binary data where no attachment was due")
                if not data:
                    raise MalformedPacket("an empty packet")
                if text and data[0] in "25":  # EVENT, BINARY_EVENT
                    namespace = _namespace_of(data)
                    if namespace is not None and manager.sid_from_eio_sid(
                        eio_sid, namespace
                    ) is None:
                        if data[0] == "5":
                            raise MalformedPacket("a binary event for a namespace not joined")
                        return None
            return handle(eio_sid, data)
        except MalformedPacket as exc:
            server._binary_packet.pop(eio_sid, None)
            _malformed_log.warning(
                "videochat: closed a Socket.IO connection that sent a packet it cannot "
                "take: %s", exc
            )
            try:
                server.eio.disconnect(eio_sid)
            except Exception:  # already closing
                log.debug("videochat: closing %s failed", eio_sid, exc_info=True)
            return None

    return on_message


def _namespace_of(data: str) -> str | None:
    """The namespace of an encoded event packet (``2/videochat,1[...]``: ``/`` when it
    names none), read without decoding it; ``None`` when it cannot be read so (then
    python-socketio decides)."""
    at = 1
    dash = data.find("-", 1, 13)
    if data[0] == "5" and dash > 1 and data[1:dash].isdigit():
        at = dash + 1
    if not data.startswith("/", at):
        return "/"
    comma = data.find(",", at, at + 200)
    if comma == -1:
        return None
    namespace = data[at:comma]
    query = namespace.find("?")
    return namespace if query == -1 else namespace[:query]


def _connect_deadline(server: Any) -> Callable[..., Any]:
    """python-socketio's Engine.IO connect handler, closing a session that has
    connected no namespace :data:`CONNECT_TIMEOUT` seconds later."""
    handle = server._handle_eio_connect
    eio = server.eio

    def on_connect(eio_sid: str, environ: Any, *args: Any) -> Any:
        result = handle(eio_sid, environ, *args)

        def check() -> None:
            eio.sleep(CONNECT_TIMEOUT)
            if eio_sid not in eio.sockets:
                return
            manager = server.manager
            if any(manager.sid_from_eio_sid(eio_sid, n) for n in list(manager.get_namespaces())):
                return
            try:
                eio.disconnect(eio_sid)
            except Exception:
                log.debug("videochat: closing %s failed", eio_sid, exc_info=True)

        eio.start_background_task(check)
        return result

    return on_connect


class _HandlerErrors(logging.Filter):
    """On python-engineio's logger: its "... handler error" records (a traceback
    each, for what a client can trigger at will: a long-polling POST of more than
    16 packets, a body that is not UTF-8) become one line a minute."""

    def __init__(self) -> None:
        super().__init__()
        self._log = OncePerMinuteLog(log)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "handler error" not in message:
            return True
        error = record.exc_info[1] if record.exc_info else None
        self._log.warning(
            "videochat: python-engineio refused a request: %s (%s)",
            message, type(error).__name__ if error else "no details",
        )
        return False


def _quiet_handler_errors(logger: logging.Logger) -> None:
    if not any(isinstance(f, _HandlerErrors) for f in logger.filters):
        logger.addFilter(_HandlerErrors())


# -- WebSocket ----------------------------------------------------------------------------


class _SendAll:
    """A socket whose ``send`` sends everything (simple-websocket calls ``send``,
    which may send part of a large frame on a socket with a timeout)."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock

    def send(self, data: bytes) -> int:
        self._sock.sendall(data)
        return len(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _capped_websocket_class(eio: Any) -> type | None:
    """The WebSocket class python-engineio uses for ``eio``, as simple-websocket with
    messages capped at ``max_http_buffer_size``; ``None`` for an async mode it does
    not serve (gevent with gevent-websocket, gevent_uwsgi, asyncio)."""
    mode = eio.async_mode
    if mode not in WEBSOCKET_MODES or eio._async.get("websocket") is None:
        return None
    try:
        import simple_websocket
        from wsproto.frame_protocol import CloseReason
    except ImportError:
        return None
    if mode == "gevent":
        try:
            import geventwebsocket  # noqa: F401  (python-engineio prefers it when installed)
        except ImportError:
            pass
        else:
            return None

    sleep = eio._async["sleep"]

    class FairServer(simple_websocket.Server):  # type: ignore[misc]
        """simple-websocket's server side, reading no further ahead of python-engineio
        than :data:`MAX_BUFFERED_MESSAGES` messages: a client that sends faster than
        its messages are handled fills its own TCP window, not the server's memory
        and the event loop (eventlet and gevent switch green threads only when one
        waits, and reading what has already arrived never waits)."""

        frames = 0
        window = 0.0

        def _handle_events(self) -> bool:
            events = self.ws.events
            counted = 0

            def counting() -> Any:
                nonlocal counted
                for event in events():
                    counted += 1
                    yield event

            self.ws.events = counting  # the frames of this read, as they are handled
            try:
                keep_going = bool(super()._handle_events())
            finally:
                del self.ws.events
            now = time.monotonic()
            if now - self.window >= 1.0:
                self.window, self.frames = now, 0
            self.frames += counted
            if keep_going and self.frames > MAX_FRAMES_PER_SECOND:
                _malformed_log.warning(
                    "videochat: closed a WebSocket sending more than %d frames a second",
                    MAX_FRAMES_PER_SECOND,
                )
                self.close(reason=CloseReason.POLICY_VIOLATION, message="Too many frames")
                self.event.set()
                return False
            while keep_going and self.connected and len(self.input_buffer) >= MAX_BUFFERED_MESSAGES:
                sleep(BACKPRESSURE_PAUSE)
            # Whatever this read held (control frames, empty fragments), the others
            # get their turn before the next one.
            sleep(0)
            return keep_going

    thread = eio._async["thread"]
    if not hasattr(thread, "name"):
        # simple-websocket names its reader thread; eventlet's green one has no name.
        thread = type("WebSocketThread", (thread,), {"name": "videochat-websocket"})
    event = eio._async["event"]

    class CappedWebSocket:
        """python-engineio's WebSocket interface (``wait``, ``send``, ``close``) on
        simple-websocket, a message capped at ``max_http_buffer_size``."""

        def __init__(self, handler: Callable[[Any], Any], server: Any) -> None:
            self.app = handler
            self.server = server
            self.ws: Any = None
            #: python-engineio sets the socket's timeout to its ping interval + timeout.
            self._sock: Any = None

        def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
            # No permessage-deflate: a 110-byte compressed message inflates to 64 KB
            # that python-socketio then decodes (CPU and memory multiplied by the
            # compression ratio, per connection). Signaling messages are small.
            environ = {k: v for k, v in environ.items() if k != "HTTP_SEC_WEBSOCKET_EXTENSIONS"}
            ws = FairServer(
                environ,
                max_message_size=int(self.server.max_http_buffer_size),
                thread_class=thread,
                event_class=event,
            )
            self.ws = ws
            self._sock = ws.sock
            ws.sock = _SendAll(ws.sock)
            try:
                result = self.app(self)
            except Exception as exc:  # an Engine.IO packet python-engineio cannot decode
                _malformed_log.warning(
                    "videochat: closed a WebSocket whose Engine.IO packet could not be "
                    "read: %s", type(exc).__name__
                )
                self.close()
                _close_engineio_session(self.app)
                result = []
            _finish(ws)
            if ws.mode == "gunicorn":
                raise StopIteration()
            if ws.mode == "werkzeug":
                raise ConnectionError()
            if ws.mode == "eventlet":
                import eventlet.wsgi

                # eventlet.wsgi must not write a response after the WebSocket.
                eventlet.wsgi.WSGI_LOCAL.already_handled = True
            return result

        def close(self) -> None:
            if self.ws is not None and self.ws.connected:
                try:
                    self.ws.close()
                except Exception:  # the peer went first
                    log.debug("videochat: closing a WebSocket failed", exc_info=True)
                # simple-websocket's close does not wake a receive() waiting for the
                # client: python-engineio's loop would wait for a client that may
                # never send again (and hold the connection). Wake it: it ends.
                self.ws.event.set()

        def send(self, message: Any) -> Any:
            try:
                return self.ws.send(message)
            except simple_websocket.ConnectionClosed:
                raise OSError() from None

        def wait(self) -> Any:
            # One message at a time: let the handler of the previous one (and every
            # other connection) run before taking the next.
            sleep(0)
            try:
                return self.ws.receive()
            except simple_websocket.ConnectionClosed:
                return None

    return CappedWebSocket


def _finish(ws: Any) -> None:
    """The Engine.IO session of ``ws`` is over: end its reader thread before the
    server closes the socket. A reader still blocked on a closed socket's file
    descriptor would wait on whatever connection gets that number next (eventlet's
    hub then fails, with "second simultaneous read", in the accept loop). Shutting
    the socket down still sends what was written (the close frame) before the FIN.
    Under gevent simple-websocket reads a duplicate of the server's socket: its
    reading side is shut down (which ends gevent's server's next read of the
    connection too, so that it closes it) and the duplicate closed."""
    try:
        if ws.mode == "gevent":
            # Reading ends on the shared connection (gevent's server then sees the
            # end and closes it); writing stays, for what the server still writes.
            ws.sock.shutdown(socket.SHUT_RD)
            ws.sock.close()
        else:
            ws.sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # the peer went first
        pass
    try:
        ws.thread.join()
    except Exception:
        log.debug("videochat: a WebSocket reader ended with an error", exc_info=True)


def _close_engineio_session(handler: Any) -> None:
    """Close the Engine.IO session whose WebSocket handler ``handler`` is (a bound
    method of python-engineio's socket), after it failed."""
    socket = getattr(handler, "__self__", None)
    close = getattr(socket, "close", None)
    if close is None:
        return
    try:
        close(wait=False, abort=True)
    except Exception:
        log.debug("videochat: closing an Engine.IO session failed", exc_info=True)
