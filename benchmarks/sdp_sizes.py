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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: The TURN/STUN server's address, and the "public" address the namespace's
#: traffic to it is source-NATed to (both 15 characters: the longest IPv4 text).
TURN_IP = "198.251.100.210"
NAT_IP = "198.251.100.211"
#: The TURN/STUN server's IPv6 address (a dual-stack server: each IPv6 network
#: gets relay candidates too). No NAT66: IPv6 has no server-reflexive candidates.
TURN_IP6 = "2a05:d014:1c2b:3d4e:5f60:7182:93a4:b5c6"

CASES = ("recvonly", "call", "call+screen", "call+screen2", "simulcast")
STAGES = ("offer", "answer", "offer+c", "answer+c", "reoffer+c", "reanswer+c",
          "restart+c", "rrestart+c")

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

#: The page's measurement: one case, one run. Mirrors what the widget's peer.js
#: does for the parts that shape the SDP (addTrack, the answerer's reuse of the
#: offered transceivers, replaceTrack for a screen share).
MEASURE_JS = r"""
async ({kase, iceServers, gatherMs, bundlePolicy}) => {
  const out = {sdp: {}, candidates: [], gatherTimeouts: []};
  const cams = [];
  const cam = async () => {
    // The widget's DEFAULT_CONSTRAINTS (media.js).
    const s = await navigator.mediaDevices.getUserMedia({
      audio: {echoCancellation: true, noiseSuppression: true},
      video: {width: {ideal: 1280}, height: {ideal: 720}, frameRate: {ideal: 30}},
    });
    cams.push(s);
    return s;
  };
  const screen = async () => {
    let s;
    try {
      s = await navigator.mediaDevices.getDisplayMedia(
        {video: {frameRate: {ideal: 15}}, audio: false});
      out.screenSource = "getDisplayMedia";
    } catch (err) {
      const c = document.createElement("canvas");
      c.width = 1920; c.height = 1080;
      c.getContext("2d").fillRect(0, 0, 10, 10);
      s = c.captureStream(15);
      out.screenSource = "canvas (" + err.name + ")";
    }
    s.getVideoTracks()[0].contentHint = "detail";
    cams.push(s);
    return s;
  };
  const collect = (pc, side) => {
    pc.addEventListener("icecandidate", ({candidate}) => {
      if (candidate && candidate.candidate) {
        out.candidates.push({side, at: performance.now(), candidate: candidate.candidate,
          sdpMid: candidate.sdpMid,
          sdpMLineIndex: candidate.sdpMLineIndex, usernameFragment: candidate.usernameFragment});
      }
    });
  };
  // Gathering completions so far, per connection: a wait is for the next one (after
  // an ICE restart the state is still "complete" from the previous gathering).
  const watchGathering = (pc) => {
    pc.__completed = 0;
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") pc.__completed += 1;
    });
  };
  const gathered = (pc, before, label) => new Promise((resolve) => {
    const started = performance.now();
    const poll = () => {
      if (pc.__completed > before) return resolve();
      if (performance.now() - started > gatherMs) {
        out.gatherTimeouts.push(label);
        return resolve();
      }
      setTimeout(poll, 10);
    };
    poll();
  });
  // The other side gets descriptions without their candidates, and no trickled
  // candidate: ICE never connects, so that no gathering is cut short by a
  // connection (Chromium stops gathering once a pair works) and every SDP read
  // "+c" carries a complete gathering, as when the remote peer is unreachable.
  const bare = (d) => ({type: d.type, sdp: d.sdp.split("\r\n").filter(
    (l) => !l.startsWith("a=candidate:") && l !== "a=end-of-candidates").join("\r\n")});
  // Peer._addTracks: reuse an offered transceiver of the track's kind, else addTrack.
  const addTracks = (pc, stream) => {
    for (const track of stream.getTracks()) {
      const reusable = pc.getTransceivers().find(
        (t) => t.receiver.track?.kind === track.kind && !t.sender.track
          && t.direction !== "stopped");
      if (reusable) {
        reusable.sender.replaceTrack(track);
        reusable.direction = "sendrecv";
        reusable.sender.setStreams?.(stream);
      } else {
        pc.addTrack(track, stream);
      }
    }
  };
  const setUp = async (pc, offerer) => {
    if (kase === "recvonly" && offerer) {
      // Peer.start(null): nothing to send (no camera, or access refused).
      for (const kind of ["audio", "video"]) pc.addTransceiver(kind, {direction: "recvonly"});
      return;
    }
    const media = await cam();
    if (kase === "recvonly") addTracks(pc, media);  // the callee answers with its camera
    if (kase === "call") {
      if (offerer) for (const t of media.getTracks()) pc.addTrack(t, media);
      else addTracks(pc, media);
    } else if (kase === "call+screen") {
      // MediaOwner.startScreenShare -> Peer.setLocalTrack: replaceTrack on the video sender.
      if (offerer) for (const t of media.getTracks()) pc.addTrack(t, media);
      else addTracks(pc, media);
      const shared = (await screen()).getVideoTracks()[0];
      const sender = pc.getSenders().find((s) => s.track?.kind === "video");
      await sender.replaceTrack(shared);
    } else if (kase === "call+screen2") {
      const shared = await screen();
      if (offerer) {
        for (const t of media.getTracks()) pc.addTrack(t, media);
        pc.addTrack(shared.getVideoTracks()[0], shared);
      } else {
        addTracks(pc, media);
        addTracks(pc, shared);
      }
    } else if (kase === "simulcast") {
      const shared = await screen();
      if (offerer) {
        pc.addTrack(media.getAudioTracks()[0], media);
        pc.addTransceiver(media.getVideoTracks()[0], {streams: [media], sendEncodings: [
          {rid: "q", scaleResolutionDownBy: 4}, {rid: "h", scaleResolutionDownBy: 2}, {rid: "f"}]});
        pc.addTransceiver(shared.getVideoTracks()[0], {streams: [shared]});
        pc.createDataChannel("chat");
      } else {
        addTracks(pc, media);
        addTracks(pc, shared);
      }
    }
  };
  const a = new RTCPeerConnection({iceServers, bundlePolicy});
  const b = new RTCPeerConnection({iceServers, bundlePolicy});
  collect(a, "offerer");
  collect(b, "answerer");
  watchGathering(a);
  watchGathering(b);
  try {
    await setUp(a, true);
    await a.setLocalDescription();
    out.sdp["offer"] = a.localDescription.sdp;
    await gathered(a, 0, "offer");
    out.sdp["offer+c"] = a.localDescription.sdp;
    await b.setRemoteDescription(bare(a.localDescription));
    await setUp(b, false);
    await b.setLocalDescription();
    out.sdp["answer"] = b.localDescription.sdp;
    await gathered(b, 0, "answer");
    out.sdp["answer+c"] = b.localDescription.sdp;
    await a.setRemoteDescription(bare(b.localDescription));
    // A renegotiation (an audio-only peer turning its camera on would make one):
    // the bundled transport's candidates, gathered long ago, are in it.
    await a.setLocalDescription(await a.createOffer());
    out.sdp["reoffer+c"] = a.localDescription.sdp;
    await b.setRemoteDescription(bare(a.localDescription));
    await b.setLocalDescription();
    out.sdp["reanswer+c"] = b.localDescription.sdp;
    await a.setRemoteDescription(bare(b.localDescription));
    // An ICE restart (Peer.restartIce): new credentials, a new gathering.
    const [doneA, doneB] = [a.__completed, b.__completed];
    a.restartIce();
    await a.setLocalDescription();
    await gathered(a, doneA, "restart");
    out.sdp["restart+c"] = a.localDescription.sdp;
    await b.setRemoteDescription(bare(a.localDescription));
    await b.setLocalDescription();
    await gathered(b, doneB, "rrestart");
    out.sdp["rrestart+c"] = b.localDescription.sdp;
    await a.setRemoteDescription(bare(b.localDescription));
  } finally {
    a.close();
    b.close();
    for (const s of cams) for (const t of s.getTracks()) t.stop();
  }
  return out;
}
"""


