"""In-call controls in real browsers: mute and camera off as the other side sees
them, switching cameras, sharing a screen, joining with less than a camera and a
microphone, and each refused permission."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from flask_videochat.testing import (
    BLUE,
    GREEN,
    RED,
    SECOND_CAMERA_ID,
    SECOND_CAMERA_LABEL,
    answered_call,
)

#: Width / height of a fake camera (320x240 y4m, or Chromium's 640x480 patterns)
#: and of Chromium's fake screen (1280x720).
CAMERA_ASPECT = 4 / 3
SCREEN_ASPECT = 16 / 9

def test_mute_and_camera_off_are_shown_on_the_other_side_and_undone(videochat_user, names):
    ada = videochat_user(names("Ada"), colour=RED)
    bob = videochat_user(names("Bob"), colour=BLUE)
    _, bob_id = answered_call(ada, bob, caller_name=names("Ada"), callee_name=names("Bob"))
    ada.expect_remote_video_playing(bob_id)
    ada.expect_peer_muted(bob_id, False)
    # The connection is rated (loopback: good) on Bob's video.
    expect(ada.quality(bob_id)).to_have_attribute("data-level", "good", timeout=10000)
    expect(ada.quality(bob_id)).to_have_attribute("title", re.compile(r"Good connection · \d+ ms"))
    # The speaker can be chosen where the browser allows it (setSinkId).
    assert ada.element.evaluate("""async el => {
      const out = (await navigator.mediaDevices.enumerateDevices())
        .find((d) => d.kind === "audiooutput" && d.deviceId !== "default");
      if (!out) return "no output device";
      const ok = await el.setSpeaker(out.deviceId);
      const video = el.shadowRoot.querySelector('[data-testid="videochat-remote-video"]');
      return ok && video.sinkId === out.deviceId;
    }""") is True

    bob.element.get_by_test_id("videochat-mute").click()
    ada.expect_peer_muted(bob_id)
    bob.element.get_by_test_id("videochat-camera").click()
    ada.expect_peer_camera_off(bob_id)
    # Not a frozen frame: the picture is covered, Bob's name and words shown.
    expect(ada.element.locator(".vc-placeholder")).to_be_visible()
    expect(ada.element.locator(".vc-placeholder")).to_contain_text(names("Bob"))

    bob.element.get_by_test_id("videochat-mute").click()
    bob.element.get_by_test_id("videochat-camera").click()
    ada.expect_peer_muted(bob_id, False)
    ada.expect_peer_camera_off(bob_id, False)
    ada.expect_remote_video_playing(bob_id)
    ada.expect_remote_colour(bob_id, BLUE)


def test_mute_and_camera_off_are_shown_on_room_tiles(videochat_user, names, room_name):
    ada = videochat_user(names("Ada"), colour=RED, path=f"/videochat/rooms/{room_name}")
    bob = videochat_user(names("Bob"), colour=BLUE, path=f"/videochat/rooms/{room_name}")
    ada.join()
    bob.join()
    bob_id = bob.own_user_id()
    ada.expect_remote_video_playing(bob_id)

    bob.element.evaluate("el => { el.setMicrophoneMuted(true); el.setCameraOff(true); }")
    ada.expect_peer_muted(bob_id)
    ada.expect_peer_camera_off(bob_id)
    participant = ada.room.get_by_test_id("videochat-participant").and_(
        ada.room.locator(f'[data-user-id="{bob_id}"]'))
    expect(participant).to_contain_text("Muted")
    expect(participant).to_contain_text("Camera off")

    bob.element.evaluate("el => { el.setMicrophoneMuted(false); el.setCameraOff(false); }")
    ada.expect_peer_muted(bob_id, False)
    ada.expect_peer_camera_off(bob_id, False)
    ada.expect_remote_colour(bob_id, BLUE)


def test_switching_camera_changes_what_the_other_side_sees(videochat_user, names):
    # Ada has her red camera and a second, green one.
    ada = videochat_user(names("Ada"), colour=RED, second_camera=GREEN)
    bob = videochat_user(names("Bob"), colour=BLUE)
    ada_id, _ = answered_call(ada, bob, caller_name=names("Ada"), callee_name=names("Bob"))
    bob.expect_remote_video_playing(ada_id)
    bob.expect_remote_colour(ada_id, RED)
    bob.watch(ada_id)

    ada.devices_button.click()
    expect(ada.camera_select.locator("option")).to_have_count(2)
    ada.camera_select.select_option(label=SECOND_CAMERA_LABEL)
    bob.expect_remote_colour(ada_id, GREEN)
    expect(ada.camera_select).to_have_value(SECOND_CAMERA_ID)
    # The same call and connection: no renegotiation was needed (replaceTrack).
    bob.expect_remote_video_playing(ada_id)
    bob.expect_one_connection_throughout()
    bob.expect_in_call_with(ada_id)
    # And back.
    ada.camera_select.select_option(index=0)
    bob.expect_remote_colour(ada_id, RED)


def test_screen_share_replaces_the_camera_and_stopping_restores_it(videochat_user, names):
    ada = videochat_user(names("Ada"), colour=RED)
    bob = videochat_user(names("Bob"), colour=BLUE)
    ada_id, _ = answered_call(ada, bob, caller_name=names("Ada"), callee_name=names("Bob"))
    bob.expect_remote_aspect(ada_id, CAMERA_ASPECT)
    bob.expect_remote_colour(ada_id, RED)

    ada.screen_share_button.click()
    expect(ada.screen_share_button).to_have_attribute("aria-pressed", "true")
    bob.expect_remote_aspect(ada_id, SCREEN_ASPECT)
    expect(bob.element.locator(".vc-peer-name")).to_contain_text("presenting")
    bob.expect_remote_video_playing(ada_id)

    ada.screen_share_button.click()
    expect(ada.screen_share_button).to_have_attribute("aria-pressed", "false")
    bob.expect_remote_aspect(ada_id, CAMERA_ASPECT)
    bob.expect_remote_colour(ada_id, RED)
    expect(bob.element.locator(".vc-peer-name")).not_to_contain_text("presenting")


def test_screen_share_in_a_room_is_shown_whole_and_named(videochat_user, names, room_name):
    ada = videochat_user(names("Ada"), colour=RED, path=f"/videochat/rooms/{room_name}")
    bob = videochat_user(names("Bob"), colour=BLUE, path=f"/videochat/rooms/{room_name}")
    ada.join()
    bob.join()
    ada_id = ada.own_user_id()
    bob.expect_remote_video_playing(ada_id)

    ada.screen_share_button.click()
    bob.expect_remote_aspect(ada_id, SCREEN_ASPECT)
    expect(bob.tile(ada_id)).to_contain_text("(presenting)")
    expect(bob.tile(ada_id).locator("video")).to_have_css("object-fit", "contain")
    participant = bob.room.get_by_test_id("videochat-participant").and_(
        bob.room.locator(f'[data-user-id="{ada_id}"]'))
    expect(participant).to_contain_text("Presenting")

    ada.screen_share_button.click()
    bob.expect_remote_aspect(ada_id, CAMERA_ASPECT)
    bob.expect_remote_colour(ada_id, RED)
    expect(bob.tile(ada_id)).not_to_contain_text("(presenting)")


def test_audio_only_and_receive_only_joins_work(videochat_user, names, room_name):
    path = f"/videochat/rooms/{room_name}"
    ada = videochat_user(names("Ada"), colour=RED, path=path)
    bob = videochat_user(names("Bob"), colour=BLUE, path=path)
    cy = videochat_user(names("Cy"), colour=GREEN, path=path)

    # The device check before joining lists the devices and meters the microphone
    # (Chromium's fake microphone beeps).
    expect(ada.camera_select).to_be_enabled()
    expect(ada.microphone_select).to_be_enabled()
    meter = ada.element.get_by_test_id("videochat-mic-level")
    ada.page.wait_for_function(
        "m => Number(m.getAttribute('aria-valuenow')) > 0", arg=meter.element_handle(),
        timeout=10000)

    # Bob joins with his microphone only, Cy with nothing: both are told so.
    bob.use_camera.uncheck()
    expect(bob.element.get_by_test_id("videochat-device-summary")).to_have_text(
        "Audio only: you will be heard but not seen.")
    cy.use_camera.uncheck()
    cy.use_microphone.uncheck()
    expect(cy.element.get_by_test_id("videochat-device-summary")).to_contain_text("Receive only")
    for page in (ada, bob, cy):
        page.join()
    ada_id, bob_id, cy_id = (p.own_user_id() for p in (ada, bob, cy))
    for page, others in ((ada, [bob_id, cy_id]), (bob, [ada_id, cy_id]), (cy, [ada_id, bob_id])):
        page.expect_in_room(others)

    # Everyone sees and hears Ada; Ada and Cy hear Bob, who shows as camera off.
    for page in (bob, cy):
        page.expect_remote_video_playing(ada_id)
        page.expect_remote_colour(ada_id, RED)
    for page in (ada, cy):
        page.expect_remote_audio_playing(bob_id)
        page.expect_peer_camera_off(bob_id)
    # Cy sends nothing: a tile with no picture and the participant list says so.
    ada.expect_peer_camera_off(cy_id)
    participant = ada.room.get_by_test_id("videochat-participant").and_(
        ada.room.locator(f'[data-user-id="{cy_id}"]'))
    expect(participant).to_contain_text("Muted")
    expect(cy.element.get_by_test_id("videochat-mute")).to_be_disabled()


def test_refused_microphone_shows_its_own_message(videochat_user, names):
    ada = videochat_user(names("Ada"), colour=RED)
    # Bob allowed his camera but blocked his microphone.
    bob = videochat_user(names("Bob"), colour=BLUE, media_access="site-settings",
                         permissions=["camera"])
    bob_id = ada.user_id_of(names("Bob"))
    ada_id = bob.user_id_of(names("Ada"))
    ada.call(bob_id)
    bob.expect_ringing(names("Ada"))
    expect(bob.error).to_contain_text("Microphone access was refused")
    expect(bob.error).to_have_attribute("data-code", "ERR_MICROPHONE_DENIED")
    bob.accept()
    # Bob is seen, not heard; he hears Ada.
    ada.expect_remote_colour(bob_id, BLUE)
    ada.expect_peer_muted(bob_id)
    bob.expect_remote_audio_playing(ada_id)
