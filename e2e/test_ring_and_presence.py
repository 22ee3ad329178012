"""The ring you cannot miss and the truth of the online list (issue 13, points 2
and 5): the ring is a modal alertdialog over the viewport wherever the widget sits,
with the focus on Accept and Escape declining; a hidden tab gets a system
notification; whom the host does not let you call has a disabled Call button that
says why; statuses say "Ringing…"; a room page does not list its own members again."""

from __future__ import annotations

import re
import uuid
from typing import Iterator

import pytest
from playwright.sync_api import expect

from flask_videochat.testing import BLUE, RED, LiveServer, VideoChatPage, example_site_command

#: Pushes the widget below the fold, with a button to hold the focus before the ring.
BELOW_THE_FOLD = """el => {
  const spacer = document.createElement("div");
  spacer.style.height = "3000px";
  const before = document.createElement("button");
  before.id = "before-the-ring";
  before.textContent = "Somewhere else on the page";
  spacer.append(before);
  el.before(spacer);
  window.scrollTo(0, 0);
  before.focus();
}"""

#: Records what the widget does with the Notification API and lets the test hide the
#: tab (document.visibilityState) and say what the permission is.
NOTIFICATION_STUB = """
(() => {
  const record = (window.__ring = { notes: [], asked: 0, focused: 0, hidden: false });
  Object.defineProperty(document, "visibilityState", {
    configurable: true, get: () => (record.hidden ? "hidden" : "visible") });
  class FakeNotification {
    static permission = sessionStorage.getItem("permission") || "granted";
    static requestPermission() {
      record.asked += 1;
      return Promise.resolve(FakeNotification.permission);
    }
    constructor(title, options) {
      Object.assign(this, { title, options, closed: false, onclick: null });
      record.notes.push(this);
    }
    close() { this.closed = true; }
  }
  window.Notification = FakeNotification;
  window.focus = () => { record.focused += 1; };
})();
"""


def hide_tab(page, hidden: bool = True) -> None:
    page.evaluate("""h => { window.__ring.hidden = h;
        document.dispatchEvent(new Event("visibilitychange")); }""", hidden)


def deep_focus(page) -> str:
    """The data-testid (or id) of the focused element, looking into shadow roots."""
    return page.evaluate("""() => { let el = document.activeElement;
        while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
        return el ? (el.dataset.testid || el.id) : null; }""")


def test_the_ring_is_an_overlay_in_view_that_the_keyboard_answers(videochat_user, names):
    ada = videochat_user(names("Ada"), colour=RED)
    bob = videochat_user(names("Bob"), colour=BLUE)
    bob_id = ada.user_id_of(names("Bob"))
    ada_id = bob.user_id_of(names("Ada"))
    bob.element.evaluate(BELOW_THE_FOLD)
    expect(bob.element).not_to_be_in_viewport()

    ada.call(bob_id)
    bob.expect_ringing(names("Ada"))  # the kit's page object still works
    ring = bob.page.get_by_role("alertdialog", name="Incoming call")
    expect(ring).to_be_visible()
    expect(ring).to_have_accessible_description(re.compile(re.escape(f"{names('Ada')} is calling")))
    expect(bob.accept_button).to_be_in_viewport()
    expect(bob.decline_button).to_be_in_viewport()
    expect(bob.element).not_to_be_in_viewport()  # nothing scrolled: the ring came to Bob
    expect(bob.accept_button).to_be_focused()

    bob.page.keyboard.press("Escape")  # declines

    ada.expect_status("declined")
    bob.expect_not_ringing()
    assert deep_focus(bob.page) == "before-the-ring"  # the focus is back

    ada.expect_idle()
    expect(ada.call_button(bob_id)).to_be_enabled()
    ada.call(bob_id)
    bob.expect_ringing(names("Ada"))
    expect(bob.accept_button).to_be_focused()
    bob.page.keyboard.press("Shift+Tab")
    expect(bob.decline_button).to_be_focused()
    bob.page.keyboard.press("Tab")
    bob.page.keyboard.press("Enter")  # accepts
    bob.expect_in_call_with(ada_id)
    ada.expect_in_call_with(bob_id)
    bob.hang_up()
    ada.expect_idle()


