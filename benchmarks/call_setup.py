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
import statistics
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from flask_videochat.testing import (
    BLUE,
    RED,
    LiveServer,
    VideoChatPage,
    example_site_command,
    launch_chromium,
    sign_in_with_form,
    write_solid_y4m,
)

WATCH_FIRST_FRAME = """el => {
  window.__firstFrame = null;
  const look = () => {
    const v = el.shadowRoot.querySelector('[data-testid="videochat-remote-video"]');
    if (v) { v.requestVideoFrameCallback(() => { window.__firstFrame = Date.now(); }); return; }
    setTimeout(look, 1);
  };
  look();
}"""

CLICK_ACCEPT = """el => {
  const b = el.shadowRoot.querySelector('[data-testid="videochat-accept"]');
  const t = Date.now();
  b.click();
  return t;
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
        people = []
        for name, colour in (("Caller", RED), ("Callee", BLUE)):
            browser = launch_chromium(pw, video_file=write_solid_y4m(tmp / f"{name}.y4m", colour))
            page = browser.new_context().new_page()
            sign_in_with_form(page, server.url, name)
            people.append(VideoChatPage(page, timeout=20))
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
            callee.page.wait_for_function(
                "el => el.shadowRoot.querySelector('[data-testid=\"videochat-local-video\"]')"
                "?.srcObject", arg=callee.element.element_handle(), timeout=20000)
            clicked = callee.element.evaluate(CLICK_ACCEPT)
            frames = []
            for p in people:
                p.page.wait_for_function("window.__firstFrame !== null", timeout=20000)
                frames.append(p.page.evaluate("window.__firstFrame"))
            took = max(frames) - clicked
            results.append(took)
            print(f"call {i + 1:2d}: {took:6.0f} ms  (caller {frames[0] - clicked:.0f} ms, "
                  f"callee {frames[1] - clicked:.0f} ms)", flush=True)
            caller.hang_up()
    print(f"\ncalls: {len(results)}")
    print(f"median: {statistics.median(results):.0f} ms")
    print(f"min: {min(results):.0f} ms  max: {max(results):.0f} ms  "
          f"stdev: {statistics.pstdev(results):.0f} ms")


if __name__ == "__main__":
    main()
