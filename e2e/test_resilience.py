"""Surviving blips in real browsers: the media path cut and restored (ICE restart),
the signaling connection dropped (the call is resumed), the server killed and
restarted during a call (media keeps flowing; the call is re-announced), a tab
closed (the other side learns at once: see test_calls.py)."""

from __future__ import annotations

import contextlib
import os
import time
from typing import Iterator

import pytest
from playwright.sync_api import expect

from flask_videochat.testing import (
    BLUE,
    RED,
    LiveServer,
    NetworkCut,
    VideoChatPage,
    answered_call,
    example_site_command,
    only_loopback,
    sign_in_with_form,
    write_solid_y4m,
)


@contextlib.contextmanager
def cut_network(keep_port: int | None) -> Iterator[None]:
    """The media path cut, signaling up (see :class:`NetworkCut`)."""
    if os.geteuid() != 0 or not only_loopback():
        pytest.skip("needs root in the loopback-only network namespace of scripts/test")
    with NetworkCut(keep_port):
        yield


def _wait_for_peer(page: VideoChatPage, peer_id: str, predicate, *, what: str,
                   timeout: float = 30.0) -> None:
    """Poll ``page``'s ``getStats()`` until ``predicate(peers[peer_id])`` holds."""
    deadline = time.monotonic() + timeout
    seen = None
    while time.monotonic() < deadline:
        seen = page.stats()["peers"].get(peer_id)
        if seen is not None and predicate(seen):
            return
        page.page.wait_for_timeout(200)
    raise AssertionError(f"no {what} within {timeout} s: {seen}")


def test_media_resumes_after_the_network_path_is_cut_and_restored(
        example_site, videochat_user, names):
    ada = videochat_user(names("Ada"), colour=RED)
    bob = videochat_user(names("Bob"), colour=BLUE)
    ada_id, bob_id = answered_call(ada, bob, caller_name=names("Ada"), callee_name=names("Bob"))
    ada.expect_remote_video_playing(bob_id)
    call_id = ada.stats()["callId"]

    with cut_network(keep_port=example_site.port):
        # Both browsers notice the path is gone and restart ICE (new candidates
        # through the signaling server, which stays reachable), in vain while cut.
        for page, peer in ((ada, bob_id), (bob, ada_id)):
            _wait_for_peer(page, peer, lambda p: p["connectionState"] != "connected"
                           and p["restarts"] >= 1, what="an ICE restart while cut")
    # Restored: frames flow again, in the same call, after an ICE restart.
    ada.expect_remote_video_playing(bob_id, timeout=30)
    bob.expect_remote_video_playing(ada_id, timeout=30)
    ada.expect_remote_colour(bob_id, BLUE)
    assert ada.stats()["callId"] == call_id
    restarts = ada.stats()["peers"][bob_id]["restarts"] + bob.stats()["peers"][ada_id]["restarts"]
    assert restarts >= 1
    ada.expect_in_call_with(bob_id)


def test_a_dropped_signaling_connection_resumes_the_call(videochat_user, names):
    ada = videochat_user(names("Ada"), colour=RED)
    bob = videochat_user(names("Bob"), colour=BLUE)
    _, bob_id = answered_call(ada, bob, caller_name=names("Ada"), callee_name=names("Bob"))
    ada.expect_remote_video_playing(bob_id)
    ada.watch(bob_id)

    # Ada's socket drops (the transport closes); the client reconnects by itself and
    # takes the call back within the server's reconnect grace.
    ada.element.evaluate("el => el._signaling._socket.io.engine.close()")
    ada.expect_resumed(timeout=15)
    ada.expect_remote_video_playing(bob_id)
    # The call is the server's again: Ada's hang-up from her new connection reaches
    # Bob at once (without the resume, the server would refuse it).
    ada.hang_up()
    bob.expect_status("hung up", timeout=3)
    bob.expect_idle()


def test_a_call_survives_losing_signaling_and_media_together(example_site, videochat_user,
                                                            names):
    # Everything is cut for a while (a Wi-Fi switch): both browsers lose the server
    # and each other; offers made meanwhile are lost. When the network is back they
    # reconnect, resume the call, renegotiate, and media flows in the same call.
    ada = videochat_user(names("Ada"), colour=RED)
    bob = videochat_user(names("Bob"), colour=BLUE)
    ada_id, bob_id = answered_call(ada, bob, caller_name=names("Ada"), callee_name=names("Bob"))
    ada.expect_remote_video_playing(bob_id)
    call_id = ada.stats()["callId"]
    for page in (ada, bob):
        page.watch(ada_id if page is bob else bob_id)

    with cut_network(keep_port=None):
        for page, peer in ((ada, bob_id), (bob, ada_id)):
            expect(page.element.locator(".vc-dot")).not_to_have_class("vc-dot vc-online",
                                                                      timeout=30000)
            _wait_for_peer(page, peer, lambda p: p["restarts"] >= 1, what="an ICE restart")
    for page, peer in ((ada, bob_id), (bob, ada_id)):
        page.expect_resumed(timeout=30)
        page.expect_remote_video_playing(peer, timeout=30)
    ada.expect_remote_colour(bob_id, BLUE)
    bob.expect_remote_colour(ada_id, RED)
    assert ada.stats()["callId"] == bob.stats()["callId"] == call_id
    bob.hang_up()
    ada.expect_status("hung up", timeout=5)


@pytest.fixture
def restartable_site() -> Iterator[LiveServer]:
    """The example site on a fixed port with a fixed secret key (sessions stay valid
    across a restart) and a reconnect grace long enough for both browsers."""
    env = {"VIDEOCHAT_ICE_SERVERS": "[]", "SECRET_KEY": "restart-test-" + "k" * 20,
           "VIDEOCHAT_RECONNECT_GRACE": "20"}
    server = LiveServer(example_site_command(), env=env).start()
    yield server
    server.stop()


def test_a_call_survives_a_server_restart(restartable_site, videochat_launch, tmp_path, names):
    people = []
    for name, colour in ((names("Ada"), RED), (names("Bob"), BLUE)):
        video = write_solid_y4m(tmp_path / f"{len(people)}.y4m", colour)
        page = videochat_launch(video_file=video).new_context().new_page()
        sign_in_with_form(page, restartable_site.url, name)
        people.append(VideoChatPage(page))
    ada, bob = people
    ada_id, bob_id = answered_call(ada, bob, caller_name=names("Ada"), callee_name=names("Bob"))
    ada.expect_remote_video_playing(bob_id)
    bob.expect_remote_video_playing(ada_id)
    ada.watch(bob_id)
    bob.watch(ada_id)

    restartable_site.kill()
    # Peer to peer: the media goes on without the server.
    for page in (ada, bob):
        expect(page.element.locator(".vc-dot")).not_to_have_class("vc-dot vc-online")
    ada.page.wait_for_timeout(1500)
    restartable_site.restart()
    for page in (ada, bob):
        page.expect_resumed(timeout=20)
        expect(page.element.locator(".vc-dot")).to_have_class("vc-dot vc-online")

    # Frames grew the whole time, on the same connection, and it never dropped.
    for page in (ada, bob):
        page.expect_one_connection_throughout(min_samples=0, min_growth=61)
    # The re-announced call is the server's: a hang-up reaches the other side.
    bob.hang_up()
    ada.expect_status("hung up", timeout=5)
    ada.expect_idle()
    bob.expect_idle()

