"""1:1 calls between real browsers: ring, accept, media both ways, hang up, decline,
several tabs, hostile names, refused camera."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from flask_videochat.testing import BLUE, GREEN, RED, answered_call


@pytest.mark.parametrize("example_site", ["eventlet", "threading"], indirect=True)
def test_call_accept_media_flows_both_ways_then_hang_up(example_site, videochat_user, names):
    ada = videochat_user(names("Ada"), colour=RED)
    bob = videochat_user(names("Bob"), colour=BLUE)
    bob_id = ada.user_id_of(names("Bob"))
    ada_id = bob.user_id_of(names("Ada"))

    ada.call(bob_id)
    expect(ada.hangup_button).to_be_visible()
    ada.expect_status("Ringing")
    bob.expect_ringing(names("Ada"))
    bob.accept()
    bob.expect_not_ringing()

    ada.expect_in_call_with(bob_id)
    bob.expect_in_call_with(ada_id)
    ada.expect_remote_video_playing(bob_id)
    bob.expect_remote_video_playing(ada_id)
    ada.expect_remote_colour(bob_id, BLUE)
    bob.expect_remote_colour(ada_id, RED)

    bob.hang_up()
    ada.expect_idle()
    bob.expect_idle()
    ada.expect_status("Call ended")
    # Both are available again: each can call the other.
    expect(ada.call_button(bob_id)).to_be_enabled()
    expect(bob.call_button(ada_id)).to_be_enabled()
    assert ada.stats()["state"] == "idle"


def test_decline_reaches_the_caller(videochat_user, names):
    ada = videochat_user(names("Ada"), colour=RED)
    bob = videochat_user(names("Bob"), colour=BLUE)
    bob_id = ada.user_id_of(names("Bob"))

    ada.call(bob_id)
    bob.expect_ringing(names("Ada"))
    # A background tab shows the call in its title.
    expect(bob.page).to_have_title(f"{names('Ada')} is calling…")
    bob.decline()
    expect(bob.page).not_to_have_title(f"{names('Ada')} is calling…")
    bob.expect_not_ringing()
    ada.expect_status("declined")
    ada.expect_idle()
    bob.expect_idle()


def test_callee_with_two_tabs_both_ring_first_accept_wins(videochat_user, names):
    ada = videochat_user(names("Ada"), colour=RED)
    bob = videochat_user(names("Bob"), colour=BLUE)
    bob_tab2 = type(bob)(bob.page.context.new_page())
    bob_tab2.page.goto(bob.page.url)
    bob_id = ada.user_id_of(names("Bob"))
    ada_id = bob_tab2.user_id_of(names("Ada"))

    ada.call(bob_id)
    bob.expect_ringing(names("Ada"))
    bob_tab2.expect_ringing(names("Ada"))
    bob_tab2.accept()

    bob.expect_not_ringing()
    bob.expect_idle()
    bob_tab2.expect_in_call_with(ada_id)
    ada.expect_in_call_with(bob_id)
    ada.expect_remote_video_playing(bob_id)
    # Bob shows once in Ada's list although he has two tabs.
    expect(ada.user_named(names("Bob"))).to_have_count(1)


def test_hostile_display_name_is_shown_as_text(videochat_user, names):
    hostile = "<img src=x onerror=alert(1)>"
    dialogs: list[str] = []
    ada = videochat_user(names("Ada"), colour=RED)
    ada.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    mallory = videochat_user(hostile + names(""), colour=GREEN)
    mallory_id = ada.user_id_of(hostile)

    expect(ada.user(mallory_id)).to_contain_text(hostile)
    mallory.call(mallory.user_id_of(names("Ada")))
    ada.expect_ringing(hostile)
    expect(ada.incoming).to_contain_text(hostile)
    assert ada.element.locator("img").count() == 0
    assert dialogs == []
    ada.decline()


def test_refused_camera_shows_a_clear_message_and_still_receives(videochat_user, names):
    ada = videochat_user(names("Ada"), colour=RED)
    # Bob allowed his microphone but blocked his camera.
    bob = videochat_user(names("Bob"), media_access="site-settings", permissions=["microphone"])
    bob_id = ada.user_id_of(names("Bob"))
    ada_id = bob.user_id_of(names("Ada"))

    ada.call(bob_id)
    bob.expect_ringing(names("Ada"))
    # Told while it rings, before accepting.
    expect(bob.error).to_be_visible()
    expect(bob.error).to_contain_text("Camera access was refused")
    bob.accept()
    bob.expect_in_call_with(ada_id)
    ada.expect_in_call_with(bob_id)
    # Bob still sees and hears Ada, and Ada hears Bob.
    bob.expect_remote_video_playing(ada_id)
    bob.expect_remote_colour(ada_id, RED)
    ada.expect_remote_audio_playing(bob_id)
    expect(bob.error).to_contain_text("Camera access was refused")


def test_refused_camera_and_microphone_shows_a_clear_message(videochat_user, names):
    ada = videochat_user(names("Ada"), colour=RED)
    bob = videochat_user(names("Bob"), media_access="denied")
    bob_id = ada.user_id_of(names("Bob"))

    ada.call(bob_id)
    bob.expect_ringing(names("Ada"))
    expect(bob.error).to_be_visible()
    expect(bob.error).to_contain_text("Camera and microphone access was refused")
    # Bob can still answer (to receive only); the call goes on until hung up.
    bob.accept()
    bob.expect_not_ringing()
    expect(bob.hangup_button).to_be_visible()
    ada.expect_status(names("Bob"))
    ada.hang_up()
    bob.expect_idle()
    ada.expect_idle()


def test_a_visitor_who_is_not_signed_in_is_asked_to_sign_in(videochat_launch, example_site):
    page = videochat_launch().new_context().new_page()
    page.goto(example_site.url + "/")
    widget = page.locator("video-chat")
    expect(widget.get_by_test_id("videochat-status")).to_have_text("Sign in to make video calls.")
    widget.get_by_role("link", name="Sign in").click()
    expect(page).to_have_url(example_site.url + "/login")
    expect(widget.get_by_test_id("videochat-presence")).to_be_hidden()


def test_mute_and_camera_toggles_disable_the_local_tracks(videochat_user, names):
    ada = videochat_user(names("Ada"), colour=RED)
    bob = videochat_user(names("Bob"), colour=BLUE)
    ada_id, _ = answered_call(ada, bob, caller_name=names("Ada"), callee_name=names("Bob"))

    tracks = "v => v.srcObject.getTracks().filter(t => t.kind === '{}').map(t => t.enabled)"
    mute = ada.element.get_by_test_id("videochat-mute")
    camera = ada.element.get_by_test_id("videochat-camera")
    expect(mute).to_have_attribute("aria-pressed", "false")
    mute.click()
    expect(mute).to_have_attribute("aria-pressed", "true")
    expect(mute).to_have_accessible_name("Unmute microphone")
    assert ada.local_video.evaluate(tracks.format("audio")) == [False]
    camera.click()
    expect(camera).to_have_attribute("aria-pressed", "true")
    assert ada.local_video.evaluate(tracks.format("video")) == [False]
    mute.click()
    camera.click()
    assert ada.local_video.evaluate(tracks.format("audio")) == [True]
    assert ada.local_video.evaluate(tracks.format("video")) == [True]
    bob.expect_remote_video_playing(ada_id)


def test_closing_the_page_ends_the_call_for_the_other_side(videochat_user, names):
    ada = videochat_user(names("Ada"), colour=RED)
    bob = videochat_user(names("Bob"), colour=BLUE)
    _, bob_id = answered_call(ada, bob, caller_name=names("Ada"), callee_name=names("Bob"))

    bob.page.close(run_before_unload=True)
    ada.expect_idle(timeout=2)
    ada.expect_status("hung up")
    ada.expect_offline(bob_id)