def test_a_hidden_tab_gets_a_notification_that_the_ring_closes(videochat_user, names):
    ada = videochat_user(names("Ada"), colour=RED)
    bob = videochat_user(names("Bob"), colour=BLUE)
    bob.page.add_init_script(NOTIFICATION_STUB)
    bob.page.reload()
    bob_id = ada.user_id_of(names("Bob"))
    notes = "() => window.__ring.notes.map(n => [n.title, n.closed])"

    # Shown tab: the panel, no notification.
    ada.call(bob_id)
    bob.expect_ringing(names("Ada"))
    ada.hang_up()
    bob.expect_not_ringing()
    assert bob.page.evaluate(notes) == []

    # Hidden tab: one notification, closed when the caller gives up.
    hide_tab(bob.page)
    ada.expect_idle()
    ada.call(bob_id)
    bob.page.wait_for_function("() => window.__ring.notes.length === 1")
    assert bob.page.evaluate(notes) == [[f"{names('Ada')} is calling…", False]]
    ada.hang_up()
    bob.page.wait_for_function("() => window.__ring.notes[0].closed")

    # Its click brings the tab forward.
    ada.expect_idle()
    ada.call(bob_id)
    bob.page.wait_for_function("() => window.__ring.notes.length === 2")
    bob.page.evaluate("() => window.__ring.notes[1].onclick()")
    assert bob.page.evaluate("() => window.__ring.focused") == 1
    hide_tab(bob.page, False)
    bob.decline()
    ada.expect_status("declined")
    assert bob.page.evaluate(notes)[1][1] is True
    assert bob.page.evaluate("() => window.__ring.asked") == 0  # granted: never asked


def test_the_permission_is_asked_on_a_click_once_and_never_once_denied(videochat_user, names):
    ada = videochat_user(names("Ada"), colour=RED)
    bob = videochat_user(names("Bob"), colour=BLUE)
    bob.page.add_init_script(NOTIFICATION_STUB)
    bob.page.evaluate("() => sessionStorage.setItem('permission', 'default')")
    bob.page.reload()
    ada_id = bob.user_id_of(names("Ada"))
    bob_id = ada.user_id_of(names("Bob"))
    asked = "() => window.__ring.asked"
    assert bob.page.evaluate(asked) == 0  # not on page load

    bob.call(ada_id)  # a click: the moment to ask
    bob.page.wait_for_function("() => window.__ring.asked === 1")
    ada.expect_ringing(names("Bob"))
    bob.hang_up()
    ada.expect_not_ringing()
    bob.expect_idle()
    ada.call(bob_id)
    bob.expect_ringing(names("Ada"))
    bob.accept()
    bob.expect_in_call_with(ada_id)
    bob.hang_up()
    assert bob.page.evaluate(asked) == 1  # once

    bob.page.evaluate("() => sessionStorage.setItem('permission', 'denied')")
    bob.page.reload()
    bob.user_id_of(names("Ada"))
    bob.call(ada_id)
    ada.expect_ringing(names("Bob"))
    bob.hang_up()
    assert bob.page.evaluate(asked) == 0  # denied: never again


def test_statuses_say_ringing_then_in_a_call(videochat_user, names):
    ada = videochat_user(names("Ada"), colour=RED)
    bob = videochat_user(names("Bob"), colour=BLUE)
    cy = videochat_user(names("Cy"))
    bob_id = ada.user_id_of(names("Bob"))
    ada_id, cy_bob = cy.user_id_of(names("Ada")), cy.user_id_of(names("Bob"))

    ada.call(bob_id)
    bob.expect_ringing(names("Ada"))
    for user_id in (ada_id, cy_bob):
        expect(cy.user(user_id).locator(".vc-presence")).to_have_text("Ringing…")
        expect(cy.call_button(user_id)).to_be_disabled()
    bob.accept()
    bob.expect_in_call_with(ada_id)
    for user_id in (ada_id, cy_bob):
        expect(cy.user(user_id).locator(".vc-presence")).to_have_text("In a call")
    bob.hang_up()
    for user_id in (ada_id, cy_bob):
        expect(cy.user(user_id).locator(".vc-presence")).to_have_text("Available")
        expect(cy.call_button(user_id)).to_be_enabled()


