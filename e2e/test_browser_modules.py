"""The widget's plain modules run in real Chromium, without a call: each
getUserMedia failure gets its own stable code and words, the quality rating follows
its documented thresholds, device choices are remembered."""

from __future__ import annotations

import pytest

from flask_videochat.testing import sign_in_with_form

_MEDIA = "/videochat/static/js/media.js"
_QUALITY = "/videochat/static/js/quality.js"


@pytest.fixture
def page(blank_page):
    return blank_page


@pytest.mark.parametrize(("error", "code", "words"), [
    ("NotAllowedError", "ERR_PERMISSION_DENIED", "access was refused"),
    ("NotReadableError", "ERR_DEVICE_IN_USE", "in use by another application"),
    ("NotFoundError", "ERR_NO_DEVICE", "No camera or microphone was found"),
    ("OverconstrainedError", "ERR_OVERCONSTRAINED", "cannot provide the requested video"),
])
def test_each_getusermedia_failure_has_its_own_code_and_words(page, error, code, words):
    # Every attempt fails the same way (no fall-back succeeds): the first failure's
    # code is what the person is told.
    result = page.evaluate("""async ([url, name]) => {
      const media = await import(url);
      navigator.mediaDevices.getUserMedia = async () => {
        throw new DOMException("test", name);
      };
      return media.getLocalMedia();
    }""", [_MEDIA, error])
    assert result["stream"] is None
    assert result["error"]["code"] == code
    assert words in result["error"]["message"]


def test_choosing_to_send_nothing_asks_for_no_device(page):
    result = page.evaluate("""async (url) => {
      const media = await import(url);
      let asked = 0;
      navigator.mediaDevices.getUserMedia = async () => { asked += 1; throw new Error(); };
      media.savePreferences({video: false, audio: false});
      const out = await media.getLocalMedia();
      const audioOnly = media.constraintsFor({...media.loadPreferences(), audio: true});
      return {out, asked, audioOnly, remembered: media.loadPreferences()};
    }""", _MEDIA)
    assert result["out"] == {"stream": None, "error": None}
    assert result["asked"] == 0
    assert result["audioOnly"]["video"] is False and result["audioOnly"]["audio"]
    assert result["remembered"]["video"] is False


def _rate(page, rtt_ms, lost, received, fps, *, state="connected"):
    return page.evaluate("""async ([url, rttMs, lost, received, fps, state]) => {
      const { rateQuality } = await import(url);
      const sample = (at, packets, lostPackets) => ({
        connectionState: state, at,
        video: {packetsReceived: packets, packetsLost: lostPackets, bytesReceived: packets * 1000,
                framesPerSecond: fps},
        audio: {packetsReceived: 0, packetsLost: 0, bytesReceived: 0},
        transport: {rtt: rttMs / 1000},
      });
      return rateQuality(sample(0, 100, 0), sample(2000, 100 + received, lost));
    }""", [_QUALITY, rtt_ms, lost, received, fps, state])


@pytest.mark.parametrize(("rtt_ms", "lost", "received", "fps", "level"), [
    (20, 0, 500, 30, "good"),
    (350, 0, 500, 30, "fair"),    # round trip over 300 ms
    (20, 20, 480, 30, "fair"),    # 4 % lost
    (20, 0, 500, 15, "fair"),     # under 20 frames per second
    (700, 0, 500, 30, "poor"),    # round trip over 600 ms
    (20, 60, 440, 30, "poor"),    # 12 % lost
    (20, 0, 500, 5, "poor"),      # under 10 frames per second
])
def test_quality_follows_the_documented_thresholds(page, rtt_ms, lost, received, fps, level):
    rating = _rate(page, rtt_ms, lost, received, fps)
    assert rating["level"] == level, rating
    assert rating["rttMs"] == rtt_ms
    assert rating["kbps"] == round(received * 1000 * 8 / 1000 / 2)


def test_a_connection_that_is_not_up_is_poor(page):
    assert _rate(page, 20, 0, 500, 30, state="disconnected")["level"] == "poor"


_LOCAL_MEDIA = "/videochat/static/js/local-media.js"
_SIGNALING = "/videochat/static/js/signaling.js"


def test_media_states_are_coalesced_and_a_refused_one_is_sent_again(page):
    """Forty changes in a burst are one announcement of the latest state; one the
    server refuses for its rate limit is sent again after ``retry_after``, with the
    state of then, and revisions only grow."""
    sent = page.evaluate("""async ([url, signalingUrl]) => {
      const { MediaOwner } = await import(url);
      const { SignalingError } = await import(signalingUrl);
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      const owner = new MediaOwner();
      let mic = true, refusals = 1;
      const t0 = performance.now();
      const sent = [];
      owner.mediaState = () => ({ mic, cam: true, screen: false });
      owner.sendMediaState = (state) => {
        sent.push({ ...state, at: Math.round(performance.now() - t0) });
        if (refusals-- > 0) {
          const err = new SignalingError("ERR_RATE_LIMITED", "Too many", { retryAfter: 0.8 });
          return Promise.reject(err);
        }
        return Promise.resolve({ ok: true });
      };
      for (let i = 0; i < 40; i++) { mic = !mic; owner.announceMedia(); }  // ends on true
      await sleep(200);
      mic = false; owner.announceMedia();  // changed while the refusal waits
      await sleep(1500);
      return sent;
    }""", [_LOCAL_MEDIA, _SIGNALING])
    assert [s["mic"] for s in sent] == [True, False], sent
    assert sent[1]["at"] - sent[0]["at"] >= 800, "sent again after retry_after"
    assert sent[1]["rev"] > sent[0]["rev"]


def test_emits_buffered_on_a_dying_connection_are_not_sent_on_the_next(blank_page, example_site):
    """The Socket.IO client buffers an emit made when the connection's ping deadline
    passed (it still says connected) and sends it once reconnected. Numbered for the
    old connection, it would be out of place on the new one: the server would wait
    for the numbers before it, then refuse the client's own. The widget drops such
    emits when the connection drops."""
    page = blank_page
    sign_in_with_form(page, example_site.url, "Buffered Bea")
    acks = page.evaluate("""async (url) => {
      const { Signaling } = await import(url);
      const s = new Signaling({ namespace: "/videochat" });
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      const until = async (ok) => { for (let i = 0; i < 100 && !ok(); i++) await sleep(50); };
      await until(() => s.connected);
      for (let i = 0; i < 4; i++) await s.request("ping", {});  // seq 1 to 4
      // What the client does with an emit once the ping deadline has passed:
      const stale = { type: 2, data: ["ping", s._numbered({})], options: { compress: true } };
      s._socket.sendBuffer.push(stale);
      const first = s._socket.id;
      s._socket.io.engine.close();  // the connection drops; the client reconnects
      await until(() => s.connected && s._socket.id !== first);
      const out = [];
      const ask = async () => { try { await s.request("ping", {}); out.push("ok"); }
                                catch (err) { out.push(err.code); } };
      await ask();        // seq 1 of the new connection
      await sleep(2600);  // longer than the server's gap timeout
      for (let i = 0; i < 3; i++) await ask();  // seq 2 to 4
      s.destroy();
      return out;
    }""", _SIGNALING)
    assert acks == ["ok", "ok", "ok", "ok"]
