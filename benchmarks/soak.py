"""Soak: many calls and room visits in a row on the example site's defaults, and how
many of them connect.

For each async mode (``--modes``: eventlet and threading), starts the example site
on a free loopback port with its default configuration (rate limits on, in memory;
no ICE servers) and ``--people`` (10) headless Chromium browsers with solid-colour
fake cameras, signed in. Then:

``calls``
    ``--calls`` (300) consecutive 1:1 calls: the callee clicks Accept as soon as
    the ring shows, and the call counts as connected when both sides'
    peer connection is "connected" and decodes frames of the other's video. Set-up
    time: from the Accept click to both decoding. Hang-up alternates between the
    sides. People take turns (call ``n`` is person ``n`` calling person ``n + 1``),
    and nobody places more than 5 calls a minute (the soak waits when the next
    caller would), inside the default limit of ten a minute.
``rooms``
    ``--rooms`` (50) cycles of three people opening a room's page, joining, and
    each decoding the two others' video; then all leave. Time: from the last join
    click to every tile decoding.

Reports connected / attempted, the median and 95th percentile of the set-up times,
and every failure with its reason (the widget's error code and words, or what was
still missing when ``--timeout`` ran out). With ``--loss P`` a share ``P`` of UDP
packets is dropped in the namespace (``iptables -m statistic --mode random``), for
the run with loss.

    python benchmarks/soak.py                          # 300 calls, 50 rooms, both modes
    python benchmarks/soak.py --loss 0.2 --calls 100 --rooms 20
    python benchmarks/soak.py --modes eventlet --calls 30 --rooms 0

As root, it runs itself in a new loopback-only network namespace (as
``scripts/test`` does), so ICE uses 127.0.0.1 and the packet loss touches nothing
else. Without root it runs where it is, and ``--loss`` is refused.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Calls one person places in a minute at most. The default limit is 10 a minute,
#: counted by limits' sliding window counter, which weighs the previous minute as if
#: its calls were spread evenly: calls bunched at its end count up to twice, and 8
#: a minute at a steady pace were refused now and then. 5 stays clear of that.
CALLS_PER_MINUTE = 5

#: Each person's camera colour (red, blue, green, ...).
COLOURS = [(220, 40, 40), (40, 60, 220), (40, 180, 60), (220, 200, 40),
           (180, 40, 200), (40, 200, 200), (240, 140, 40), (120, 120, 120)]

#: In a page: wait until the peer connection to ``peerId`` is connected and
#: decodes video, or the widget shows an error, or ``timeoutMs`` passes.
WAIT_MEDIA_JS = """async ([peerId, timeoutMs]) => {
  const el = document.querySelector("video-chat");
  const error = () => el.shadowRoot.querySelector('[data-testid="videochat-error"]');
  const started = performance.now();
  let last = null;
  while (performance.now() - started < timeoutMs) {
    const stats = await el.getStats();
    last = stats.peers[peerId] ?? null;
    const up = last && last.connectionState === "connected";
    if (up && last.video.framesDecoded > 0) return {ok: true};
    const e = error();
    if (e && !e.hidden && e.dataset.code && e.dataset.code !== "ERR_RATE_LIMITED") {
      return {ok: false, reason: `${e.dataset.code}: ${e.textContent}`};
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const seen = last ? `${last.connectionState}, ${last.video.framesDecoded} frames`
                    : "no peer connection";
  return {ok: false, reason: `timeout: ${seen}`};
}"""

#: In a page: what the widget says (its status line, and its error with the code).
SAID_JS = """el => {
  const q = (id) => el.shadowRoot.querySelector(`[data-testid="${id}"]`);
  const error = q("videochat-error");
  const shown = error && !error.hidden ? ` / ${error.dataset.code}: ${error.textContent}` : "";
  return `${q("videochat-status")?.textContent ?? ""}${shown}`;
}"""

#: Before any page script: keep the widget's last events (name and detail) in
#: ``window.__vcEvents``, for saying what happened when a call fails.
RECORD_EVENTS_JS = """(() => {
  window.__vcEvents = [];
  const names = ["state", "error", "ended", "incoming", "presence", "connection"];
  document.addEventListener("DOMContentLoaded", () => {
    const el = document.querySelector("video-chat");
    for (const name of names) {
      el?.addEventListener(`videochat-${name}`, (e) => {
        const detail = name === "presence"
          ? e.detail.users.map((u) => `${u.name}:${u.status}`).join(",") : e.detail;
        const at = (performance.now() / 1000).toFixed(2);
        window.__vcEvents.push(`${at} ${name} ${JSON.stringify(detail)}`);
        if (window.__vcEvents.length > 30) window.__vcEvents.shift();
      });
    }
  });
})();"""

@dataclass
class Tally:
    attempted: int = 0
    times_ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def report(self) -> dict[str, Any]:
        times = sorted(self.times_ms)
        return {
            "connected": len(times),
            "attempted": self.attempted,
            "median_ms": round(statistics.median(times)) if times else None,
            "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))]) if times else None,
            "max_ms": round(times[-1]) if times else None,
            "failures": self.failures,
        }


def in_own_namespace(argv: list[str]) -> None:
    """Run this script again inside a new loopback-only network namespace (root)."""
    name = f"videochat-soak-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True)
        env = {**os.environ, "VIDEOCHAT_SOAK_NETNS": name}
        code = subprocess.run(["ip", "netns", "exec", name, sys.executable, *argv],
                              env=env).returncode
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=False)
    sys.exit(code)


def drop_udp(probability: float) -> None:
    subprocess.run(["iptables", "-w", "-I", "INPUT", "-p", "udp", "-m", "statistic",
                    "--mode", "random", "--probability", str(probability), "-j", "DROP"],
                   check=True)


def soak_mode(mode: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    from harness.browsers import click, person
    from playwright.sync_api import sync_playwright

    from flask_videochat.testing import LiveServer, VideoChatPage, example_site_command

    env = {"VIDEOCHAT_ICE_SERVERS": "[]", "SECRET_KEY": uuid.uuid4().hex}
    calls, rooms = Tally(), Tally()
    timeout_ms = args.timeout * 1000
    with LiveServer(example_site_command(async_mode=mode), env=env) as server, \
            sync_playwright() as pw:
        names = [f"Person {n + 1}" for n in range(args.people)]
        people: list[VideoChatPage] = [
            person(pw, server.url, name, COLOURS[n % len(COLOURS)], tmp,
                   init_script=RECORD_EVENTS_JS)
            for n, name in enumerate(names)
        ]
        ids = [people[1].user_id_of(names[0])] + [people[0].user_id_of(n) for n in names[1:]]

        placed: list[deque[float]] = [deque() for _ in people]
        for n in range(args.calls):
            a, b = n % len(people), (n + 1) % len(people)
            caller, callee = people[a], people[b]
            # Nobody rings more than CALLS_PER_MINUTE people a minute (the default
            # limit is 10): the soak measures connecting, not the limit.
            recent = placed[a]
            while recent and time.monotonic() - recent[0] > 60:
                recent.popleft()
            if len(recent) >= CALLS_PER_MINUTE:
                time.sleep(60 - (time.monotonic() - recent[0]) + 0.1)
                recent.popleft()
            recent.append(time.monotonic())
            calls.attempted += 1
            caller.call(ids[b])
            try:
                callee.expect_ringing()
            except AssertionError:
                said = caller.page.evaluate(SAID_JS, caller.element.element_handle())
                errors = [e for e in caller.page.evaluate("window.__vcEvents") if " error " in e]
                last = f"; last error: {errors[-1]}" if errors else ""
                calls.failures.append(f"call {n + 1}: never rang ({said}{last})")
                if args.verbose:
                    for who, page in (("caller", caller), ("callee", callee)):
                        events = page.page.evaluate("window.__vcEvents")
                        print(f"    {who} ({names[a if who == 'caller' else b]}):", flush=True)
                        for line in events[-12:]:
                            print(f"      {line}", flush=True)
                if caller.hangup_button.is_visible():
                    caller.hang_up()
                continue
            clicked = click(callee, "videochat-accept")
            results = [caller.page.evaluate(WAIT_MEDIA_JS, [ids[b], timeout_ms]),
                       callee.page.evaluate(WAIT_MEDIA_JS, [ids[a], timeout_ms])]
            took = time.time() * 1000 - clicked
            bad = [r["reason"] for r in results if not r["ok"]]
            if bad:
                calls.failures.append(f"call {n + 1}: {'; '.join(bad)}")
            else:
                calls.times_ms.append(took)
            (callee if n % 2 else caller).hang_up()
            for page in (caller, callee):
                page.expect_idle()
            if (n + 1) % 25 == 0:
                print(f"  {mode}: {n + 1} calls, {len(calls.failures)} failed", flush=True)

        for n in range(args.rooms):
            trio = [(3 * n + k) % len(people) for k in range(3)]
            room = f"soak-{uuid.uuid4().hex[:8]}"
            rooms.attempted += 1
            for k in trio:
                people[k].page.goto(f"{server.url}/videochat/rooms/{room}")
                people[k].join_button.wait_for()
                people[k].page.wait_for_function(
                    "el => !el.shadowRoot.querySelector('[data-testid=\"videochat-join\"]')"
                    ".disabled", arg=people[k].element.element_handle())
            last_click = 0.0
            for k in trio:
                last_click = click(people[k], "videochat-join")
            bad = []
            for k in trio:
                for other in trio:
                    if other != k:
                        r = people[k].page.evaluate(WAIT_MEDIA_JS, [ids[other], timeout_ms])
                        if not r["ok"]:
                            bad.append(f"{names[k]} -> {names[other]}: {r['reason']}")
            took = time.time() * 1000 - last_click
            if bad:
                rooms.failures.append(f"room {n + 1}: {'; '.join(bad)}")
            else:
                rooms.times_ms.append(took)
            for k in trio:
                people[k].leave()
            for k in trio:
                people[k].page.goto(server.url + "/")
            if (n + 1) % 10 == 0:
                print(f"  {mode}: {n + 1} rooms, {len(rooms.failures)} failed", flush=True)
    return {"calls": calls.report(), "rooms": rooms.report()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modes", nargs="+", default=["eventlet", "threading"],
                        choices=["eventlet", "threading"])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rooms", type=int, default=50)
    parser.add_argument("--people", type=int, default=10)
    parser.add_argument("--loss", type=float, default=0.0, metavar="P",
                        help="share of UDP packets dropped (0 to 1)")
    parser.add_argument("--timeout", type=float, default=20.0,
                        help="seconds a call or room may take to connect (20)")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--verbose", action="store_true",
                        help="print the widget's last events of both sides of a failed call")
    args = parser.parse_args()
    if args.people < 4:
        parser.error("--people must be at least 4 (rooms of three, turns to stay in limits)")
    if os.geteuid() == 0 and "VIDEOCHAT_SOAK_NETNS" not in os.environ and shutil.which("ip"):
        in_own_namespace(sys.argv)
    if args.loss:
        if "VIDEOCHAT_SOAK_NETNS" not in os.environ:
            parser.error("--loss needs root (a network namespace of its own)")
        drop_udp(args.loss)
    tmp = Path(tempfile.mkdtemp(prefix="videochat-soak-"))
    results: dict[str, Any] = {"loss": args.loss}
    for mode in args.modes:
        print(f"{mode}: {args.calls} calls, {args.rooms} rooms, UDP loss {args.loss:.0%}",
              flush=True)
        started = time.monotonic()
        results[mode] = soak_mode(mode, args, tmp)
        results[mode]["seconds"] = round(time.monotonic() - started)
    shutil.rmtree(tmp, ignore_errors=True)

    print(f"\nsoak: python benchmarks/soak.py --modes {' '.join(args.modes)} --calls {args.calls}"
          f" --rooms {args.rooms} --people {args.people} --loss {args.loss}"
          f" --timeout {args.timeout}")
    for mode in args.modes:
        for kind in ("calls", "rooms"):
            r = results[mode][kind]
            if not r["attempted"]:
                continue
            print(f"  {mode:9s} {kind:5s} connected {r['connected']}/{r['attempted']}  "
                  f"set-up median {r['median_ms']} ms, p95 {r['p95_ms']} ms, max {r['max_ms']} ms")
            for failure in r["failures"]:
                print(f"      {failure}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    ok = all(results[m][k]["connected"] == results[m][k]["attempted"]
             for m in args.modes for k in ("calls", "rooms"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