# --------------------------------------------------------------------------- worker


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


def _namespace_coturn_class() -> type:
    from flask_videochat.testing import Coturn

    class NamespaceCoturn(Coturn):
        """The project's :class:`~flask_videochat.testing.Coturn`, also listening and
        relaying on :data:`TURN_IP` and :data:`TURN_IP6`."""

        def _conf(self, directory: Path) -> str:
            conf = super()._conf(directory)
            conf = conf.replace("listening-ip=127.0.0.1\n", "listening-ip=127.0.0.1\n"
                                f"listening-ip={TURN_IP}\nlistening-ip={TURN_IP6}\n")
            conf = conf.replace("relay-ip=127.0.0.1\n",
                                f"relay-ip={TURN_IP}\nrelay-ip={TURN_IP6}\n")
            return conf

    return NamespaceCoturn


# --------------------------------------------------------------------------- namespaces


def run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True)


def make_namespaces(name: str, interfaces: int, ipv6_per_interface: int, turn: bool) -> None:
    """Namespace ``name`` (the browser's) with ``lo`` up and ``interfaces`` veth
    pairs ``ethN``/``ethNp``; ``ethN`` carries the addresses, ``ethNp`` none
    (Chromium skips it). With ``turn``, namespace ``name-srv`` (the TURN server's
    "internet") holds ``eth1p``: the browser's default routes go through ``eth1``
    to it, and what reaches the server is source-NATed to :data:`NAT_IP`, as
    behind a home router."""
    run(["ip", "netns", "add", name])
    ns = ["ip", "netns", "exec", name]
    srv = ["ip", "netns", "exec", f"{name}-srv"]
    run([*ns, "ip", "link", "set", "lo", "up"])
    for i in range(1, interfaces + 1):
        dev, peer = f"eth{i}", f"eth{i}p"
        run([*ns, "ip", "link", "add", dev, "type", "veth", "peer", "name", peer])
        run([*ns, "ip", "addr", "add", f"192.168.{100 + i}.{200 + i}/24", "dev", dev])
        for j in range(ipv6_per_interface):
            run([*ns, "ip", "addr", "add", f"{ipv6_of(i, j)}/64", "dev", dev, "nodad"])
        run([*ns, "ip", "link", "set", dev, "up"])
        if i == 1 and turn:
            run(["ip", "netns", "add", f"{name}-srv"])
            run([*ns, "ip", "link", "set", peer, "netns", f"{name}-srv"])
            run([*srv, "ip", "link", "set", "lo", "up"])
            run([*srv, "ip", "addr", "add", "192.168.101.1/24", "dev", peer])
            run([*srv, "ip", "addr", "add", f"{ipv6_of(1, 0, router=True)}/64", "dev", peer,
                 "nodad"])
            run([*srv, "ip", "link", "set", peer, "up"])
            for ip in (f"{TURN_IP}/32", f"{NAT_IP}/32", f"{TURN_IP6}/128"):
                run([*srv, "ip", "addr", "add", ip, "dev", "lo"])
            # Back to every address of the browser's namespace, through eth1.
            run([*srv, "ip", "route", "add", "192.168.0.0/16", "via", "192.168.101.201"])
            for prefix in ("2a02:8071::/32", "fd00::/8"):
                run([*srv, "ip", "-6", "route", "add", prefix, "via", ipv6_of(1, 0)])
            run([*srv, "iptables", "-t", "nat", "-A", "INPUT", "-d", TURN_IP,
                 "-j", "SNAT", "--to-source", NAT_IP])
            run([*ns, "ip", "route", "add", "default", "via", "192.168.101.1"])
            run([*ns, "ip", "-6", "route", "add", "default", "via", ipv6_of(1, 0, router=True)])
        else:
            run([*ns, "ip", "link", "set", peer, "up"])


