"""Rooms in real browsers: a mesh of three, a full room, leaving, chat, and a 1:1
call growing into a room without dropping the first two."""

from __future__ import annotations

import time

from playwright.sync_api import expect

from flask_videochat.testing import BLUE, GREEN, RED, answered_call

HOSTILE = '<img src=x onerror="window.__pwned=1"> & <b>bold</b>'


def _in_room(videochat_user, name: str, room: str, colour=None):
    person = videochat_user(name, colour=colour, path=f"/videochat/rooms/{room}")
    expect(person.join_button).to_be_enabled()
    return person


def test_three_people_see_each_other_and_a_fourth_finds_the_room_full(
        videochat_user, names, room_name):
    people = {
        "Ada": (_in_room(videochat_user, names("Ada"), room_name, RED), RED),
        "Bob": (_in_room(videochat_user, names("Bob"), room_name, BLUE), BLUE),
        "Cy": (_in_room(videochat_user, names("Cy"), room_name, GREEN), GREEN),
    }
    ids = {}
    for who, (page, _) in people.items():
        page.join()
        expect(page.room).to_be_visible()
        ids[who] = page.own_user_id()

    for who, (page, _) in people.items():
        others = [w for w in people if w != who]
        page.expect_in_room([ids[w] for w in others])
        for other in others:
            page.expect_remote_video_playing(ids[other])
            page.expect_remote_colour(ids[other], people[other][1])
        page.expect_status("In ")

    dan = _in_room(videochat_user, names("Dan"), room_name)
    dan.join()
    expect(dan.error).to_contain_text("full")
    expect(dan.error).to_have_attribute("data-code", "ERR_ROOM_FULL")
    expect(dan.room).to_be_hidden()
    expect(dan.join_button).to_be_visible()
    # Nobody in the room saw Dan: a join the server refused announces nothing. (The
    # refusal reached Dan; give any stray announcement a moment to arrive too.)
    ada = people["Ada"][0]
    ada.page.wait_for_timeout(500)
    expect(ada.tile()).to_have_count(2)
    expect(ada.room.get_by_test_id("videochat-participant")).to_have_count(3)


def test_a_member_who_leaves_disappears_for_the_others_within_2_s(
        videochat_user, names, room_name):
    ada = _in_room(videochat_user, names("Ada"), room_name, RED)
    bob = _in_room(videochat_user, names("Bob"), room_name, BLUE)
    cy = _in_room(videochat_user, names("Cy"), room_name, GREEN)
    for page in (ada, bob, cy):
        page.join()
    ids = [p.own_user_id() for p in (ada, bob, cy)]
    ada.expect_in_room(ids[1:])
    bob.expect_in_room([ids[0], ids[2]])
    cy.expect_in_room(ids[:2])
    bob.expect_remote_video_playing(ids[2])

    left_at = time.monotonic()
    cy.leave()
    ada.expect_no_tile(ids[2], timeout=2)
    bob.expect_no_tile(ids[2], timeout=2)
    assert time.monotonic() - left_at < 2.5
    expect(cy.room).to_be_hidden()
    cy.expect_status("You left the room")
    # The two who stay keep their media.
    ada.expect_remote_video_playing(ids[1])
    bob.expect_remote_video_playing(ids[0])

    # Closing the tab is leaving too.
    bob.page.close()
    ada.expect_no_tile(ids[1], timeout=2)
    ada.expect_status("Waiting for others")


