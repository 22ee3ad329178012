"""``python -m example_site [--host H] [--port P] [--async-mode M] [...]``: the demo site.

Runs on eventlet by default, as the project was asked to; ``--async-mode threading``
runs it on Flask-SocketIO's threading mode (Werkzeug with simple-websocket), which
the extension supports equally.

``VIDEOCHAT_*`` environment variables configure the extension (JSON values or plain
strings): with ``VIDEOCHAT_STORE_URL=redis://127.0.0.1:6379/0`` (and one
``SECRET_KEY`` for all of them) several processes on several ports form one site.

Idle and slow connections are closed, on both servers (:mod:`example_site.serving`):

- ``--header-timeout`` (10 s): a new connection must have sent its whole request
  head (request line and headers) within this time, however it trickles in;
- ``--body-timeout`` (10 s): a request's body must have arrived within this time of
  the request reaching the app;
- ``--keepalive-timeout`` (10 s): a kept-alive connection must bring its next
  request within this time of the previous one leaving the app (its response's
  sending included).

Time a request spends in the app is not limited: a WebSocket stays open as long as
it answers Engine.IO's pings, and a long-polling request waits up to the ping
interval (25 s). Under eventlet the server takes up to ``--max-connections``
(10,000) at once instead of eventlet's default 1,024, and raises its open-files
limit to match; at the cap, a new connection evicts the connection that has waited
longest without a request in the app, so idle and slow sockets cannot lock people
out. Under threading (one thread per connection) there is no cap.
"""

from __future__ import annotations

import argparse
import sys
import warnings


def seconds(text: str) -> float:
    """An argparse type: a number of seconds > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0 seconds: {text!r}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m example_site", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=5000, help="port to listen on (5000)")
    parser.add_argument("--async-mode", choices=("eventlet", "threading"), default="eventlet",
                        help="Flask-SocketIO async mode (eventlet)")
    parser.add_argument("--max-connections", type=int, default=10_000,
                        help="most concurrent connections under eventlet (10000)")
    parser.add_argument("--header-timeout", type=seconds, default=10.0, metavar="SECONDS",
                        help="seconds a new connection has to send its request head (10)")
    parser.add_argument("--body-timeout", type=seconds, default=10.0, metavar="SECONDS",
                        help="seconds a request has to send its body (10)")
    parser.add_argument("--keepalive-timeout", type=seconds, default=10.0, metavar="SECONDS",
                        help="seconds a kept-alive connection may wait for its next "
                             "request (10)")
    args = parser.parse_args(argv)
    if args.max_connections < 1:
        parser.error("--max-connections must be at least 1")
    if args.async_mode == "eventlet":
        # eventlet's maintainers deprecate it for new projects; the demo uses it as
        # asked (the extension does not depend on it). Do not alarm demo users.
        warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
        import eventlet

        eventlet.monkey_patch()  # before Flask and the app are imported

    from example_site.app import create_app
    from example_site.serving import Timeouts, serve_eventlet, serve_threading

    timeouts = Timeouts(header=args.header_timeout, body=args.body_timeout,
                        keepalive=args.keepalive_timeout)
    try:
        app = create_app(async_mode=args.async_mode)
    except RuntimeError as exc:  # configuration that cannot work: say why, and stop
        print(f"example_site: cannot start: {exc}", file=sys.stderr, flush=True)
        return 2
    print(f"example_site: running on http://{args.host}:{args.port}/ "
          f"({args.async_mode}; Ctrl+C to stop)", flush=True)
    if args.async_mode == "threading":
        serve_threading(app, args.host, args.port, timeouts=timeouts)
        return 0
    raise_open_files_limit(args.max_connections + 100)
    serve_eventlet(app, args.host, args.port, max_connections=args.max_connections,
                   timeouts=timeouts)
    return 0


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
