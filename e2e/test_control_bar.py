"""The control bar as a person meets it, in a real call and a real room: icon
buttons with words (accessible name and tooltip), toggles whose "off" state shows,
one row on a 360 px wide phone, hang-up (or leave) red and last."""

from __future__ import annotations

from playwright.sync_api import expect

from flask_videochat.testing import BLUE, RED, answered_call

PHONE = {"width": 360, "height": 740}
#: --videochat-danger, as computed.
RED_CSS = "rgb(224, 49, 49)"

#: Every shown button of the bar: its words, tooltip, icon, place and colour.
_BAR_JS = """bar => [...bar.querySelectorAll("button")].filter((b) => !b.hidden).map((b) => {
  const r = b.getBoundingClientRect();
  return {testid: b.dataset.testid, label: b.getAttribute("aria-label"), tip: b.dataset.tip,
          icon: b.querySelector(".vc-icon")?.dataset.icon ?? null, text: b.textContent.trim(),
          top: r.top, bottom: r.bottom, left: r.left, right: r.right,
          background: getComputedStyle(b).backgroundColor};
})"""

_RECT_JS = "el => { const r = el.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; }"

#: The tooltip (the ::after box) as drawn: its words and whether it shows.
_TIP_SHOWN_JS = """([b, words]) => {
  const s = getComputedStyle(b, "::after");
  return s.visibility === "visible" && s.content === JSON.stringify(words);
}"""


def bar_buttons(page):
    return page.element.locator(".vc-controls").evaluate(_BAR_JS)


def expect_one_row_inside(page, container) -> list[dict]:
    """The bar's shown buttons share one row, inside ``container``; returns them."""
    buttons = bar_buttons(page)
    assert len(buttons) >= 6, buttons
    assert len({round(b["top"]) for b in buttons}) == 1, [(b["testid"], b["top"]) for b in buttons]
    box = container.evaluate(_RECT_JS)
    for b in buttons:
        assert box["left"] <= b["left"] and b["right"] <= box["right"], (b, box)
        assert box["top"] <= b["top"] and b["bottom"] <= box["bottom"], (b, box)
    return buttons


def expect_tooltip(page, button, words: str) -> None:
    """``button``'s tooltip shows ``words`` (it is hovered or has keyboard focus)."""
    page.page.wait_for_function(_TIP_SHOWN_JS, arg=[button.element_handle(), words])


def test_call_controls_are_labelled_icons_in_one_row_with_hang_up_red_and_last(videochat_user, names):
    ada = videochat_user(names("Ada"), colour=RED)
    bob = videochat_user(names("Bob"), colour=BLUE)
    answered_call(ada, bob, caller_name=names("Ada"), callee_name=names("Bob"))
    ada.page.set_viewport_size(PHONE)
    stage = ada.element.locator(".vc-stage")

    buttons = expect_one_row_inside(ada, stage)
    assert [b["testid"] for b in buttons] == [
        "videochat-mute", "videochat-camera", "videochat-screen-share", "videochat-devices",
        "videochat-add-participant", "videochat-hangup"]
    for b in buttons:
        # An icon, no words on the button; its words are its name and its tooltip.
        assert b["icon"] and b["text"] == "" and b["label"] and b["tip"] == b["label"], b
    assert buttons[-1]["background"] == RED_CSS, "hang-up is red"
    assert buttons[0]["background"] != RED_CSS, "the microphone is on: not red"

    # Hover shows a tooltip saying what a click does; so does keyboard focus, with a ring.
    mute = ada.mute_button
    camera = ada.camera_button
    mute.hover()
    expect_tooltip(ada, mute, "Mute microphone")
    ada.page.mouse.move(0, 0)
    mute.focus()
    ada.page.keyboard.press("Tab")
    expect(camera).to_be_focused()
    expect_tooltip(ada, camera, "Turn camera off")
    expect(camera).to_have_css("outline-style", "solid")

    # Mute: pressed, the mic-off icon, red; the words say what the next click does.
    mute.click()
    expect(mute).to_have_attribute("aria-pressed", "true")
    expect(mute.locator(".vc-icon")).to_have_attribute("data-icon", "mic-off")
    expect(mute).to_have_css("background-color", RED_CSS)
    expect(mute).to_have_accessible_name("Unmute microphone")
    expect(mute).to_have_attribute("data-tip", "Unmute microphone")
    # Bob sees it on his stage as an icon, with words for screen readers.
    badge = bob.element.locator(".vc-stage").get_by_test_id("videochat-remote-muted")
    expect(badge).to_be_visible()
    expect(badge.locator(".vc-icon")).to_have_attribute("data-icon", "mic-off")
    expect(badge).to_have_text("Muted")
    assert badge.locator(".vc-sr").evaluate("e => e.getBoundingClientRect().width") <= 1
    mute.click()
    expect(mute).to_have_attribute("aria-pressed", "false")
    expect(mute.locator(".vc-icon")).to_have_attribute("data-icon", "mic")
    expect(badge).to_be_hidden()
    # Still one row, still the same buttons, at a desktop's width too.
    ada.page.set_viewport_size({"width": 1280, "height": 800})
    assert [b["testid"] for b in expect_one_row_inside(ada, stage)] == [b["testid"] for b in buttons]


def test_the_rooms_bar_is_the_same_one_row_with_leave_red_and_last(videochat_user, names, room_name):
    path = f"/videochat/rooms/{room_name}"
    ada = videochat_user(names("Ada"), colour=RED, path=path)
    bob = videochat_user(names("Bob"), colour=BLUE, path=path)
    ada.join()
    bob.join()
    bob_id = bob.own_user_id()
    ada.expect_in_room([bob_id])
    ada.page.set_viewport_size(PHONE)

    buttons = expect_one_row_inside(ada, ada.room)
    assert [b["testid"] for b in buttons][-1] == "videochat-leave"
    assert buttons[-1]["icon"] == "log-out" and buttons[-1]["background"] == RED_CSS
    assert all(b["label"] and b["tip"] and b["icon"] for b in buttons), buttons
    # The bar fits the phone: nothing of the page scrolls sideways.
    assert ada.page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    camera = ada.camera_button
    camera.click()
    expect(camera).to_have_attribute("aria-pressed", "true")
    expect(camera.locator(".vc-icon")).to_have_attribute("data-icon", "video-off")
    expect(camera).to_have_css("background-color", RED_CSS)
    bob.expect_peer_camera_off(ada.own_user_id())