def ipv6_of(interface: int, index: int, *, router: bool = False) -> str:
    """The ``index``-th IPv6 address of interface ``interface`` (a /64 of its own):
    eight full groups (39 characters, the longest text); ``::1`` of that /64 for
    the router (the server namespace's end of ``eth1``)."""
    prefix = f"{'2a02:8071' if index == 0 else f'fd{index:02x}:3456'}:a{interface:03x}:bc00"
    return f"{prefix}::1" if router else f"{prefix}:1234:5678:9abc:def0"


def delete_namespaces(name: str) -> None:
    for ns in (name, f"{name}-srv"):
        if subprocess.run(["ip", "netns", "pids", ns], capture_output=True).returncode == 0:
            subprocess.run(["ip", "netns", "del", ns], check=False)


def serve_turn() -> None:
    """In the server namespace: coturn until stdin closes; its port and secret on
    stdout as one JSON line."""
    # Enough relay ports for every allocation of a run (one per network, per TURN
    # URL, per transport): coturn refuses allocations once its ports are all taken.
    turn = _namespace_coturn_class()(relay_ports=1000).start()
    try:
        print(json.dumps({"port": turn.port, "secret": turn.secret}), flush=True)
        sys.stdin.read()
    finally:
        turn.close()


# --------------------------------------------------------------------------- report


