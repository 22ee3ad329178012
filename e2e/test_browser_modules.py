"""The widget's plain modules run in real Chromium, without a call: each
getUserMedia failure gets its own stable code and words, the quality rating follows
its documented thresholds, device choices are remembered."""

from __future__ import annotations

import pytest

from flask_videochat.testing import launch_chromium

_MEDIA = "/videochat/static/js/media.js"
_QUALITY = "/videochat/static/js/quality.js"


@pytest.fixture(scope="module")
def browser(videochat_playwright):
    """One Chromium for the module: these tests need no camera of their own."""
    browser = launch_chromium(videochat_playwright)
    yield browser
    browser.close()


@pytest.fixture
def page(browser, example_site):
    """A fresh page of the example site (a secure context: loopback), no one signed in."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(example_site.url + "/healthz")
    yield page
    context.close()


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
