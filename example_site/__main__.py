"""``python -m example_site [--host H] [--port P]``: the demo site on eventlet."""

import warnings

# eventlet's maintainers deprecate it for new projects; this demo uses it as asked
# (the extension itself does not depend on it). Do not alarm demo users.
warnings.filterwarnings("ignore", message="Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import sys  # noqa: E402

from example_site.app import create_app  # noqa: E402


def main(argv: "list[str] | None" = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m example_site", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=5000, help="port to listen on (5000)")
    args = parser.parse_args(argv)
    app = create_app(async_mode="eventlet")
    print(f"example_site: running on http://{args.host}:{args.port}/ (Ctrl+C to stop)",
          flush=True)
    app.extensions["socketio"].run(app, host=args.host, port=args.port, log_output=False)


if __name__ == "__main__":
    sys.exit(main())