def signal_event(sdp: str, kind: str = "offer") -> dict[str, Any]:
    """A ``signal`` payload as the widget sends it (``seq`` added by Signaling)."""
    return {"call_id": "x" * 22, "description": {"type": kind, "sdp": sdp}, "seq": 123}


def room_signal_event(sdp: str, kind: str = "offer") -> dict[str, Any]:
    """A ``room.signal`` payload with the longest room name (64) and user id (128)."""
    return {"room": "r" * 64, "to": "u" * 128, "description": {"type": kind, "sdp": sdp},
            "seq": 123}


def check_size_bytes(payload: dict[str, Any]) -> int:
    """The smallest ``max_bytes`` the server's ``check_size`` accepts ``payload``
    under: its size as the server counts it (without escapes). The ``seq`` is
    taken off before the check, as ``VideoChatNamespace.trigger_event`` does."""
    from flask_videochat.core.protocol import ProtocolError
    from flask_videochat.core.ratelimit import check_size

    payload = {k: v for k, v in payload.items() if k != "seq"}
    low, high = 0, 1 << 22
    while low < high:
        mid = (low + high) // 2
        try:
            check_size([payload], max_bytes=mid)
            high = mid
        except ProtocolError:
            low = mid + 1
    return low


def engineio_frame_bytes(payload: dict[str, Any], event: str = "signal") -> int:
    """Bytes of the Socket.IO packet on the wire (an EVENT with an ack id, in the
    ``/videochat`` namespace): what ``max_http_buffer_size`` sees."""
    body = json.dumps([event, payload], separators=(",", ":"))
    return len(f"421/videochat,1234{body}".encode())


#: The cases the widget itself produces (two m-sections, audio and video).
WIDGET_CASES = ("recvonly", "call", "call+screen")


def burst(times: list[float], window_ms: float = 1000.0) -> int:
    """The most of ``times`` (milliseconds) within any ``window_ms``."""
    times = sorted(times)
    best = start = 0
    for end, t in enumerate(times):
        while t - times[start] > window_ms:
            start += 1
        best = max(best, end - start + 1)
    return best


