"""Rooms: join time of a third person, and the CPU each browser spends in a room of four.

1. Join time. Two people (headless Chromium each, fake solid-colour cameras) sit in
   a room; a third opens the room page, waits for the camera preview, and clicks
   "Join room". Measured: from that click until all three see all remote tiles with a
   presented frame (``requestVideoFrameCallback`` on each new tile: the joiner's two,
   and the joiner's tile at the two others), as wall-clock ``Date.now()`` (one clock:
   one machine). The third leaves and joins again, ``--runs`` times.
2. CPU. Four people in one room (a full mesh: each browser encodes its camera for
   three peers and decodes three). Each browser's process tree (browser, renderer,
   GPU and utility processes, from ``/proc``) is sampled: CPU seconds per wall second
   over ``--windows`` windows of ``--window`` seconds.

Prints every run and the median, min, max and spread.

    python benchmarks/room_join.py [--runs 7] [--windows 5] [--window 5]

Run as root inside a loopback-only network namespace, as the tests do:
``ip netns add b; ip netns exec b ip link set lo up;``
``ip netns exec b python benchmarks/room_join.py``
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from harness.browsers import click, person, wait_preview
from harness.figures import summary
from harness.processes import cpu_seconds, process_trees
from playwright.sync_api import sync_playwright

from flask_videochat.testing import (
    BLUE,
    GREEN,
    RED,
    LiveServer,
    VideoChatPage,
    example_site_command,
)

YELLOW = (230, 200, 40)
ROOM = "bench"

#: In a page: record when the tile of each user id in ``ids`` presents a frame.
WATCH_TILES = """(el, ids) => {
  window.__frames = {};
  const look = () => {
    for (const id of ids) {
      if (id in window.__frames || window.__frames[id] === 0) continue;
      const v = el.shadowRoot.querySelector(
        `[data-testid="videochat-tile"][data-user-id="${id}"] video`);
      if (v && !v.__watched) {
        v.__watched = true;
        v.requestVideoFrameCallback(() => { window.__frames[id] = Date.now(); });
      }
    }
    if (ids.some((id) => !(id in window.__frames))) setTimeout(look, 1);
  };
  look();
}"""


def member(pw, server: LiveServer, tmp: Path, name: str, colour) -> VideoChatPage:
    """``name`` signed in, on the room's page, with the camera preview showing."""
    p = person(pw, server.url, name, colour, tmp)
    p.page.goto(f"{server.url}/videochat/rooms/{ROOM}")
    wait_preview(p)
    return p


def user_id(p: VideoChatPage) -> str:
    return str(p.element.evaluate("el => el.currentUser.id"))


def chromium_trees() -> dict[int, list[int]]:
    """Each browser this process started (through Playwright's driver) with all its
    descendants (zygotes, renderers, GPU and utility processes). Crash handlers
    (chrome_crashpad) are daemonised away from their browser and idle; the roots
    that matter are the browser processes Playwright started."""
    return process_trees(lambda name: "chrom" in name.lower(),
                         skip_root=lambda name: "crashpad" in name, within=os.getpid())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="joins to measure (7)")
    parser.add_argument("--windows", type=int, default=5, help="CPU windows (5)")
    parser.add_argument("--window", type=float, default=5.0, help="seconds per CPU window (5)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    env = {"VIDEOCHAT_ICE_SERVERS": "[]", "VIDEOCHAT_ROOM_CAPACITY": "4",
           # The third person joins and leaves --runs times: lift the join limit.
           "VIDEOCHAT_RATE_LIMITS": '{"room.join": null}'}
    with LiveServer(example_site_command(), env=env) as server, sync_playwright() as pw:
        ada = member(pw, server, tmp, "Ada", RED)
        bob = member(pw, server, tmp, "Bob", BLUE)
        cy = member(pw, server, tmp, "Cy", GREEN)
        ids = {p: user_id(p) for p in (ada, bob, cy)}
        ada.join()
        bob.join()
        ada.expect_in_room([ids[bob]])
        bob.expect_remote_video_playing(ids[ada])

        joins = []
        for run in range(args.runs):
            ada.expect_in_room([ids[bob]])
            bob.expect_in_room([ids[ada]])
            wait_preview(cy)
            cy.element.evaluate(WATCH_TILES, [ids[ada], ids[bob]])
            for p in (ada, bob):
                p.element.evaluate(WATCH_TILES, [ids[cy]])
            clicked = click(cy, "videochat-join")
            seen = []
            for p, expected in ((cy, 2), (ada, 1), (bob, 1)):
                p.page.wait_for_function(f"Object.keys(window.__frames).length === {expected}",
                                         timeout=30000)
                seen.extend(p.page.evaluate("Object.values(window.__frames)"))
            took = max(seen) - clicked
            joins.append(took)
            print(f"join {run + 1:2d}: {took:5.0f} ms  (first tile {min(seen) - clicked:.0f} ms)",
                  flush=True)
            cy.leave()
            cy.expect_status("You left the room")

        dan = member(pw, server, tmp, "Dan", YELLOW)
        ids[dan] = user_id(dan)
        cy.join()
        dan.join()
        everyone = (ada, bob, cy, dan)
        for p in everyone:
            others = [ids[o] for o in everyone if o is not p]
            p.expect_in_room(others)
            for other in others:
                p.expect_remote_video_playing(other)
        time.sleep(2)  # let encoders settle at their steady bitrate
        trees = chromium_trees()
        assert len(trees) == len(everyone), f"expected one browser per person: {trees}"
        per_browser: dict[int, list[float]] = {root: [] for root in trees}
        for _ in range(args.windows):
            before = {root: cpu_seconds(pids) for root, pids in trees.items()}
            start = time.monotonic()
            time.sleep(args.window)
            elapsed = time.monotonic() - start
            for root, pids in trees.items():
                per_browser[root].append((cpu_seconds(pids) - before[root]) / elapsed)

    print()
    summary("third person's join until all tiles show frames", joins, "ms")
    print(f"\nCPU per browser in a 4-person room ({args.windows} windows of {args.window:.0f} s; "
          "1.0 = one core fully busy):")
    all_windows = []
    for i, (root, values) in enumerate(sorted(per_browser.items())):
        all_windows.extend(values)
        summary(f"  browser {i + 1} (pid {root})", values, "core-s/s", ".2f")
    summary("  all browsers", all_windows, "core-s/s", ".2f")


if __name__ == "__main__":
    main()
