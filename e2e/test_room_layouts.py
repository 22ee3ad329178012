"""Room layouts in real browsers, three people in a room: grid and speaker view,
pinning, the speaker highlighted from the fake microphone's sound, a volume per
person, and a layout that keeps Join, the controls and whole names in sight on a
laptop (1280x800) and a phone (390x844)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from flask_videochat.testing import BLUE, GREEN, RED

LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def _room_of_three(videochat_user, names, room_name, *, full_names=False, before_joining=None):
    """Ada, Bob and Cy in one room, each seeing the other two play (``before_joining``
    is called with each in the lobby)."""
    who = ("Ada Lovelace", "Bob Kahn", "Cy Twombly-Smith") if full_names else ("Ada", "Bob", "Cy")
    people = []
    for name, colour in zip(who, (RED, BLUE, GREEN)):
        person = videochat_user(names(name), colour=colour, path=f"/videochat/rooms/{room_name}")
        expect(person.join_button).to_be_enabled()
        if before_joining:
            before_joining(person)
        people.append(person)
    for person in people:
        person.join()
    ids = [p.own_user_id() for p in people]
    for i, person in enumerate(people):
        others = [x for j, x in enumerate(ids) if j != i]
        person.expect_in_room(others)
        for other in others:
            person.expect_remote_video_playing(other)
    return people, ids


def _width(locator) -> float:
    box = locator.bounding_box()
    assert box is not None
    return box["width"]


def test_speaker_view_and_pinning_make_one_tile_big(videochat_user, names, room_name):
    (ada, _, _), (ada_id, bob_id, cy_id) = _room_of_three(videochat_user, names, room_name)
    expect(ada.layout_button("grid")).to_have_attribute("aria-pressed", "true")
    ada.expect_big(None)
    widths = [_width(t) for t in (ada.self_tile, ada.tile(bob_id), ada.tile(cy_id))]
    assert max(widths) - min(widths) < 2, widths

    ada.layout_button("speaker").click()
    expect(ada.layout_button("speaker")).to_have_attribute("aria-pressed", "true")
    expect(ada.big_tile()).to_have_count(1)
    big = ada.big_tile().get_attribute("data-user-id")
    assert big in (bob_id, cy_id), "the big tile is someone else's"
    small = cy_id if big == bob_id else bob_id
    assert _width(ada.big_tile()) > 1.5 * _width(ada.tile(small))

    # Back to the grid, then pin Cy from his tile: he is big at once.
    ada.layout_button("grid").click()
    ada.expect_big(None)
    ada.pin_button(cy_id).click()
    ada.expect_big(cy_id)
    expect(ada.pin_button(cy_id)).to_have_attribute("aria-pressed", "true")
    expect(ada.pin_button(cy_id, in_list=True)).to_have_attribute("aria-label", f"Unpin {names('Cy')}")
    assert _width(ada.tile(cy_id)) > 1.5 * _width(ada.tile(bob_id))
    # Pinning Bob from the list moves the big tile to him.
    ada.pin_button(bob_id, in_list=True).click()
    ada.expect_big(bob_id)
    expect(ada.pin_button(cy_id)).to_have_attribute("aria-pressed", "false")

    # Unpinned: the grid chosen before comes back, every tile the same size.
    ada.pin_button(bob_id, in_list=True).click()
    ada.expect_big(None)
    expect(ada.layout_button("grid")).to_have_attribute("aria-pressed", "true")
    expect(ada.pin_button(bob_id)).to_have_attribute("aria-pressed", "false")
    widths = [_width(t) for t in (ada.self_tile, ada.tile(bob_id), ada.tile(cy_id))]
    assert max(widths) - min(widths) < 2, widths
    assert ada.self_tile.get_attribute("data-user-id") == ada_id


def test_the_one_who_speaks_is_highlighted_and_big_in_speaker_view(
        videochat_user, names, room_name):
    (ada, bob, cy), (ada_id, bob_id, cy_id) = _room_of_three(videochat_user, names, room_name)
    # Chromium's fake microphone beeps: only Bob's is on, so only Bob is heard.
    for person in (ada, cy):
        person.element.evaluate("el => el.setMicrophoneMuted(true)")
    ada.expect_peer_muted(cy_id)
    ada.expect_speaking(bob_id)
    ada.expect_speaking(cy_id, False)
    ada.expect_speaking(ada_id, False)
    expect(ada.participant(bob_id)).to_have_attribute("data-speaking", "true")
    cy.expect_speaking(bob_id)
    # Bob hears nobody else, and sees himself highlighted.
    bob.expect_speaking(bob_id)
    bob.expect_speaking(ada_id, False)

    ada.layout_button("speaker").click()
    ada.expect_big(bob_id)

    # Bob stops and Cy speaks: the highlight and the big tile move to Cy.
    bob.element.evaluate("el => el.setMicrophoneMuted(true)")
    cy.element.evaluate("el => el.setMicrophoneMuted(false)")
    ada.expect_speaking(cy_id)
    ada.expect_speaking(bob_id, False)
    ada.expect_big(cy_id)
    # A pinned person stays big over who speaks.
    ada.pin_button(bob_id).click()
    ada.expect_big(bob_id)
    ada.expect_speaking(cy_id)


def test_a_volume_slider_sets_that_persons_volume_for_you_only(
        videochat_user, names, room_name):
    (ada, bob, _), (ada_id, bob_id, cy_id) = _room_of_three(videochat_user, names, room_name)
    slider = ada.volume_slider(bob_id)
    expect(slider).to_have_value("100")
    expect(slider).to_have_attribute("aria-label", f"Volume of {names('Bob')}")
    expect(ada.participant(ada_id).get_by_test_id("videochat-volume")).to_have_count(0)

    slider.fill("30")
    volume = "v => [v.volume, v.muted]"
    assert ada.remote_video(bob_id).evaluate(volume) == [0.3, False]
    assert ada.remote_video(cy_id).evaluate(volume) == [1, False]
    slider.fill("0")
    assert ada.remote_video(bob_id).evaluate(volume) == [0, True]
    expect(ada.participant(bob_id).locator(".vc-volume .vc-icon")).to_have_attribute("data-icon", "volume-x")
    # Others still hear Bob: the volume is Ada's alone.
    assert bob.remote_video(ada_id).evaluate(volume) == [1, False]
    slider.fill("80")
    assert ada.remote_video(bob_id).evaluate(volume) == [0.8, False]


#: Names in the participant list (and "(you)") are never cut: the row wraps. A tile's
#: name may end in an ellipsis on a narrow tile, as long as its tooltip is the whole
#: name (how long a name is depends on the test's number: "Cy Twombly-Smith #84").
_CUT_JS = """(el) => [...el.shadowRoot.querySelectorAll('.vc-person .vc-name, .vc-person .vc-you, .vc-tile-name')]
  .filter((e) => e.getClientRects().length)
  .map((e) => ({text: e.textContent, cut: e.scrollWidth > e.clientWidth
    && !(e.matches('.vc-tile-name') && getComputedStyle(e).textOverflow === 'ellipsis'
         && e.title === e.textContent)}))"""


def _in_view(person, locator) -> None:
    """``locator`` lies wholly inside the window, as it is (nothing scrolled)."""
    box = locator.bounding_box()
    size = person.page.viewport_size
    assert box is not None and size is not None
    assert box["x"] >= 0 and box["y"] >= 0, box
    assert box["x"] + box["width"] <= size["width"] + 0.5, (box, size)
    assert box["y"] + box["height"] <= size["height"] + 0.5, (box, size)


def _names_whole(person) -> list[dict[str, Any]]:
    names = person.element.evaluate(_CUT_JS)
    assert len(names) >= 5, names  # three rows and two remote tiles (and "(you)")
    assert [n for n in names if n["cut"]] == [], names
    return names


def test_join_controls_and_whole_names_in_sight_on_a_laptop_and_a_phone(
        videochat_user, names, room_name):
    (ada, bob, cy), (ada_id, bob_id, cy_id) = _room_of_three(
        videochat_user, names, room_name, full_names=True, before_joining=_join_in_sight)
    # Icons next to the names: Bob muted, Cy's camera off, and Ada muted too.
    bob.element.evaluate("el => el.setMicrophoneMuted(true)")
    cy.element.evaluate("el => el.setCameraOff(true)")
    ada.element.evaluate("el => el.setMicrophoneMuted(true)")
    ada.expect_peer_muted(bob_id)
    ada.expect_peer_camera_off(cy_id)
    expect(ada.participant(bob_id).locator('[data-icon="mic-off"]')).to_be_visible()
    expect(ada.participant(cy_id).locator('[data-icon="video-off"]')).to_be_visible()
    expect(ada.participant(cy_id)).to_contain_text("Camera off")  # in words, for screen readers
    for size in (LAPTOP, PHONE):
        ada.page.set_viewport_size(size)
        for layout in ("grid", "speaker"):
            ada.layout_button(layout).click()
            _in_view(ada, ada.leave_button)
            _in_view(ada, ada.element.get_by_test_id("videochat-mute"))
            _names_whole(ada)
        you = ada.participant(ada_id).locator(".vc-you")
        expect(you).to_have_text("(you)")
        _in_view(ada, you)


def _join_in_sight(person) -> None:
    for size in (LAPTOP, PHONE):
        person.page.set_viewport_size(size)
        _in_view(person, person.join_button)
    person.page.set_viewport_size(LAPTOP)


def test_a_room_in_the_sidebar_keeps_its_controls_in_sight(videochat_user, names, room_name):
    path = f"/videochat/rooms/{room_name}"
    ada = videochat_user(names("Ada Lovelace"), colour=RED, path=path)
    cy = videochat_user(names("Cy Twombly-Smith"), colour=GREEN, path=path)
    for person in (ada, cy):
        expect(person.join_button).to_be_enabled()
        person.join()
    ada_id, cy_id = (p.own_user_id() for p in (ada, cy))
    ada.expect_in_room([cy_id])

    # A different person for each size: each arrives on a page never scrolled.
    for size, name in ((LAPTOP, names("Bob Kahn")), (PHONE, names("Dan Brickley"))):
        bob = videochat_user(name, colour=BLUE)  # the home page, widget in its sidebar
        bob.page.set_viewport_size(size)
        bob_id = ada.user_id_of(name)
        ada.add_participant(bob_id)
        bob.expect_ringing()
        # Accepted without Playwright scrolling to the button: the page is where it was.
        bob.element.evaluate("el => el.accept()")
        bob.expect_in_room([ada_id, cy_id])
        bob.page.wait_for_function(
            "el => { const r = el.shadowRoot.querySelector('[data-testid=videochat-leave]').getBoundingClientRect();"
            " return r.height > 0 && r.top >= 0 && r.bottom <= innerHeight; }",
            arg=bob.element.element_handle(), timeout=15000)
        _in_view(bob, bob.leave_button)
        _names_whole(bob)
        bob.leave()
        ada.expect_no_tile(bob_id)
        bob.page.context.close()