def report(all_results: dict[int, list[dict[str, Any]]], args: argparse.Namespace) -> dict:
    """Print the tables; return the figures."""
    table: dict[tuple[int, str, str, str], list[int]] = {}
    largest: dict[str, tuple[str, Any]] = {"widget": ("", None), "all": ("", None)}
    largest_candidate = ""
    largest_ufrag = ""
    # (ifaces, ice, case) -> (offerer's first gathering, answerer's, offerer's burst/s)
    gathering: dict[tuple[int, str, str], tuple[int, int, int]] = {}
    screen_sources = set()
    timeouts = []
    for n, results in all_results.items():
        for r in results:
            if r.get("screenSource"):
                screen_sources.add(r["screenSource"])
            timeouts += [(n, r["ice"], r["case"], t) for t in r["gatherTimeouts"]]
            for stage, sdp in r["sdp"].items():
                table.setdefault((n, r["ice"], r["case"], stage), []).append(len(sdp))
                for scope in ("widget", "all"):
                    if scope == "widget" and r["case"] not in WIDGET_CASES:
                        continue
                    if len(sdp) > len(largest[scope][0]):
                        largest[scope] = (sdp, (n, r["ice"], r["case"], stage))
            for c in r["candidates"]:
                if len(c["candidate"]) > len(largest_candidate):
                    largest_candidate = c["candidate"]
                if len(c["usernameFragment"] or "") > len(largest_ufrag):
                    largest_ufrag = c["usernameFragment"]
            first = [c for c in r["candidates"] if " generation 0 " in c["candidate"]]
            offered = [c["at"] for c in first if c["side"] == "offerer"]
            answered = [c for c in first if c["side"] == "answerer"]
            old = gathering.get((n, r["ice"], r["case"]), (0, 0, 0))
            gathering[(n, r["ice"], r["case"])] = (
                max(old[0], len(offered)), max(old[1], len(answered)), max(old[2], burst(offered)))

    ices = sorted({k[1] for k in table}, key=lambda x: (x != "host", x))
    print("\nLength of pc.localDescription.sdp in characters, largest of "
          f"{args.runs} runs (and the spread between runs, when there was one); "
          f"bundlePolicy {args.bundle_policy}\n")
    header = f"{'ifaces':>6} {'ICE servers':<10} {'case':<13}" + "".join(f"{s:>12}" for s in STAGES)
    print(header)
    print("-" * len(header))
    for n in sorted(all_results):
        for ice in ices:
            for kase in args.cases:
                cells = []
                for stage in STAGES:
                    sizes = table.get((n, ice, kase, stage))
                    if not sizes:
                        cells.append(f"{'-':>12}")
                        continue
                    spread = max(sizes) - min(sizes)
                    cell = f"{max(sizes)}" + (f"(±{spread})" if spread else "")
                    cells.append(f"{cell:>12}")
                print(f"{n:>6} {ice:<10} {kase:<13}" + "".join(cells))
        print()

    counts = sorted(all_results)
    if len(counts) > 1:
        print("Growth per added interface (one IPv4 + IPv6 network each), characters:\n")
        steps = list(zip(counts, counts[1:]))
        print(f"  {'ICE servers':<10} {'case':<13} {'stage':<11}"
              + "".join(f"{f'{a}->{b}':>10}" for a, b in steps))
        for ice in ices:
            for kase in args.cases:
                for stage in ("offer+c", "answer+c"):
                    cells = []
                    for a, b in steps:
                        sa, sb = table.get((a, ice, kase, stage)), table.get((b, ice, kase, stage))
                        cells.append(f"{(max(sb) - max(sa)) / (b - a):>10.0f}" if sa and sb
                                     else f"{'-':>10}")
                    print(f"  {ice:<10} {kase:<13} {stage:<11}" + "".join(cells))
        print()

    print("Candidates of the first gathering, most of any run: the offerer's, the answerer's,"
          " and the most the offerer trickled (one signal event each) within one second\n")
    print(f"  {'ifaces':>6} {'ICE servers':<10} {'case':<13} {'offerer':>8} {'answerer':>9}"
          f" {'per 1 s':>8}")
    for (n, ice, kase), (o, a, per_s) in sorted(gathering.items(),
                                                key=lambda kv: (kv[0][0], kv[0][1] != "host")):
        print(f"  {n:>6} {ice:<10} {kase:<13} {o:>8} {a:>9} {per_s:>8}")

    for scope, (sdp, where) in largest.items():
        if not sdp:
            continue
        what = "of the widget's cases" if scope == "widget" else "of all cases"
        print(f"\nLargest SDP {what}: {len(sdp)} characters ({where[0]} interfaces, "
              f"{where[1]}, {where[2]}, {where[3]}), {sdp.count(chr(10))} lines, "
              f"{sum(line.startswith('a=candidate') for line in sdp.splitlines())} candidates")
    print(f"Largest ICE candidate: {len(largest_candidate)} characters:\n  {largest_candidate}")
    print(f"Largest usernameFragment: {len(largest_ufrag)} characters ({largest_ufrag!r})")
    cand_payload = {"call_id": "x" * 22, "candidate": {
        "candidate": largest_candidate, "sdpMid": "0", "sdpMLineIndex": 0,
        "usernameFragment": largest_ufrag}, "seq": 123}
    print(f"A signal event with that candidate: {len(json.dumps(cand_payload))} bytes of JSON")
    if screen_sources:
        print(f"Screen track from: {', '.join(sorted(screen_sources))}")
    if timeouts:
        print(f"ICE gathering did not complete within {args.gather_ms} ms: {timeouts}")

    factor = args.factor
    limits = {}
    print()
    for scope, (sdp, _where) in largest.items():
        if sdp:
            limits[scope] = round_up(len(sdp) * factor, 5000)
            print(f"Largest SDP of {scope + ' cases:':<14} {len(sdp)} x {factor:g} = "
                  f"{len(sdp) * factor:.0f}, up to a multiple of 5,000: {limits[scope]}")
    print("\nA signal / room.signal event carrying an SDP, in bytes: as JSON (json.dumps, each"
          " CRLF escaped to 4 characters),\nas the server's check_size counts it against"
          " VIDEOCHAT_MAX_MESSAGE_SIZE (no escapes, without seq), and the Socket.IO packet\n"
          "(what engine.io's max_http_buffer_size sees). call_id of 22 characters; room.signal"
          " with the longest room name (64) and user id (128).\n")
    print(f"  {'SDP':>10} {'json.dumps':>11} {'check_size':>11} {'wire frame':>11}   event")
    sizes = {}
    rows = [(f"largest {k}", v[0], len(v[0])) for k, v in largest.items() if v[0]]
    rows += [(f"limit {k}", largest[k][0], v) for k, v in limits.items()]
    for label, sample, n_chars in rows:
        # An SDP of n_chars with the real SDP's line density (CRLF per character).
        padded = pad_sdp(sample, n_chars)
        for event_name, payload in (("signal", signal_event(padded)),
                                    ("room.signal", room_signal_event(padded))):
            dumped = len(json.dumps(payload))
            counted = check_size_bytes(payload)
            wire = engineio_frame_bytes(payload, event_name)
            sizes[(label, event_name)] = (dumped, counted, wire)
            print(f"  {len(padded):>10} {dumped:>11} {counted:>11} {wire:>11}"
                  f"   {event_name} ({label})")

    # What check_size counts besides the SDP, with every id as long as allowed.
    from flask_videochat.core.protocol import MAX_ID_LENGTH
    envelope = max(
        check_size_bytes({"call_id": "x" * MAX_ID_LENGTH,
                          "description": {"type": "pranswer", "sdp": ""}}),
        check_size_bytes(room_signal_event("", "pranswer")),
    ) - 2  # the SDP's own quotes are in the SDP's share
    sdp_limit = limits["widget"] if "widget" in limits else limits["all"]
    message_limit = round_up(sdp_limit + envelope, 4096)
    print(f"\nRecommended MAX_SDP_LENGTH: {sdp_limit} (the widget's largest SDP x {factor:g},"
          " up to a multiple of 5,000)")
    print(f"Recommended VIDEOCHAT_MAX_MESSAGE_SIZE: {message_limit} (MAX_SDP_LENGTH + "
          f"{envelope} bytes of the largest legitimate envelope, up to a multiple of 4,096),"
          " so that the SDP limit, not this one, refuses an oversize SDP")
    return {
        "largest": {k: (len(v[0]), v[1]) for k, v in largest.items()}, "limits": limits,
        "max_sdp_length": sdp_limit, "max_message_size": message_limit, "envelope": envelope,
        "largest_candidate": largest_candidate, "largest_ufrag": largest_ufrag,
        "event_sizes": {f"{k[0]}/{k[1]}": v for k, v in sizes.items()},
        "table": {"|".join(map(str, k)): v for k, v in table.items()},
        "gathering": {"|".join(map(str, k)): v for k, v in gathering.items()},
    }


def pad_sdp(sdp: str, n_chars: int) -> str:
    """``sdp`` repeated line by line up to exactly ``n_chars`` characters, so that
    a limit-sized SDP has as many CRLFs (escaped to 4 characters in JSON) per
    character as a real one."""
    lines = sdp.split("\r\n")
    out = sdp
    i = 0
    while len(out) < n_chars:
        out += lines[i % len(lines)] + "\r\n"
        i += 1
    return out[:n_chars]


def round_up(value: float, step: int) -> int:
    """``value`` up to a multiple of ``step``."""
    return int(-(-value // step) * step)


# --------------------------------------------------------------------------- main


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
