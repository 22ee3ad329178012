"""Call set-up time: from the callee's Accept click until both remote videos show
decoded frames.

Starts the example site (eventlet) on a free loopback port, two headless Chromium
processes with fake devices (one per person), and places ``--calls`` calls between
them, hanging up in between. Each browser records, in the page, the wall-clock time
(``Date.now()``, one clock for both processes on one machine) of the Accept click
and of the first remote video frame presented (``requestVideoFrameCallback``).
Prints every run and the median, min, max and spread.

    python benchmarks/call_setup.py [--calls 10]

Run as root inside a loopback-only network namespace, as the tests do:
``ip netns add b; ip netns exec b ip link set lo up;``
``ip netns exec b python benchmarks/call_setup.py``
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from harness.browsers import click, marks, person, wait_preview
from harness.figures import summary
from playwright.sync_api import sync_playwright

from flask_videochat.testing import BLUE, RED, LiveServer, example_site_command

WATCH_FIRST_FRAME = """el => {
  window.__firstFrame = null;
  const look = () => {
    const v = el.shadowRoot.querySelector('[data-testid="videochat-remote-video"]');
    if (v) { v.requestVideoFrameCallback(() => { window.__firstFrame = Date.now(); }); return; }
    setTimeout(look, 1);
  };
  look();
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=10, help="calls to measure (10)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    results: list[float] = []
    # One tab places every call: lift the per-connection invite limit (10/minute).
    env = {"VIDEOCHAT_RATE_LIMITS": '{"call.invite": null}'}
    with LiveServer(example_site_command(), env=env) as server, sync_playwright() as pw:
        people = [person(pw, server.url, name, colour, tmp, timeout=20)
                  for name, colour in (("Caller", RED), ("Callee", BLUE))]
        caller, callee = people
        callee_id = caller.user_id_of("Callee")
        for i in range(args.calls):
            caller.expect_idle()
            callee.expect_idle()
            for p in people:
                p.element.evaluate(WATCH_FIRST_FRAME)
            caller.call(callee_id)
            callee.expect_ringing("Caller")
            # Let the ringing tab finish acquiring its camera, as a person takes
            # a moment to click: set-up is measured from the click.
            wait_preview(callee, timeout=20)
            clicked = click(callee, "videochat-accept")
            frames = marks(people, "__firstFrame", timeout=20)
            took = max(frames) - clicked
            results.append(took)
            print(f"call {i + 1:2d}: {took:6.0f} ms  (caller {frames[0] - clicked:.0f} ms, "
                  f"callee {frames[1] - clicked:.0f} ms)", flush=True)
            caller.hang_up()
    print()
    summary("call set-up: Accept click -> both remote videos show a frame", results)


if __name__ == "__main__":
    main()
