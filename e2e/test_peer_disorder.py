"""Peers in real Chromium survive signaling messages that arrive out of order: two
``Peer`` objects in one page, their messages carried by the test, which holds back
every SDP description so that the ICE candidates sent after it arrive first (what
happened when the server handled a connection's events concurrently, and what two
server processes can still do). Also: candidates of a superseded ICE generation are
dropped, and a connection that cannot come up gets an ICE restart, then gives up.
"""

from __future__ import annotations

import pytest

_PEER = "/videochat/static/js/peer.js"

#: In a page: two peers a (impolite, makes the offer) and b (polite), whose
#: messages go through ``window.__wire``: descriptions after ``holdMs``, candidates
#: at once, unless ``dropCandidates``. Resolves with what happened once both are
#: connected or ``waitMs`` passed.
_PAIR_JS = """async ([url, holdMs, waitMs, dropCandidates, options]) => {
  const { Peer } = await import(url);
  const log = { candidatesFirst: 0, connectfailed: [], errors: [] };
  const peers = {};
  const wire = (to) => (msg) => {
    if (msg.candidate) {
      if (dropCandidates) return;
      if (!peers[to].pc.remoteDescription) log.candidatesFirst += 1;
      peers[to].handleSignal(msg);
    } else {
      setTimeout(() => peers[to].handleSignal(msg), holdMs);
    }
  };
  peers.a = new Peer({ polite: false, send: wire("b"), ...options });
  peers.b = new Peer({ polite: true, send: wire("a"), ...options });
  for (const [name, peer] of Object.entries(peers)) {
    peer.addEventListener("connectfailed", () => log.connectfailed.push(name));
    peer.addEventListener("error", (e) => log.errors.push(e.detail.message));
  }
  window.__peers = peers;
  const stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
  const started = performance.now();
  peers.b.answerWith(stream);
  peers.a.start(stream);
  const up = (p) => p.connectionState === "connected";
  const both = () => up(peers.a) && up(peers.b);
  while (!both() && performance.now() - started < waitMs) {
    if (log.connectfailed.length === 2) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    ...log,
    ms: performance.now() - started,
    a: peers.a.connectionState,
    b: peers.b.connectionState,
    restarts: peers.a.restarts + peers.b.restarts,
  };
}"""


@pytest.fixture
def page(blank_page):
    return blank_page


def test_candidates_that_arrive_before_their_description_are_kept_and_connect(page):
    # Every description is held back 600 ms, both ways: each side gets all of the
    # other's candidates before the offer (or the answer) they belong to.
    result = page.evaluate(_PAIR_JS, [_PEER, 600, 4000, False, {}])
    assert result["candidatesFirst"] >= 2, result
    assert (result["a"], result["b"]) == ("connected", "connected"), result
    # Connected by the kept candidates, not rescued by the ICE restart at 5 s.
    assert result["restarts"] == 0, result
    assert result["errors"] == [], result


def test_candidates_of_a_superseded_ice_generation_are_dropped(page):
    result = page.evaluate(_PAIR_JS, [_PEER, 0, 4000, False, {}])
    assert (result["a"], result["b"]) == ("connected", "connected"), result
    dropped = page.evaluate("""async () => {
      const { a, b } = window.__peers;
      const ufrag = (d) => d.sdp.match(/^a=ice-ufrag:(\\S+)/m)[1];
      const old = ufrag(a.pc.remoteDescription);
      // A new ICE generation: a restarts ICE, b answers with new credentials.
      a.restartIce();
      const deadline = performance.now() + 4000;
      while (ufrag(a.pc.remoteDescription) === old && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      let added = 0;
      const add = a.pc.addIceCandidate.bind(a.pc);
      a.pc.addIceCandidate = (c) => { added += 1; return add(c); };
      const stale = { candidate: "candidate:1 1 udp 2122260223 127.0.0.1 9 typ host",
                      sdpMid: "0", sdpMLineIndex: 0, usernameFragment: old };
      const future = { ...stale, usernameFragment: "notyet" };
      await a.handleSignal({ candidate: stale });
      await a.handleSignal({ candidate: future });
      return { renewed: ufrag(a.pc.remoteDescription) !== old, added,
               kept: a._pendingCandidates.map((c) => c.usernameFragment),
               state: a.connectionState };
    }""")
    assert dropped["renewed"], dropped
    assert dropped["added"] == 0, "neither the stale nor the future candidate was applied"
    assert dropped["kept"] == ["notyet"], "the future one waits for its description"


def test_a_connection_that_cannot_come_up_restarts_ice_then_gives_up(page):
    # No candidate ever gets through: the connection restarts ICE after
    # connectRestartMs, and both sides give up after connectGiveUpMs.
    options = {"connectRestartMs": 800, "connectGiveUpMs": 2500}
    result = page.evaluate(_PAIR_JS, [_PEER, 0, 6000, True, options])
    assert result["a"] != "connected" and result["b"] != "connected", result
    assert sorted(result["connectfailed"]) == ["a", "b"], result
    assert result["restarts"] >= 2, "each side restarted ICE before giving up"
    assert 2500 <= result["ms"] < 5000, result
