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
import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from flask_videochat.testing import (
    BLUE,
    GREEN,
    RED,
    LiveServer,
    VideoChatPage,
    example_site_command,
    launch_chromium,
    sign_in_with_form,
    write_solid_y4m,
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

CLICK_JOIN = """el => {
  const b = el.shadowRoot.querySelector('[data-testid="videochat-join"]');
  const t = Date.now();
  b.click();
  return t;
}"""

PREVIEW_READY = ("el => el.shadowRoot.querySelector('[data-testid=\"videochat-local-video\"]')"
                 "?.srcObject?.active")


def person(pw, server: LiveServer, tmp: Path, name: str, colour) -> VideoChatPage:
    browser = launch_chromium(pw, video_file=write_solid_y4m(tmp / f"{name}.y4m", colour))
    page = browser.new_context().new_page()
    sign_in_with_form(page, server.url, name)
    page.goto(f"{server.url}/videochat/rooms/{ROOM}")
    p = VideoChatPage(page, timeout=30)
    p.page.wait_for_function(PREVIEW_READY, arg=p.element.element_handle(), timeout=30000)
    return p


def user_id(p: VideoChatPage) -> str:
    return str(p.element.evaluate("el => el.currentUser.id"))


def chromium_trees() -> dict[int, list[int]]:
    """Each browser's root process (its parent is not Chromium) with all its
    descendants (zygotes, renderers, GPU and utility processes)."""
    parent: dict[int, int] = {}
    names: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1: stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        parent[int(entry)] = int(fields[1])
        names[int(entry)] = name
    chromium = {pid for pid, n in names.items() if "chrom" in n.lower()}
    # Crash handlers (chrome_crashpad) are daemonised away from their browser and
    # idle; the roots that matter are the browser processes Playwright started.
    roots = [pid for pid in chromium
             if parent.get(pid) not in chromium and "crashpad" not in names[pid]]
    children: dict[int, list[int]] = {}
    for pid, ppid in parent.items():
        children.setdefault(ppid, []).append(pid)
    trees = {}
    for root in roots:
        tree, todo = [], [root]
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo.extend(children.get(pid, []))
        trees[root] = tree
    return trees


def cpu_seconds(pids: list[int]) -> float:
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK")


def summary(label: str, values: list[float], unit: str, fmt: str = ".0f") -> None:
    print(f"{label}: median {statistics.median(values):{fmt}} {unit}, "
          f"min {min(values):{fmt}}, max {max(values):{fmt}}, "
          f"stdev {statistics.pstdev(values):{fmt}} (n={len(values)})")


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
        ada = person(pw, server, tmp, "Ada", RED)
        bob = person(pw, server, tmp, "Bob", BLUE)
        cy = person(pw, server, tmp, "Cy", GREEN)
        ids = {p: user_id(p) for p in (ada, bob, cy)}
        ada.join()
        bob.join()
        ada.expect_in_room([ids[bob]])
        bob.expect_remote_video_playing(ids[ada])

        joins = []
        for run in range(args.runs):
            ada.expect_in_room([ids[bob]])
            bob.expect_in_room([ids[ada]])
            cy.page.wait_for_function(PREVIEW_READY, arg=cy.element.element_handle(),
                                      timeout=30000)
            cy.element.evaluate(WATCH_TILES, [ids[ada], ids[bob]])
            for p in (ada, bob):
                p.element.evaluate(WATCH_TILES, [ids[cy]])
            clicked = cy.element.evaluate(CLICK_JOIN)
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

        dan = person(pw, server, tmp, "Dan", YELLOW)
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
