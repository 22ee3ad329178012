"""Recovery times: an ICE restart after a cut network path, and resuming a call
after the server restarts.

Two headless Chromium processes (fake solid-colour cameras) in a 1:1 call on the
example site (eventlet).

1. ICE restart, ``--runs`` times: every packet on loopback except the site's port
   is dropped (iptables, :class:`flask_videochat.testing.NetworkCut`) until both
   browsers have noticed and restarted ICE; then the path is restored. Measured:
   from the restore until both browsers decode new video frames (each page polls
   its own ``getStats()`` every 20 ms, timed with ``Date.now()``: one clock).
2. Server restart, ``--runs`` times: the server process is killed (SIGKILL), and
   started again on the same port after ``--down`` seconds. Measured: from the
   moment it answers its health route until both browsers have resumed the call
   (``videochat-resumed``: the server re-created it from both browsers'
   re-announcements). The media never stops meanwhile (peer to peer).

Prints every run and the median, min, max and spread.

    python benchmarks/recovery.py [--runs 5] [--down 1]

Run as root inside a loopback-only network namespace (the ICE part cuts the
network with iptables and refuses to run elsewhere):
``ip netns add b; ip netns exec b ip link set lo up;``
``ip netns exec b python benchmarks/recovery.py``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from harness.browsers import marks, person
from harness.figures import summary
from playwright.sync_api import sync_playwright

from flask_videochat.testing import (
    BLUE,
    RED,
    LiveServer,
    NetworkCut,
    VideoChatPage,
    answered_call,
    example_site_command,
)

#: In a page: from now on, record when frames from ``peerId`` grow past now's count.
WATCH_FRAMES = """async (el, peerId) => {
  const count = async () => (await el.getStats()).peers[peerId]?.video.framesDecoded ?? 0;
  const base = await count();
  window.__framesBack = null;
  const poll = async () => {
    if (await count() > base) { window.__framesBack = Date.now(); return; }
    setTimeout(poll, 20);
  };
  poll();
}"""

WATCH_RESUMED = """el => {
  window.__resumedAt = null;
  el.addEventListener("videochat-resumed", () => { window.__resumedAt ??= Date.now(); });
}"""


def wait_peer(page: VideoChatPage, peer_id: str, predicate, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        peer = page.stats()["peers"].get(peer_id)
        if peer is not None and predicate(peer):
            return
        page.page.wait_for_timeout(50)
    raise RuntimeError(f"timed out: {page.stats()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each kind (5)")
    parser.add_argument("--down", type=float, default=1.0,
                        help="seconds the server stays down (1)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    env = {"VIDEOCHAT_ICE_SERVERS": "[]", "SECRET_KEY": "benchmark-recovery-secret-key",
           "VIDEOCHAT_RECONNECT_GRACE": "30",
           # One pair of tabs calls --runs times: lift the per-connection invite limit.
           "VIDEOCHAT_RATE_LIMITS": '{"call.invite": null}'}
    server = LiveServer(example_site_command(), env=env).start()
    ice, resume = [], []
    try:
        with sync_playwright() as pw:
            ada, bob = (person(pw, server.url, name, colour, tmp)
                        for name, colour in (("Ada", RED), ("Bob", BLUE)))
            ada_id, bob_id = answered_call(ada, bob, caller_name="Ada", callee_name="Bob")
            pairs = ((ada, bob_id), (bob, ada_id))
            for page, peer in pairs:
                page.expect_remote_video_playing(peer)

            for run in range(args.runs):
                before = [p.stats()["peers"][peer]["restarts"] for p, peer in pairs]
                with NetworkCut(keep_port=server.port):
                    for (page, peer), restarts in zip(pairs, before):
                        wait_peer(page, peer, lambda s, b=restarts:
                                  s["connectionState"] != "connected" and s["restarts"] > b)
                    for page, peer in pairs:
                        page.element.evaluate(WATCH_FRAMES, peer)
                    restored = ada.page.evaluate("Date.now()")
                took = max(marks([ada, bob], "__framesBack")) - restored
                ice.append(took)
                print(f"ICE restart {run + 1}: frames again {took:.0f} ms after the restore",
                      flush=True)
                for page, peer in pairs:
                    wait_peer(page, peer, lambda s: s["connectionState"] == "connected")

            for run in range(args.runs):
                for page, _ in pairs:
                    page.element.evaluate(WATCH_RESUMED)
                server.kill()
                time.sleep(args.down)
                server.start()
                ready = ada.page.evaluate("Date.now()")
                took = max(marks([ada, bob], "__resumedAt")) - ready
                resume.append(took)
                print(f"server restart {run + 1}: both resumed {took:.0f} ms after it was up",
                      flush=True)
                for page, peer in pairs:
                    page.expect_remote_video_playing(peer)
    finally:
        server.stop()
    print()
    summary("ICE restart: path restored -> frames on both sides", ice)
    summary("server restart: server up -> both browsers resumed the call", resume)


if __name__ == "__main__":
    main()
