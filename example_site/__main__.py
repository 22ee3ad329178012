"""``python -m example_site [--host H] [--port P] [--async-mode M]``: the demo site.

Runs on eventlet by default, as the project was asked to; ``--async-mode threading``
runs it on Flask-SocketIO's threading mode (Werkzeug with simple-websocket), which
the extension supports equally.

``VIDEOCHAT_*`` environment variables configure the extension (JSON values or plain
strings): with ``VIDEOCHAT_STORE_URL=redis://127.0.0.1:6379/0`` (and one
``SECRET_KEY`` for all of them) several processes on several ports form one site.
Under eventlet the server takes up to ``--max-connections`` (10,000) at once instead
of eventlet's default 1,024, and raises its open-files limit to match.
"""

import argparse
import sys
import warnings


def main(argv: "list[str] | None" = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m example_site", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=5000, help="port to listen on (5000)")
    parser.add_argument("--async-mode", choices=("eventlet", "threading"), default="eventlet",
                        help="Flask-SocketIO async mode (eventlet)")
    parser.add_argument("--max-connections", type=int, default=10_000,
                        help="most concurrent connections under eventlet (10000)")
    args = parser.parse_args(argv)
    if args.async_mode == "eventlet":
        # eventlet's maintainers deprecate it for new projects; the demo uses it as
        # asked (the extension does not depend on it). Do not alarm demo users.
        warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
        import eventlet

        eventlet.monkey_patch()  # before Flask and the app are imported

    from example_site.app import create_app

    try:
        app = create_app(async_mode=args.async_mode)
    except RuntimeError as exc:  # configuration that cannot work: say why, and stop
        print(f"example_site: cannot start: {exc}", file=sys.stderr, flush=True)
        return 2
    print(f"example_site: running on http://{args.host}:{args.port}/ "
          f"({args.async_mode}; Ctrl+C to stop)", flush=True)
    if args.async_mode == "threading":
        app.extensions["socketio"].run(app, host=args.host, port=args.port, log_output=False,
                                       allow_unsafe_werkzeug=True)
        return 0
    raise_open_files_limit(args.max_connections + 100)
    serve_eventlet(app, args.host, args.port, max_connections=args.max_connections)
    return 0


def serve_eventlet(app, host: str, port: int, *, max_connections: int) -> None:
    """What ``socketio.run`` does under eventlet, plus two settings it cannot pass:
    ``max_size`` (eventlet.wsgi serves at most 1,024 connections by default) and
    TCP_NODELAY on the listening socket, which accepted connections inherit.
    Without it Nagle's algorithm holds a small WebSocket frame sent right after
    another (an ack, then the signal it relays) until the browser's delayed ACK,
    about 40 ms (``docs/performance.md``)."""
    import socket

    import eventlet
    import eventlet.wsgi

    listener = eventlet.listen((host, port), backlog=1024)
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    eventlet.wsgi.server(listener, app, log_output=False, max_size=max_connections)


def raise_open_files_limit(wanted: int) -> None:
    """Raise this process's soft limit of open files towards ``wanted`` (each
    connection is a socket), up to the hard limit."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


if __name__ == "__main__":
    sys.exit(main())
