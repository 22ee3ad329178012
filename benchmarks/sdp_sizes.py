"""SDP sizes of real calls: the input for ``MAX_SDP_LENGTH`` and
``VIDEOCHAT_MAX_MESSAGE_SIZE`` (issue 11, item 1).

Measures, in real Chromium, the length in characters of ``pc.localDescription.sdp``
for the largest descriptions the widget (and a plausible richer client) can
produce, each as an offer and as the answer of a second ``RTCPeerConnection`` in
the same page. Cases:

- ``recvonly``: a caller with nothing to send (``Peer.start(null)``: two recvonly
  transceivers), answered by a callee with its camera. A recvonly video m-section
  lists every codec Chromium can decode, more than a sendrecv one.
- ``call``: the widget's 1:1 call (and a room's, which is one such connection per
  member): ``getUserMedia`` with the widget's constraints, the microphone and
  camera added with ``addTrack`` (``Peer.start``); the answerer puts its own
  tracks on the offered transceivers (``Peer._addTracks``). The widget sets no
  data channel, no codec preferences, no ``sendEncodings``, no ``bundlePolicy``.
- ``call+screen``: the widget's screen share, which *replaces* the camera track
  (``Peer.setLocalTrack``: ``replaceTrack``, no new m-section).
- ``call+screen2``: a screen share on a transceiver of its own (a client showing
  camera and screen together): three m-sections. Not the widget.
- ``simulcast``: microphone, camera with three simulcast encodings
  (``sendEncodings`` q/h/f), a screen on a second video transceiver and a data
  channel: four m-sections. Not the widget.

Each case's descriptions are read at several moments:

- ``offer``/``answer``: right after ``setLocalDescription``, as the widget sends
  them (candidates trickle afterwards, one ``signal`` event each);
- ``offer+c``/``answer+c``: the same once ICE gathering completed, so that the SDP
  carries every candidate. With the default ``bundlePolicy: "balanced"`` the
  initial offer gathers on one transport per m-section, each m-section listing its
  own candidates;
- ``reoffer+c``/``reanswer+c``: a renegotiation after the first exchange (the
  widget makes one when, say, an audio-only peer turns its camera on). Chromium
  copies into it the candidates of the previous local description, those of the
  transports that BUNDLE dropped too;
- ``restart+c``/``rrestart+c``: an ICE restart offer and its answer once their new
  gathering completed.

The other side gets every description without its candidates, and no trickled
candidate: ICE never connects, so no gathering is cut short (Chromium stops
gathering once a pair works), as when the peer is out of reach.

Network: the browser runs in a network namespace made here (``ip netns``: root),
one per interface count, with that many Ethernet-like interfaces (veth pairs: the
kernel here has no ``dummy`` module) each carrying one IPv4 and ``--ipv6-per-
interface`` IPv6 addresses (each its own /64) of the longest text
(``192.168.1xx.2xx``, eight full IPv6 groups), so that every candidate is as long
as it can be. With TURN (the default; ``--no-turn`` to skip), ``eth1``'s other end
is in a second namespace, the "internet", with the browser's default routes:
there coturn (the project's :class:`~flask_videochat.testing.Coturn`) listens on
an IPv4 and an IPv6 address for STUN, and TURN over UDP and TCP, and what comes
in over IPv4 is source-NATed to another address, as behind a home router, so that
server-reflexive candidates appear. The ``stun+turn`` rows use one STUN entry and
one TURN entry (four URLs: UDP and TCP, IPv4 and IPv6) with credentials minted by
``turn_credentials``; the ``host`` rows use no ICE server (the default
``VIDEOCHAT_ICE_SERVERS``). Namespaces are deleted at the end, also on failure.

Chromium runs with the project's fake-device switches but without
``--allow-loopback-in-peer-connection`` (a real browser offers no loopback
candidate). With ``--use-fake-ui-for-media-stream`` the page counts as granted
camera access, so Chromium gives raw addresses on every interface; a page without
that access gets mDNS names (``<uuid>.local``) for the default route's interface
only, which is fewer candidates.

Every case runs ``--runs`` times (ids are random: sizes vary by a few characters);
tables show the largest. Then: growth per interface, candidates per gathering and
per second (each is a ``signal`` event: see the ``signal`` rate limit), the largest
SDP, ICE candidate and ``usernameFragment``, the size of a ``signal`` and a
``room.signal`` event carrying an SDP (as ``json.dumps`` writes it, each CRLF
taking 4 characters; as the server's ``check_size`` counts it, without escapes;
as a Socket.IO packet), and recommended limits: the widget's largest SDP times
``--factor``, up to a multiple of 5,000; the message size above it.

    sudo .venv/bin/python benchmarks/sdp_sizes.py [--interfaces 1,4,8] [--runs 3]
        [--ipv6-per-interface 1] [--bundle-policy balanced] [--no-turn]
        [--cases recvonly,call,...] [--factor 2] [--json out.json]

Needs root (``ip netns``, ``iptables``), Debian's ``chromium``, and for TURN
Debian's ``coturn`` (``turnserver``). Takes about 80 s with the defaults.

Files: this one (the runs), ``sdp_measure.js`` (what the page does),
``sdp_network.py`` (the namespaces and coturn), ``sdp_report.py`` (the tables).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sdp_network import TURN_IP, TURN_IP6, delete_namespaces, make_namespaces, serve_turn
from sdp_report import CASES, report

ROOT = Path(__file__).resolve().parent.parent
#: This checkout's flask_videochat (imported by the functions that need it).
sys.path.insert(0, str(ROOT))

#: Chromium switches: the project's, without ``--allow-loopback-in-peer-connection``
#: (a real browser never offers loopback candidates, and the TURN server here is
#: not on a loopback address); the screen picker answered by itself.
CHROMIUM_ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--auto-accept-this-tab-capture",
    "--auto-select-desktop-capture-source=Entire screen",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

#: The page's measurement: one case, one run (``sdp_measure.js``). Mirrors what the
#: widget's peer.js does for the parts that shape the SDP (addTrack, the answerer's
#: reuse of the offered transceivers, replaceTrack for a screen share).
MEASURE_JS = (Path(__file__).resolve().parent / "sdp_measure.js").read_text()


def worker(args: argparse.Namespace) -> None:
    """Inside a namespace: start coturn (``--turn``), Chromium, run every case
    ``--runs`` times, print one JSON object on stdout."""
    from playwright.sync_api import sync_playwright

    from flask_videochat.core.ice import turn_credentials

    configs: dict[str, list[dict[str, Any]]] = {"host": []}
    if args.turn_port:
        port = args.turn_port
        creds = turn_credentials(args.turn_secret, "4f1c2a9e-7b3d-4e5f-9a8b-1c2d3e4f5a6b", 86400)
        # As a site would configure it: one STUN entry (VIDEOCHAT_ICE_SERVERS), one
        # TURN entry with minted credentials (VIDEOCHAT_TURN_URLS), over UDP and TCP;
        # a dual-stack server named by its addresses (there is no DNS here).
        configs["stun+turn"] = [
            {"urls": [f"stun:{TURN_IP}:{port}", f"stun:[{TURN_IP6}]:{port}"]},
            {"urls": [f"turn:{TURN_IP}:{port}?transport=udp",
                      f"turn:{TURN_IP}:{port}?transport=tcp",
                      f"turn:[{TURN_IP6}]:{port}?transport=udp",
                      f"turn:[{TURN_IP6}]:{port}?transport=tcp"], **creds},
        ]
    results: list[dict[str, Any]] = []
    with sync_playwright() as pw:
        chromium = shutil.which("chromium") or "/usr/bin/chromium"
        browser = pw.chromium.launch(executable_path=chromium,
                                     args=CHROMIUM_ARGS)
        page = browser.new_page()
        # A secure context for getUserMedia, with no server: localhost, served here.
        page.route("http://localhost/**", lambda route: route.fulfill(
            status=200, content_type="text/html", body="<!doctype html><title>sdp</title>"))
        page.goto("http://localhost/")
        for ice_name, ice_servers in configs.items():
            for kase in args.cases:
                for run in range(args.runs):
                    out = page.evaluate(MEASURE_JS, {
                        "kase": kase, "iceServers": ice_servers, "gatherMs": args.gather_ms,
                        "bundlePolicy": args.bundle_policy})
                    results.append({"ice": ice_name, "case": kase, "run": run, **out})
        browser.close()
    json.dump({"results": results}, sys.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--interfaces", default="1,4,8",
                        help="interface counts, one namespace each (1,4,8)")
    parser.add_argument("--ipv6-per-interface", type=int, default=1,
                        help="IPv6 addresses (each its own /64) per interface (1)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each case (3)")
    parser.add_argument("--cases", default=",".join(CASES), help=f"cases ({','.join(CASES)})")
    parser.add_argument("--no-turn", dest="turn", action="store_false",
                        help="no STUN/TURN server: host candidates only")
    parser.add_argument("--gather-ms", type=int, default=10000,
                        help="longest wait for ICE gathering (10000)")
    parser.add_argument("--bundle-policy", default="balanced",
                        choices=("balanced", "max-bundle", "max-compat"),
                        help="RTCPeerConnection bundlePolicy (balanced: the browser's "
                             "default, which the widget uses)")
    parser.add_argument("--factor", type=float, default=2.0,
                        help="safety factor on the largest SDP (2)")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve-turn", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--turn-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--turn-secret", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.cases = [c for c in args.cases.split(",") if c]
    if args.worker:
        worker(args)
        return
    if args.serve_turn:
        serve_turn()
        return
    if os.geteuid() != 0:
        sys.exit("run as root: it makes network namespaces (ip netns add)")
    if args.turn and not shutil.which("turnserver"):
        sys.exit("turnserver not found: apt-get install coturn, or pass --no-turn")
    all_results: dict[int, list[dict[str, Any]]] = {}
    for n in [int(x) for x in args.interfaces.split(",")]:
        name = f"sdpbench-{os.getpid()}-{n}"
        started = time.monotonic()
        server = None
        try:
            make_namespaces(name, n, args.ipv6_per_interface, args.turn)
            cmd = ["ip", "netns", "exec", name, sys.executable, __file__, "--worker",
                   "--runs", str(args.runs), "--cases", ",".join(args.cases),
                   "--gather-ms", str(args.gather_ms), "--bundle-policy", args.bundle_policy]
            if args.turn:
                server = subprocess.Popen(
                    ["ip", "netns", "exec", f"{name}-srv", sys.executable, __file__,
                     "--serve-turn"],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
                assert server.stdout is not None
                turn = json.loads(server.stdout.readline() or "null")
                if not turn:
                    sys.exit("coturn did not start in the server namespace")
                cmd += ["--turn-port", str(turn["port"]), "--turn-secret", turn["secret"]]
            proc = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, cwd=ROOT)
            all_results[n] = json.loads(proc.stdout)["results"]
        finally:
            if server is not None:
                server.communicate(timeout=30)  # closes its stdin: coturn stops
            delete_namespaces(name)
        print(f"{n} interface(s): {time.monotonic() - started:.1f} s", file=sys.stderr)
    figures = report(all_results, args)
    if args.json:
        Path(args.json).write_text(json.dumps({"figures": figures, "raw": all_results}, indent=1))


if __name__ == "__main__":
    main()
