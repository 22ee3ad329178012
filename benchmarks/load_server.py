"""The server under test of ``benchmarks/load.py``: a minimal host app (Flask,
Flask-SocketIO on eventlet, VideoChat) that signs people in from the Socket.IO
connect URL, so a load tool can bring thousands of users online without a form.

    python benchmarks/load_server.py --port P [--no-presence] [--store-url URL]
        [--config VIDEOCHAT_KEY=JSON ...] [--max-connections N] [--backlog N]

Who connects: the ``user`` query parameter of the connect URL is the user id, and
``name`` the display name (``User <id>`` when absent), e.g.
``http://127.0.0.1:P/?user=u000123&name=Ada`` with ``namespaces=["/videochat"]``.
In a Socket.IO connect handler Flask-SocketIO gives the request of the Engine.IO
connection (for the WebSocket transport, the upgrade request
``/socket.io/?user=...&EIO=4&transport=websocket``), so ``request.args`` has them.
A connection without ``user`` is refused, as a stranger's would be. For load tests
only: anyone can claim any id.

Serving: what ``socketio.run(app)`` does on eventlet (``eventlet.listen`` then
``eventlet.wsgi.server(sock, app, log_output=..., **kwargs)``), done here directly
so that the listen backlog can be set and ``ready`` printed once the socket
listens. Two limits are lifted for thousands of connections:

- ``eventlet.wsgi.server`` runs each connection in a ``GreenPool(max_size)``,
  ``max_size`` 1,024 by default (``DEFAULT_MAX_SIMULTANEOUS_REQUESTS``): connection
  1,025 would wait for a free green thread. ``--max-connections`` (65,536) is
  passed as ``max_size`` (``socketio.run(app, max_size=N)`` passes it the same
  way).
- ``eventlet.listen`` has a backlog of 50, which Flask-SocketIO's ``run`` keeps:
  1,000 clients connecting at once overflow it and the kernel drops their SYNs
  (retried after 1 s, 3 s...). ``--backlog`` (1,024; the kernel caps it at
  ``net.core.somaxconn``).
- ``RLIMIT_NOFILE`` is raised to its hard limit (one descriptor per connection).

And one setting differs from ``socketio.run``: the sockets have ``TCP_NODELAY``
(``--no-tcp-nodelay`` to leave it out). eventlet.wsgi leaves Nagle's algorithm on,
so a small write that follows another one not yet acknowledged waits for the peer's
delayed ACK (40 ms on Linux): an ack followed by a relayed signal on the same
connection, ``hello`` followed by the snapshot. gunicorn sets ``TCP_NODELAY`` on its
listening socket; accepted sockets inherit it on Linux.

Options given to a flask_videochat that does not have the config key yet
(``VIDEOCHAT_PRESENCE``, ``VIDEOCHAT_STORE_URL``) make it exit with status 3 and
say so, rather than measure something else.
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import sys
import warnings

#: Exit status when an option needs a config key this flask_videochat lacks.
UNSUPPORTED = 3

#: A generous descriptor limit when the hard limit is unlimited.
FALLBACK_NOFILE = 1 << 20


def raise_fd_limit() -> int:
    """Raise this process's ``RLIMIT_NOFILE`` soft limit to the hard limit.

    :returns: the soft limit now in force.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = FALLBACK_NOFILE if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def parse_config(items: list[str]) -> dict[str, object]:
    """``["VIDEOCHAT_KEY=JSON", ...]`` as a dict.

    :raises SystemExit: an item is not ``VIDEOCHAT_*=<JSON>``.
    """
    config: dict[str, object] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.startswith("VIDEOCHAT_"):
            raise SystemExit(f"--config wants VIDEOCHAT_KEY=JSON, got {item!r}")
        try:
            config[key] = json.loads(raw)
        except ValueError:
            raise SystemExit(f"--config {key}: not JSON: {raw!r}") from None
    return config


