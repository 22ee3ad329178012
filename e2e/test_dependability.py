"""Every call connects, or says why within seconds, on the example site's defaults
(eventlet, rate limits on, in memory): back-to-back calls answered at once, the
other side always ending on someone's latest mute / camera state however fast they
flip it, a call whose media cannot get through, and a refusal for a rate limit in
words."""

from __future__ import annotations

import os
import re
import time

import pytest
from playwright.sync_api import expect

from flask_videochat.testing import (
    BLUE,
    GREEN,
    RED,
    LiveServer,
    NetworkCut,
    example_site_command,
    only_loopback,
)

#: Calls in the back-to-back test, and the people taking turns making them: four,
#: so that nobody rings more than ten people a minute (the default limit).
CALLS = 30
PEOPLE = ("Ada", "Bob", "Cy", "Dan")

#: In a page: flip the microphone and camera ``count`` times, as fast as a person
#: hammering the buttons (a few ms apart), ending with ``final``.
_FLIP_JS = """async (el, [count, final]) => {
  let mic = true, cam = true;
  for (let i = 0; i < count; i++) {
    if (i % 2) { mic = !mic; el.setMicrophoneMuted(!mic); }
    else { cam = !cam; el.setCameraOff(!cam); }
    await new Promise((r) => setTimeout(r, 2 + (i % 5)));
  }
  el.setMicrophoneMuted(!final.mic);
  el.setCameraOff(!final.cam);
}"""


def test_thirty_back_to_back_calls_answered_at_once_all_connect(videochat_user, names):
    colours = (RED, BLUE, GREEN, (200, 200, 0))
    people = [videochat_user(names(n), colour=c) for n, c in zip(PEOPLE, colours)]
    ids = [people[0].user_id_of(names(n)) for n in PEOPLE[1:]]
    ids.insert(0, people[1].user_id_of(names(PEOPLE[0])))
    for page, own in zip(people, ids):
        for other in ids:
            if other != own:
                page.expect_online(other)
    failures = []
    for n in range(CALLS):
        caller_at, callee_at = n % len(people), (n + 1) % len(people)
        caller, callee = people[caller_at], people[callee_at]
        caller.call(ids[callee_at])
        callee.expect_ringing()
        callee.accept()  # as soon as it rings
        try:
            caller.expect_remote_video_playing(ids[callee_at], timeout=10, interval=0.3)
            callee.expect_remote_video_playing(ids[caller_at], timeout=10, interval=0.3)
        except AssertionError as exc:
            failures.append(f"call {n + 1}: {exc}")
        # Hang up on alternate sides.
        (caller if n % 2 else callee).hang_up()
        caller.expect_idle()
        callee.expect_idle()
    assert failures == [], f"{len(failures)} of {CALLS} calls did not connect: {failures}"


@pytest.mark.parametrize("final", [{"mic": False, "cam": True}, {"mic": True, "cam": False}])
def test_the_other_side_ends_on_the_latest_state_however_fast_it_flips(
        videochat_user, names, final):
    """150 flips in a few seconds (more than the 120 a minute ``call.media`` may
    carry): the other side shows the last one, and keeps showing it."""
    ada = videochat_user(names("Ada"), colour=RED)
    bob = videochat_user(names("Bob"), colour=BLUE)
    bob_id = ada.user_id_of(names("Bob"))
    ada.call(bob_id)
    bob.expect_ringing()
    bob.accept()
    ada.expect_remote_video_playing(bob_id)

    bob.element.evaluate(_FLIP_JS, [150, final])

    for _ in range(2):  # and nothing older comes after it
        ada.expect_peer_muted(bob_id, not final["mic"])
        ada.expect_peer_camera_off(bob_id, not final["cam"])
        ada.page.wait_for_timeout(1500)
    expect(bob.error).to_be_hidden()


