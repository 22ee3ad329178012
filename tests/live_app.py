"""A host app served for real, for the tests that need a server running handlers the
way a site does (``async_handlers=True``, Flask-SocketIO's default), which the
Flask-SocketIO test client cannot: it turns ``async_handlers`` off.

    python -m tests.live_app --port P --async-mode {threading,eventlet,gevent}
        [--store-url redis://...] [--slow-descriptions SECONDS] [--config KEY=JSON]
        [--max-http-buffer-size BYTES] [--connect-timeout SECONDS]

Who connects: the ``user`` query parameter of the connect URL (anyone may claim any
id: for tests only). ``--slow-descriptions`` injects a delay into the handler path
of every signal that carries an SDP description (``signal`` and ``room.signal``),
so that the candidates sent right after it reach the server while it is still being
handled: without ordering, they would be relayed first.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--async-mode", choices=("threading", "eventlet", "gevent"), default="threading"
    )
    parser.add_argument("--store-url", default=None)
    parser.add_argument("--slow-descriptions", type=float, default=0.0, metavar="SECONDS")
    parser.add_argument("--config", action="append", default=[], metavar="KEY=JSON")
    parser.add_argument("--max-http-buffer-size", type=int, default=None, metavar="BYTES")
    parser.add_argument("--connect-timeout", type=float, default=None, metavar="SECONDS")
    args = parser.parse_args(argv)

    if args.async_mode == "eventlet":
        warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
        import eventlet

        eventlet.monkey_patch()
    elif args.async_mode == "gevent":
        from gevent import monkey

        monkey.patch_all()

    import time

    from flask import Flask, request
    from flask_socketio import SocketIO

    from flask_videochat import VideoChat
    from flask_videochat.core import protocol
    from flask_videochat.events import transport

    if args.connect_timeout is not None:
        transport.CONNECT_TIMEOUT = args.connect_timeout

    if args.slow_descriptions > 0:
        for model in (protocol.SignalPayload, protocol.RoomSignalPayload):
            relayed = model.relayed

            def slow(self, sender_id, _relayed=relayed):  # type: ignore[no-untyped-def]
                if self.description is not None:
                    time.sleep(args.slow_descriptions)  # green under eventlet and gevent
                return _relayed(self, sender_id)

            model.relayed = slow  # type: ignore[method-assign]

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="live-app-test",
        VIDEOCHAT_ICE_SERVERS=[],
        VIDEOCHAT_PRESENCE_WINDOW=0,
        VIDEOCHAT_RECONNECT_GRACE=0,
        VIDEOCHAT_STORE_URL=args.store_url,
    )
    for item in args.config:
        key, _, raw = item.partition("=")
        app.config[key] = json.loads(raw)
    options = {}
    if args.max_http_buffer_size is not None:
        options["max_http_buffer_size"] = args.max_http_buffer_size
    socketio = SocketIO(
        app, async_mode=args.async_mode, message_queue=args.store_url, **options
    )
    videochat = VideoChat(app, socketio)

    @videochat.identity_loader
    def from_connect_url() -> tuple[str, str] | None:
        user = request.args.get("user")
        return (user, user.title()) if user else None

    @app.get("/healthz")
    def healthz() -> str:
        return "ok"

    print(f"live_app: {args.async_mode} on port {args.port}", flush=True)
    socketio.run(
        app, host="127.0.0.1", port=args.port, log_output=False, allow_unsafe_werkzeug=True
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
