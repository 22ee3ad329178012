"""TURN: calls relayed by a real coturn, with the short-lived credentials the site
mints per connection (``VIDEOCHAT_TURN_URLS``, ``VIDEOCHAT_TURN_SECRET``), and
browsers held to relays only (``VIDEOCHAT_ICE_TRANSPORT_POLICY="relay"``).

The example site runs here with its own config; coturn relays between loopback
addresses (``allow-loopback-peers``), inside ``scripts/test``'s loopback-only network
namespace like every other test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any, Iterator

import pytest
from playwright.sync_api import Page

from flask_videochat.core.ice import turn_credentials
from flask_videochat.testing import (
    BLUE,
    RED,
    Coturn,
    LiveServer,
    VideoChatPage,
    answered_call,
    example_site_command,
)

#: VIDEOCHAT_TURN_TTL of the site under test, in seconds.
TTL = 3600

_PEER = "/videochat/static/js/peer.js"


@pytest.fixture(scope="module")
def turn_site(coturn: Coturn) -> Iterator[LiveServer]:
    """The example site with TURN through ``coturn`` and relay-only ICE."""
    server = LiveServer(
        example_site_command(),
        env={
            "VIDEOCHAT_ICE_SERVERS": "[]",
            # Comma-separated, as an operator would write it (JSON works too).
            "VIDEOCHAT_TURN_URLS": coturn.url,
            "VIDEOCHAT_TURN_SECRET": coturn.secret,
            "VIDEOCHAT_TURN_TTL": str(TTL),
            "VIDEOCHAT_ICE_TRANSPORT_POLICY": "relay",
        },
    ).start()
    yield server
    server.stop()


@pytest.fixture
def videochat_base_url(
    turn_site: LiveServer, coturn: Coturn, request: pytest.FixtureRequest
) -> Iterator[str]:
    yield turn_site.url
    report = getattr(request.node, "videochat_report_call", None)
    if report is not None and report.failed:
        print(f"--- example_site (TURN) log ---\n{turn_site.output()}")
        print(f"--- coturn log ---\n{coturn.output()}")


@pytest.fixture
def page(videochat_launch: Any, videochat_base_url: str) -> Page:
    """A page of the TURN site (a secure context: loopback), nobody signed in."""
    page = videochat_launch().new_context().new_page()
    page.goto(videochat_base_url + "/healthz")
    return page


def _hello_after_reload(person: VideoChatPage, other_id: str) -> tuple[dict[str, Any], list[str]]:
    """Reload ``person``'s page and return the ``hello`` its new connection got,
    with every frame received on it."""
    frames: list[str] = []
    person.page.on(
        "websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(str(payload)))
    )
    person.page.reload()
    person.expect_online(other_id)  # the presence snapshot comes after hello
    hellos = [
        json.loads(f[f.index("[") :]) for f in frames if f.startswith('42/videochat,["hello"')
    ]
    assert len(hellos) == 1, frames
    return hellos[0][1], frames


def test_relay_only_call_goes_through_turn_with_fresh_credentials(
    videochat_user, names, coturn: Coturn, turn_site: LiveServer
):
    ada = videochat_user(names("Ada"), colour=RED)
    bob = videochat_user(names("Bob"), colour=BLUE)
    ada_id = bob.user_id_of(names("Ada"))
    bob_id = ada.user_id_of(names("Bob"))

    # What Ada's browser is told: one TURN server, credentials minted for her now.
    hello, frames = _hello_after_reload(ada, bob_id)
    received_at = time.time()
    assert hello["ice_transport_policy"] == "relay"
    [server] = hello["ice_servers"]
    assert server["urls"] == [coturn.url]
    expiry, user = server["username"].split(":", 1)
    assert user == ada_id
    assert abs(int(expiry) - (received_at + TTL)) <= 5
    expected = hmac.new(coturn.secret.encode(), server["username"].encode(), hashlib.sha1)
    assert server["credential"] == base64.b64encode(expected.digest()).decode()
    # The secret itself reaches no browser.
    assert coturn.secret not in ada.page.content()
    assert coturn.secret not in ada.page.request.get(turn_site.url + "/").text()
    assert not [f for f in frames if coturn.secret in f]

    log_start = len(coturn.output())
    answered_call(ada, bob, caller_name=names("Ada"), callee_name=names("Bob"))
    ada.expect_remote_video_playing(bob_id)
    bob.expect_remote_video_playing(ada_id)
    ada.expect_remote_colour(bob_id, BLUE)
    bob.expect_remote_colour(ada_id, RED)
    for person, other_id in ((ada, bob_id), (bob, ada_id)):
        transport = person.stats()["peers"][other_id]["transport"]
        assert (transport["localCandidateType"], transport["remoteCandidateType"]) == (
            "relay",
            "relay",
        ), transport
    # coturn allocated relays for both, under the usernames the site minted.
    log = coturn.output()[log_start:]
    for user_id in (ada_id, bob_id):
        assert f":{user_id}>: incoming packet ALLOCATE processed, success" in log
    ada.hang_up()
    bob.expect_idle()


_TURN_USERNAME_JS = """el => el._controller._peer.pc.getConfiguration().iceServers
  .map((s) => s.username).find(Boolean)"""


def test_a_reconnect_mid_call_hands_fresh_credentials_to_the_relayed_call(
    videochat_user, names, coturn: Coturn
):
    ada = videochat_user(names("Ada"), colour=RED)
    bob = videochat_user(names("Bob"), colour=BLUE)
    _, bob_id = answered_call(ada, bob, caller_name=names("Ada"), callee_name=names("Bob"))
    ada.expect_remote_video_playing(bob_id)
    before = ada.element.evaluate(_TURN_USERNAME_JS)
    ada.watch(bob_id)

    # Ada's signaling connection drops and comes back (a second later, so that the
    # expiry moves): its hello has new credentials, which her open peer connection
    # takes for its next ICE restart, without disturbing the relayed media.
    minted_at = int(before.split(":")[0]) - TTL
    ada.page.wait_for_function("t => Date.now() / 1000 >= t + 1", arg=minted_at)
    ada.element.evaluate("el => el._signaling._socket.io.engine.close()")
    ada.expect_resumed()
    ada.page.wait_for_function(
        f"before => ({_TURN_USERNAME_JS})(document.querySelector('video-chat')) !== before",
        arg=before,
    )
    after = ada.element.evaluate(_TURN_USERNAME_JS)
    assert int(after.split(":")[0]) > int(before.split(":")[0])
    ada.expect_remote_colour(bob_id, BLUE)
    ada.page.wait_for_function("() => window.__vcSamples.length > 20")  # 2 s of watching
    ada.expect_one_connection_throughout()
    transport = ada.stats()["peers"][bob_id]["transport"]
    assert (transport["localCandidateType"], transport["remoteCandidateType"]) == ("relay", "relay")


#: In a page: gather candidates for one RTCPeerConnection through one ICE server
#: until the first candidate or the first error (then ``settleMs`` more).
_GATHER_JS = """async ([server, policy, waitMs, settleMs]) => {
  const pc = new RTCPeerConnection({iceServers: [server], iceTransportPolicy: policy});
  const candidates = [], errors = [];
  pc.addEventListener("icecandidate", (e) => {
    if (e.candidate?.candidate) candidates.push(e.candidate.type);
  });
  pc.addEventListener("icecandidateerror", (e) => {
    errors.push({code: e.errorCode, text: e.errorText, url: e.url});
  });
  pc.addTransceiver("audio");
  await pc.setLocalDescription();
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const deadline = performance.now() + waitMs;
  while (performance.now() < deadline && !candidates.length && !errors.length) await sleep(50);
  await sleep(settleMs);
  pc.close();
  return {candidates, errors};
}"""


def test_coturn_refuses_expired_credentials_and_takes_fresh_ones(page: Page, coturn: Coturn):
    expired = {
        "urls": [coturn.url],
        **turn_credentials(coturn.secret, "ada", TTL, now=time.time() - TTL - 60),
    }
    refused = page.evaluate(_GATHER_JS, [expired, "relay", 10_000, 1_000])
    assert refused["candidates"] == []
    assert [(e["code"], e["url"]) for e in refused["errors"]] == [(401, coturn.url)]
    assert (
        f"user <{expired['username']}>: incoming packet message processed, error 401"
        in coturn.output()
    )

    fresh = {"urls": [coturn.url], **turn_credentials(coturn.secret, "ada", TTL)}
    accepted = page.evaluate(_GATHER_JS, [fresh, "relay", 10_000, 0])
    assert accepted == {"candidates": ["relay"], "errors": []}


def test_a_peer_restarts_ice_with_the_fresh_credentials_of_a_new_hello(page: Page, coturn: Coturn):
    # Credentials that expired during a long call: an ICE restart needs new relay
    # allocations, which coturn refuses with them. The next hello's credentials
    # (Peer.setIceServers, as the controllers do on every hello) serve the restart.
    expired = {
        "urls": [coturn.url],
        **turn_credentials(coturn.secret, "ada", TTL, now=time.time() - TTL - 60),
    }
    fresh = {"urls": [coturn.url], **turn_credentials(coturn.secret, "ada", TTL)}
    result = page.evaluate(
        """async ([url, expired, fresh]) => {
      const { Peer } = await import(url);
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      const until = async (ok) => {
        const deadline = performance.now() + 15000;
        while (!ok() && performance.now() < deadline) await sleep(50);
      };
      const sent = [], errors = [];
      const peer = new Peer({polite: false, iceServers: [expired], iceTransportPolicy: "relay",
                             send: (msg) => sent.push(msg)});
      peer.pc.addEventListener("icecandidateerror", (e) => errors.push(e.errorCode));
      const types = () => sent.filter((m) => m.candidate)
        .map((m) => / typ (\\w+)/.exec(m.candidate.candidate)[1]);
      peer.start(null);
      await until(() => errors.length);
      const before = types();
      peer.setIceServers({iceServers: [fresh], iceTransportPolicy: "relay"});
      peer.restartIce();
      await until(() => types().length);
      const after = types();
      peer.destroy();
      return {errors, before, after};
    }""",
        [_PEER, expired, fresh],
    )
    assert result["errors"][:1] == [401]
    assert result["before"] == []
    assert result["after"] and set(result["after"]) == {"relay"}, result


def test_a_relay_outlives_its_credentials(page: Page, coturn: Coturn):
    # coturn checks a username's expiry when it allocates the relay; permissions and
    # refreshes of that allocation are checked with the key it cached then, so a
    # call outlasts VIDEOCHAT_TURN_TTL (docs/turn.md).
    creds = turn_credentials(coturn.secret, "ada", 2)
    expiry = int(creds["username"].split(":")[0])
    result = page.evaluate(
        """async ([server, expiry]) => {
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      const pc = new RTCPeerConnection({iceServers: [server], iceTransportPolicy: "relay"});
      const relays = [], errors = [];
      pc.onicecandidate = (e) => { if (e.candidate?.type === "relay") relays.push(e.candidate); };
      pc.onicecandidateerror = (e) => errors.push(e.errorCode);
      pc.addTransceiver("audio");
      await pc.setLocalDescription();
      while (!relays.length && !errors.length) await sleep(50);
      while (Date.now() / 1000 <= expiry + 1) await sleep(100);   // the credentials expire
      const other = new RTCPeerConnection();
      await other.setRemoteDescription(pc.localDescription);
      await other.setLocalDescription();
      await pc.setRemoteDescription(other.localDescription);
      // A new remote candidate: the relay needs a permission for it (CreatePermission).
      await pc.addIceCandidate({candidate: "candidate:1 1 udp 2122260223 127.0.0.1 40000 typ host",
                                sdpMid: pc.getTransceivers()[0].mid});
      await sleep(1000);
      pc.close();   // deallocates: a Refresh with lifetime 0
      other.close();
      return {relays: relays.length, errors, after: Date.now() / 1000};
    }""",
        [{"urls": [coturn.url], **creds}, expiry],
    )
    assert result["relays"] == 1 and result["errors"] == [], result
    assert result["after"] > expiry
    user = f"user <{creds['username']}>: incoming packet"
    _expect_log(coturn, f"{user} CREATE_PERMISSION processed, success")
    _expect_log(coturn, f"{user} REFRESH processed, success")


def _expect_log(coturn: Coturn, text: str, *, timeout: float = 5.0) -> None:
    """Wait until coturn's log has ``text`` (it writes asynchronously)."""
    deadline = time.monotonic() + timeout
    while text not in coturn.output():
        assert time.monotonic() < deadline, f"not in coturn's log: {text}"
        time.sleep(0.05)