def test_room_tiles_end_on_the_latest_state_however_fast_it_flips(
        videochat_user, names, room_name):
    path = f"/videochat/rooms/{room_name}"
    ada = videochat_user(names("Ada"), colour=RED, path=path)
    bob = videochat_user(names("Bob"), colour=BLUE, path=path)
    ada.join()
    bob.join()
    bob_id = bob.own_user_id()
    ada.expect_remote_video_playing(bob_id)

    final = {"mic": False, "cam": False}
    bob.element.evaluate(_FLIP_JS, [150, final])

    for _ in range(2):
        ada.expect_peer_muted(bob_id)
        ada.expect_peer_camera_off(bob_id)
        ada.page.wait_for_timeout(1500)
    participant = ada.room.get_by_test_id("videochat-participant").and_(
        ada.room.locator(f'[data-user-id="{bob_id}"]'))
    expect(participant).to_contain_text("Muted")
    expect(participant).to_contain_text("Camera off")


def test_a_call_whose_media_cannot_get_through_ends_in_words_on_both_sides(
        example_site, videochat_user, names):
    if os.geteuid() != 0 or not only_loopback():
        pytest.fail("needs root in the loopback-only network namespace of scripts/test")
    ada = videochat_user(names("Ada"), colour=RED)
    bob = videochat_user(names("Bob"), colour=BLUE)
    bob_id = ada.user_id_of(names("Bob"))
    with NetworkCut(keep_port=example_site.port):  # signaling only: no ICE path
        started = time.monotonic()
        ada.call(bob_id)
        bob.expect_ringing()
        bob.accept()
        for page, other in ((ada, names("Bob")), (bob, names("Ada"))):
            expect(page.error).to_have_text(
                f"Could not connect to {other}. Try again, or check your network.",
                timeout=25_000)
            expect(page.error).to_have_attribute("data-code", "ERR_CONNECT_FAILED")
            page.expect_idle()
        took = time.monotonic() - started
    assert took < 20, f"told after {took:.1f} s"
    # Once the network is back, the next call connects.
    ada.call(bob_id)
    bob.expect_ringing()
    bob.accept()
    ada.expect_remote_video_playing(bob_id)
    expect(ada.error).to_be_hidden()


def test_a_room_member_who_cannot_be_reached_is_named_on_the_tile_until_reached(
        example_site, videochat_user, names, room_name):
    if os.geteuid() != 0 or not only_loopback():
        pytest.fail("needs root in the loopback-only network namespace of scripts/test")
    path = f"/videochat/rooms/{room_name}"
    ada = videochat_user(names("Ada"), colour=RED, path=path)
    bob = videochat_user(names("Bob"), colour=BLUE, path=path)
    with NetworkCut(keep_port=example_site.port):
        ada.join()
        bob.join()
        ada_id, bob_id = (p.own_user_id() for p in (ada, bob))
        for page, other_id, other in ((ada, bob_id, names("Bob")), (bob, ada_id, names("Ada"))):
            words = page.tile(other_id).get_by_test_id("videochat-connect-failed")
            expect(words).to_have_text(
                f"Could not connect to {other}. Try again, or check your network.",
                timeout=25_000)
            expect(page.error).to_have_attribute("data-code", "ERR_CONNECT_FAILED")
            expect(page.room).to_be_visible()  # the room goes on
    # The network is back: the ICE restarts that go on every 3 s connect them.
    ada.expect_remote_video_playing(bob_id, timeout=15)
    ada.expect_remote_colour(bob_id, BLUE)
    bob.expect_remote_video_playing(ada_id, timeout=15)
    expect(ada.tile(bob_id).get_by_test_id("videochat-connect-failed")).to_have_count(0)