def test_a_room_page_does_not_list_its_own_members_again(videochat_user, names, room_name):
    path = f"/videochat/rooms/{room_name}"
    ada = videochat_user(names("Ada"), colour=RED, path=path)
    bob = videochat_user(names("Bob"), colour=BLUE, path=path)
    cy = videochat_user(names("Cy"))
    bob_id = ada.user_id_of(names("Bob"))
    cy_id = ada.user_id_of(names("Cy"))
    ada.join()
    bob.join()
    ada.expect_in_room([bob_id])

    expect(ada.user(bob_id)).to_have_count(0)  # in the room's tiles, not in "Online now"
    expect(ada.user(cy_id)).to_have_count(1)
    expect(cy.user(bob_id)).to_have_count(1)  # Cy, outside, still sees Bob, in a room
    expect(cy.user(bob_id).locator(".vc-presence")).to_have_text("In a room")
    expect(cy.call_button(bob_id)).to_be_disabled()

    ada.leave()
    expect(ada.user(bob_id)).to_have_count(1)  # out of the room: listed again


def test_no_row_stays_highlighted_on_a_phone_after_a_hang_up(
        videochat_user, videochat_launch, videochat_sign_in, videochat_base_url, names):
    """A tap leaves :hover on what was tapped: the row whose Call button Ada tapped
    stayed grey through the call and after Bob hung up."""
    bob = videochat_user(names("Bob"), colour=BLUE)
    phone = videochat_launch().new_context(is_mobile=True, has_touch=True,
                                           viewport={"width": 390, "height": 740})
    page = phone.new_page()
    videochat_sign_in(page, videochat_base_url, names("Ada"))
    page.goto(videochat_base_url + "/")
    ada = VideoChatPage(page)
    bob_id = ada.user_id_of(names("Bob"))
    ada_id = bob.user_id_of(names("Ada"))
    row = ada.user(bob_id)
    plain = row.evaluate("li => getComputedStyle(li).backgroundColor")

    ada.call_button(bob_id).tap()
    bob.accept()
    bob.expect_in_call_with(ada_id)
    bob.hang_up()  # Ada touches nothing after her tap on Call
    ada.expect_idle()

    expect(ada.call_button(bob_id)).to_be_enabled()
    assert row.evaluate("li => li.matches(':hover')"), "the tap left :hover on the row"
    expect(row).to_have_css("background-color", plain)


# -- a host whose can_call forbids a pair --------------------------------------------

SUFFIX = uuid.uuid4().hex[:6]
ANN, BEN = f"Ann {SUFFIX}", f"Ben {SUFFIX}"


@pytest.fixture(scope="module")
def forbidding_site() -> Iterator[LiveServer]:
    """The example site whose can_call forbids Ann to call Ben (not the other way)."""
    server = LiveServer(
        example_site_command(),
        env={"VIDEOCHAT_ICE_SERVERS": "[]", "EXAMPLE_NO_CALLS": f'[["{ANN}", "{BEN}"]]'},
    ).start()
    yield server
    server.stop()


def test_a_call_the_host_forbids_is_disabled_with_its_reason(videochat_user, forbidding_site):
    ann = videochat_user(ANN, colour=RED, base_url=forbidding_site.url)
    ben = videochat_user(BEN, colour=BLUE, base_url=forbidding_site.url)
    ben_id = ann.user_id_of(BEN)
    ann_id = ben.user_id_of(ANN)
    reason = f"You are not allowed to call {BEN}."

    expect(ann.call_button(ben_id)).to_be_disabled()
    expect(ann.user(ben_id).get_by_test_id("videochat-call-reason")).to_have_text(reason)
    expect(ann.call_button(ben_id)).to_have_accessible_description(reason)
    expect(ben.call_button(ann_id)).to_be_enabled()  # one way only
    expect(ben.user(ann_id).get_by_test_id("videochat-call-reason")).to_be_hidden()

    # Called anyway (the element's API): one message, and the server's refusal.
    ann.element.evaluate("(el, id) => el.call(id)", ben_id)
    expect(ann.error).to_have_text("You are not allowed to call this person.")
    expect(ann.error).to_have_attribute("data-code", "ERR_FORBIDDEN")
    ann.expect_idle()
    expect(ann.status).not_to_contain_text("not")
    expect(ann.element.get_by_role("alert")).to_have_count(1)
    ben.expect_not_ringing()