def start_tracemalloc() -> None:
    """Trace allocations from now on; on SIGUSR1 print where the memory is."""
    import signal
    import tracemalloc

    tracemalloc.start(8)

    def dump(*_: object) -> None:
        current, peak = tracemalloc.get_traced_memory()
        stats = tracemalloc.take_snapshot().statistics("traceback")
        print(
            f"tracemalloc: {current / 2**20:.1f} MiB traced (peak {peak / 2**20:.1f} MiB)",
            file=sys.stderr,
        )
        for stat in stats[:25]:
            frames = " <- ".join(
                f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno}" for f in stat.traceback[:4]
            )
            print(
                f"  {stat.size / 1024:10.0f} KiB {stat.count:8d} blocks  {frames}", file=sys.stderr
            )
        sys.stderr.flush()

    signal.signal(signal.SIGUSR1, dump)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="address (127.0.0.1)")
    parser.add_argument("--port", type=int, required=True, help="port to listen on")
    parser.add_argument(
        "--presence",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="VIDEOCHAT_PRESENCE (on)",
    )
    parser.add_argument(
        "--store-url",
        default=None,
        help="VIDEOCHAT_STORE_URL and SocketIO message_queue (none: memory)",
    )
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="KEY=JSON",
        help="any VIDEOCHAT_* setting, e.g. VIDEOCHAT_PRESENCE_WINDOW=0.25",
    )
    parser.add_argument(
        "--max-connections",
        type=int,
        default=65536,
        help="eventlet.wsgi.server max_size (65536; eventlet's default 1024)",
    )
    parser.add_argument(
        "--tcp-nodelay",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="TCP_NODELAY on the listening socket, inherited by every accepted one (on, "
        "as gunicorn does; --no-tcp-nodelay leaves Nagle's algorithm on, as "
        "socketio.run and eventlet.wsgi do)",
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="trace Python allocations; SIGUSR1 prints the 25 largest sites to stderr",
    )
    parser.add_argument("--backlog", type=int, default=1024, help="listen backlog (1024)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    nofile = raise_fd_limit()
    config = parse_config(args.config)

    # eventlet is deprecated upstream; the project serves with it as asked.
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    import eventlet

    eventlet.monkey_patch()  # before Flask, redis-py and the extension are imported
    import eventlet.wsgi
    from flask import Flask, request
    from flask_socketio import SocketIO

    from flask_videochat import VideoChat
    from flask_videochat.config import DEFAULTS

    for key, wanted, given in (
        ("VIDEOCHAT_PRESENCE", args.presence, not args.presence),
        ("VIDEOCHAT_STORE_URL", args.store_url, args.store_url is not None),
    ):
        if key in DEFAULTS:
            config[key] = wanted
        elif given:
            print(f"unsupported: this flask_videochat has no {key}", flush=True)
            return UNSUPPORTED

    # The tool's clients send far more than a person does (thousands of signals a
    # minute on one connection): rate limits are off unless --config sets them.
    if "VIDEOCHAT_RATE_LIMITS" in DEFAULTS:
        config.setdefault("VIDEOCHAT_RATE_LIMITS", None)

    app = Flask(__name__)
    app.config["SECRET_KEY"] = "load-test"
    app.config.update(config)
    socketio = SocketIO(app, async_mode="eventlet", message_queue=args.store_url)
    videochat = VideoChat(app, socketio)

    @videochat.identity_loader
    def from_connect_url() -> tuple[str, str] | None:
        user_id = request.args.get("user")
        if not user_id:
            return None
        return user_id, request.args.get("name") or f"User {user_id}"

    @app.get("/healthz")
    def healthz() -> str:
        return "ok"

    if args.tracemalloc:
        start_tracemalloc()
    sock = eventlet.listen((args.host, args.port), backlog=args.backlog)
    if args.tcp_nodelay:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    print(
        f"load_server: port {args.port}, nofile {nofile}, max_connections "
        f"{args.max_connections}, backlog {args.backlog}, presence "
        f"{config.get('VIDEOCHAT_PRESENCE', 'n/a')}, store {args.store_url or 'memory'}",
        file=sys.stderr,
        flush=True,
    )
    print("ready", flush=True)
    eventlet.wsgi.server(sock, app, log_output=False, max_size=args.max_connections)
    return 0


if __name__ == "__main__":
    sys.exit(main())