def test_calling_too_often_says_when_you_can_call_again(videochat_user, names):
    ada = videochat_user(names("Ada"))
    bob = videochat_user(names("Bob"))
    bob_id = ada.user_id_of(names("Bob"))
    button = ada.call_button(bob_id)
    for _ in range(10):  # the default limit: ten calls a minute
        ada.call(bob_id)
        bob.expect_ringing()
        ada.hang_up()
        bob.expect_not_ringing()
        expect(button).to_be_enabled()

    ada.call(bob_id)

    expect(ada.error).to_have_attribute("data-code", "ERR_RATE_LIMITED")
    expect(ada.error).to_contain_text("You have called too many people in a short time.")
    first = _seconds(ada.error.inner_text())
    assert 1 <= first <= 60, first
    expect(button).to_be_disabled()
    expect(button).to_have_text(f"Call in {first} s")
    # It counts down, second by second, on the button and in the words (to the
    # end when it was the last second).
    expect(button).not_to_have_text(f"Call in {first} s", timeout=2500)
    text = button.inner_text()
    if text != "Call":
        # The next second (or the one after, when this test's process was slower
        # than a second to look: the countdown follows the clock).
        now = _seconds(text)
        assert first - 2 <= now <= first - 1, (first, now)
        expect(ada.error).to_contain_text(re.compile(rf"in ({now}|{now - 1}) seconds?"))
    else:
        assert first <= 2, first
        expect(button).to_have_text("Call")
        expect(ada.error).to_be_hidden()
    expect(ada.status).not_to_contain_text("could not")
    bob.expect_not_ringing()


@pytest.fixture(scope="module")
def tight_site():
    """The example site with a tight limit on calling (2 calls in 5 s), so that a
    test can see the wait end: the default (10 a minute) makes one wait up to a
    minute."""
    env = {"VIDEOCHAT_ICE_SERVERS": "[]",
           "VIDEOCHAT_RATE_LIMITS": '{"call.invite": "2/5 seconds"}'}
    with LiveServer(example_site_command(), env=env) as site:
        yield site


def test_once_the_wait_is_over_calling_works_again(videochat_user, tight_site, names):
    ada = videochat_user(names("Ada"), base_url=tight_site.url)
    bob = videochat_user(names("Bob"), base_url=tight_site.url)
    bob_id = ada.user_id_of(names("Bob"))
    button = ada.call_button(bob_id)
    for _ in range(2):
        ada.call(bob_id)
        bob.expect_ringing()
        ada.hang_up()
        bob.expect_not_ringing()
    ada.call(bob_id)
    expect(ada.error).to_have_attribute("data-code", "ERR_RATE_LIMITED")
    expect(button).to_have_text(re.compile(r"^Call in [1-5] s$"))
    expect(button).to_be_disabled()

    expect(button).to_have_text("Call", timeout=7000)
    expect(button).to_be_enabled()
    expect(ada.error).to_be_hidden()
    ada.call(bob_id)
    bob.expect_ringing()


def _seconds(text: str) -> int:
    match = re.search(r"(\d+) (second|minute)", text) or re.search(r"in (\d+) s", text)
    assert match, text
    return int(match.group(1)) * (60 if "minute" in match.group(0) else 1)


def test_a_click_on_call_is_not_lost_when_someone_elses_status_changes(videochat_user, names):
    """Pressing Call while the online list updates (someone else's call starts or
    ends): the press and the release land on the same button, and the call rings.
    (The list used to be rebuilt on every change: the button under the pointer was
    replaced between press and release, and the click never happened.)"""
    ada = videochat_user(names("Ada"))
    bob = videochat_user(names("Bob"))
    cy = videochat_user(names("Cy"))
    dan = videochat_user(names("Dan"))
    bob_id, cy_id, dan_id = (ada.user_id_of(names(n)) for n in ("Bob", "Cy", "Dan"))
    box = ada.call_button(bob_id).bounding_box()
    assert box is not None
    ada.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    ada.page.mouse.down()
    cy.call(dan_id)  # Cy and Dan are now ringing: Ada's list changes under her
    dan.expect_ringing(names("Cy"))
    expect(ada.user(cy_id)).to_have_attribute("data-status", "ringing")
    ada.page.mouse.up()
    bob.expect_ringing(names("Ada"))
