"""What a refused event costs the server, in-process: CPU microseconds per event from
python-socketio's packet decoding to the acknowledgement handed to Engine.IO (the
path every WebSocket message takes once Engine.IO has framed it), for an event over
its rate limit, next to an accepted ``ping`` (which runs its handler in a Flask
request context) measured in the same run.

    python benchmarks/refusal_cost.py [--events 10000] [--runs 5]

A host app as in the tests (Flask-Login, ``SocketIO(async_mode="threading")``,
VideoChat with its defaults) and one signed-in connection from Flask-SocketIO's test
client, whose server runs handlers inline, its acknowledgements encoded and handed to
a stand-in for Engine.IO's send queue: what is timed is the server's own work.
The connection-closing rule (``MAX_REFUSALS``) is lifted so that the flood goes on.
Printed: median (min-max) over the runs; the target is a refusal under 20 µs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask
from flask_login import LoginManager, UserMixin, login_user
from flask_socketio import Namespace, SocketIO
from harness.figures import median_range

import flask_videochat.events.base as namespace_base
from flask_videochat import NAMESPACE, VideoChat

#: A namespace whose every event is refused by a constant: python-socketio's own cost
#: of an event (decoding, dispatch, encoding the acknowledgement), the floor under
#: any refusal.
FLOOR = "/floor"
FLOOR_ACK = {"ok": False, "error": {"code": "ERR_RATE_LIMITED", "message": "Too many requests.",
                                    "retry_after": 1.0}}


class Floor(Namespace):
    def trigger_event(self, event: str, *args: Any) -> Any:
        return None if event in ("connect", "disconnect") else FLOOR_ACK


class Member(UserMixin):
    def __init__(self, user_id: str) -> None:
        self.id = user_id
        self.name = user_id.title()


def connected(config: dict[str, Any]) -> tuple[SocketIO, str]:
    """A host app and one signed-in connection: its server and Engine.IO session id."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="bench", TESTING=True, VIDEOCHAT_ICE_SERVERS=[], **config)
    manager = LoginManager(app)
    manager.user_loader(Member)

    @app.post("/login")
    def login() -> str:
        login_user(Member("ada"))
        return "ok"

    socketio = SocketIO(app, async_mode="threading")
    VideoChat(app, socketio)
    socketio.on_namespace(Floor(FLOOR))
    browser = app.test_client()
    browser.post("/login")
    client = socketio.test_client(app, namespace=NAMESPACE, flask_test_client=browser)
    client.connect(namespace=FLOOR)
    assert client.is_connected(NAMESPACE)
    client.get_received(NAMESPACE)
    # What a real server does with an acknowledgement: encode it and hand it to
    # Engine.IO (here a list: no socket), not the test client's decoding of it.
    server = socketio.server
    server._send_packet = type(server)._send_packet.__get__(server)
    sent: list[Any] = []
    server.eio.send = lambda sid, data: sent.append(data) if len(sent) < 1 else None
    return socketio, client.eio_sid


def per_event(socketio: SocketIO, eio_sid: str, packet: Callable[[int], str], n: int) -> float:
    """CPU µs per event for ``n`` packets handed to python-socketio."""
    handle = socketio.server._handle_eio_message
    packets = [packet(i) for i in range(n)]
    started = time.process_time()
    for data in packets:
        handle(eio_sid, data)
    return (time.process_time() - started) / n * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    namespace_base.MAX_REFUSALS = 10**9

    cases: dict[str, tuple[dict[str, Any], Callable[[int], str]]] = {
        "floor: python-socketio refusing by a constant": (
            {},
            lambda i: f'2{FLOOR},{i + 1}["ping",{{"seq":{i + 2}}}]',
        ),
        "refused ping (over its limit)": (
            {"VIDEOCHAT_RATE_LIMITS": {"ping": "1/hour"}},
            lambda i: f'2{NAMESPACE},{i + 1}["ping",{{"seq":{i + 2}}}]',
        ),
        "refused unknown event": (
            {"VIDEOCHAT_RATE_LIMITS": {"default": "1/hour"}},
            lambda i: f'2{NAMESPACE},{i + 1}["nope",{{}}]',
        ),
        "refused signal with a 40,000-character SDP": (
            {"VIDEOCHAT_RATE_LIMITS": {"signal": "1/hour"}},
            lambda i: f'2{NAMESPACE},{i + 1}["signal",{{"call_id":"c","description":'
            f'{{"type":"offer","sdp":"{"v" * 40_000}"}}}}]',
        ),
        "accepted ping (handler in a request context)": (
            {"VIDEOCHAT_RATE_LIMITS": None},
            lambda i: f'2{NAMESPACE},{i + 1}["ping",{{"seq":{i + 1}}}]',
        ),
    }
    results: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.runs):
        for name, (config, packet) in cases.items():
            socketio, eio_sid = connected(config)
            if name.startswith("refused ping"):
                per_event(socketio, eio_sid, lambda i: f'2{NAMESPACE},0["ping",{{"seq":1}}]', 1)
            events = args.events // 10 if "40,000" in name else args.events
            results[name].append(per_event(socketio, eio_sid, packet, events))

    print(f"# refusal_cost: {' '.join(sys.argv[1:]) or '(defaults)'}; {args.runs} runs")
    print("| event | CPU µs per event, median (min-max) |")
    print("|---|---|")
    for name, values in results.items():
        print(f"| {name} | {median_range(values)} |")
    accepted = statistics.median(results["accepted ping (handler in a request context)"])
    refused = statistics.median(results["refused ping (over its limit)"])
    floor = statistics.median(results["floor: python-socketio refusing by a constant"])
    print(f"\nrefused / accepted ping: {refused / accepted:.2f}; the extension's own part "
          f"of a refused ping: {refused - floor:.1f} µs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
