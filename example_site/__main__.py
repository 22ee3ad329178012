"""``python -m example_site [--host H] [--port P] [--async-mode M]``: the demo site.

Runs on eventlet by default, as the project was asked to; ``--async-mode threading``
runs it on Flask-SocketIO's threading mode (Werkzeug with simple-websocket), which
the extension supports equally.
"""

import argparse
import sys
import warnings


def main(argv: "list[str] | None" = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m example_site", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=5000, help="port to listen on (5000)")
    parser.add_argument("--async-mode", choices=("eventlet", "threading"), default="eventlet",
                        help="Flask-SocketIO async mode (eventlet)")
    args = parser.parse_args(argv)
    if args.async_mode == "eventlet":
        # eventlet's maintainers deprecate it for new projects; the demo uses it as
        # asked (the extension does not depend on it). Do not alarm demo users.
        warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
        import eventlet

        eventlet.monkey_patch()  # before Flask and the app are imported

    from example_site.app import create_app

    app = create_app(async_mode=args.async_mode)
    print(f"example_site: running on http://{args.host}:{args.port}/ "
          f"({args.async_mode}; Ctrl+C to stop)", flush=True)
    options = {"allow_unsafe_werkzeug": True} if args.async_mode == "threading" else {}
    app.extensions["socketio"].run(app, host=args.host, port=args.port, log_output=False,
                                   **options)


if __name__ == "__main__":
    sys.exit(main())