def test_chat_reaches_everyone_as_text_and_late_joiners_see_it(
        videochat_user, names, room_name):
    ada = _in_room(videochat_user, names("Ada"), room_name, RED)
    bob = _in_room(videochat_user, names("Bob"), room_name, BLUE)
    cy = _in_room(videochat_user, names("Cy"), room_name, GREEN)
    ada.join()
    bob.join()
    cy.join()
    ada_id, cy_id = (p.own_user_id() for p in (ada, cy))
    bob.expect_in_room([ada_id, cy_id])

    ada.send_chat(HOSTILE)
    ada.expect_chat_message(HOSTILE, sender="You")
    expect(ada.chat_input).to_have_value("")
    for page in (bob, cy):
        page.expect_chat_message(HOSTILE, sender=names("Ada"))
        # Rendered as text: no element was made from it, nothing ran.
        assert page.element.evaluate(
            "el => el.shadowRoot.querySelector('.vc-chat-log img, .vc-chat-log b')") is None
        assert page.page.evaluate("() => window.__pwned") is None
    bob.send_chat("Morning all")
    ada.expect_chat_message("Morning all", sender=names("Bob"))

    # A late joiner sees the recent messages.
    cy.leave()
    cy.expect_status("You left the room")
    cy.join()
    cy.expect_chat_message(HOSTILE, sender=names("Ada"))
    cy.expect_chat_message("Morning all", sender=names("Bob"))
    expect(cy.chat_messages).to_have_count(2)


def test_a_call_grows_to_three_without_dropping_media(videochat_user, names):
    ada = videochat_user(names("Ada"), colour=RED)
    bob = videochat_user(names("Bob"), colour=BLUE)
    cy = videochat_user(names("Cy"), colour=GREEN)
    ada_id, bob_id = answered_call(ada, bob, caller_name=names("Ada"), callee_name=names("Bob"))
    cy_id = ada.user_id_of(names("Cy"))
    ada.expect_remote_video_playing(bob_id)
    bob.expect_remote_video_playing(ada_id)
    ada.send_chat("before the third")

    # From here on, Ada's and Bob's pages sample the frames they decode from each
    # other every 100 ms: a dropped or replaced connection would show as a fall.
    for page, other in ((ada, bob_id), (bob, ada_id)):
        page.watch(other)
    ada.add_participant(cy_id)
    cy.expect_ringing(names("Ada"))
    for page in (ada, bob):
        expect(page.room).to_be_visible()
    cy.accept()

    ada.expect_in_room([bob_id, cy_id])
    bob.expect_in_room([ada_id, cy_id])
    cy.expect_in_room([ada_id, bob_id])
    for page, others in ((ada, {bob_id: BLUE, cy_id: GREEN}),
                         (bob, {ada_id: RED, cy_id: GREEN}),
                         (cy, {ada_id: RED, bob_id: BLUE})):
        for user_id, colour in others.items():
            page.expect_remote_video_playing(user_id)
            page.expect_remote_colour(user_id, colour)
    # The first two never lost each other: one connection throughout, its decoded
    # frames growing and never falling back, and always connected.
    for page in (ada, bob):
        page.expect_one_connection_throughout(min_samples=20, min_growth=31)
    # The chat of the call came along, and the newcomer sees it.
    cy.expect_chat_message("before the third", sender=names("Ada"))


def test_a_member_whose_connection_drops_takes_their_seat_again(
        videochat_user, names, room_name):
    ada = _in_room(videochat_user, names("Ada"), room_name, RED)
    bob = _in_room(videochat_user, names("Bob"), room_name, BLUE)
    ada.join()
    bob.join()
    ada_id, bob_id = (p.own_user_id() for p in (ada, bob))
    ada.expect_remote_video_playing(bob_id)

    # Bob's signaling connection drops (the transport closes, as on a network blip);
    # the Socket.IO client reconnects by itself and takes his seat back: Ada never
    # sees him leave, and the media between them never stops.
    ada.element.evaluate("""el => { window.__left = [];
      el.addEventListener("videochat-member-left", (e) => window.__left.push(e.detail)); }""")
    bob.watch(ada_id)
    bob.element.evaluate("el => el._signaling._socket.io.engine.close()")
    bob.expect_resumed(timeout=15)
    bob.expect_in_room([ada_id], timeout=20)
    ada.expect_in_room([bob_id], timeout=20)
    bob.expect_remote_video_playing(ada_id, timeout=20)
    ada.expect_remote_video_playing(bob_id, timeout=20)
    ada.expect_remote_colour(bob_id, BLUE)
    assert ada.page.evaluate("() => window.__left") == []
