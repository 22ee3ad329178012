"""``<video-chat>`` observes the attributes it reads: a change after the element is
connected takes effect at once (a new room's lobby, a sign-in message, a new
connection), as a page that changes them without a reload would expect."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from flask_videochat.testing import BLUE, RED, VideoChatPage, sign_in_with_form

_INDEX = "/videochat/static/js/index.js"

#: Put a ``<video-chat>`` with these attributes into the page and note its events.
_ADD_JS = """async ([url, attributes]) => {
  await import(url);
  const el = document.createElement("video-chat");
  for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, value);
  window.__events = [];
  for (const name of ["ready", "left", "room-state"]) {
    el.addEventListener(`videochat-${name}`, (e) => window.__events.push([name, e.detail]));
  }
  document.body.append(el);
}"""


def _widget(page, example_site, attributes: dict[str, str],
            name: str | None = None) -> VideoChatPage:
    if name is not None:
        sign_in_with_form(page, example_site.url, name)
    page.goto(example_site.url + "/healthz")  # a page of the site without a widget
    page.evaluate(_ADD_JS, [_INDEX, attributes])
    return VideoChatPage(page)


def _events(page, name: str) -> list:
    return [detail for event, detail in page.evaluate("window.__events") if event == name]


def _lobby_title(widget: VideoChatPage):
    return widget.element.locator(".vc-lobby-title")


@pytest.fixture
def page(blank_page):
    return blank_page


def test_every_attribute_the_element_reads_is_observed(page):
    observed = page.evaluate("""async (url) => {
      await import(url);
      return customElements.get("video-chat").observedAttributes;
    }""", _INDEX)
    assert sorted(observed) == ["namespace", "room", "sign-in-url", "signed-out", "socket-path"]


def test_signing_in_and_out_without_a_reload(page, example_site, names):
    widget = _widget(page, example_site, {"signed-out": "", "sign-in-url": "/login"}, names("Ada"))
    expect(widget.status).to_have_text("Sign in to make video calls.")
    link = widget.element.get_by_role("link", name="Sign in")
    expect(link).to_have_attribute("href", "/login")
    widget.element.evaluate("el => el.setAttribute('sign-in-url', '/accounts/login')")
    expect(link).to_have_attribute("href", "/accounts/login")
    assert _events(page, "ready") == [], "signed out: no connection"

    widget.element.evaluate("el => el.removeAttribute('signed-out')")
    expect(widget.status).to_have_text("Ready. Pick someone to call.")
    expect(widget.presence).to_be_attached()
    expect(link).to_have_count(0)
    assert widget.element.evaluate("el => el.currentUser.name") == names("Ada")

    widget.element.evaluate("el => el.setAttribute('signed-out', '')")
    expect(widget.status).to_have_text("Sign in to make video calls.")
    assert widget.element.evaluate("el => el.currentUser") is None
    assert widget.element.evaluate("el => el._signaling") is None, "the connection is closed"


def test_a_new_namespace_url_makes_a_new_connection(page, example_site, names):
    widget = _widget(page, example_site, {}, names("Ada"))
    expect(widget.status).to_have_text("Ready. Pick someone to call.")
    widget.element.evaluate("el => { window.__first = el._signaling; }")
    widget.element.evaluate("el => el.setAttribute('namespace', location.origin + '/videochat')")
    # A function, not an expression: Playwright evals an expression in the page, which
    # the example site's CSP (no 'unsafe-eval') refuses.
    page.wait_for_function(
        "() => window.__events.filter(([name]) => name === 'ready').length === 2")
    expect(widget.status).to_have_text("Ready. Pick someone to call.")
    assert widget.element.evaluate(
        "el => el._signaling !== window.__first && el._signaling.connected")
    assert widget.element.evaluate("() => window.__first._socket") is None, "the old one is closed"


def test_switching_rooms_leaves_the_old_room_and_shows_the_new_lobby(page, example_site, names,
                                                                     room_name):
    first, second = f"{room_name}-a", f"{room_name}-b"
    widget = _widget(page, example_site, {"room": first}, names("Ada"))
    expect(_lobby_title(widget)).to_have_text(f"Room {first}")
    expect(widget.join_button).to_be_enabled()
    widget.join()
    expect(widget.room).to_be_visible()
    assert widget.element.evaluate("el => el.currentRoom") == first

    widget.element.evaluate(f"el => el.setAttribute('room', '{second}')")
    expect(widget.room).to_be_hidden()
    expect(_lobby_title(widget)).to_have_text(f"Room {second}")
    expect(widget.join_button).to_be_enabled()
    expect(widget.status).to_have_text("Ready to join? Check your camera, then join.")
    assert _events(page, "left") == [{"room": first, "reason": "left", "byMe": True}]
    assert widget.element.evaluate("el => [el.state, el.currentRoom]") == ["idle", None]
    # The new lobby's preview is open, and joining takes you into the new room.
    page.wait_for_function(
        "() => document.querySelector('video-chat').shadowRoot"
        ".querySelector('[data-testid=videochat-local-video]').srcObject !== null")
    widget.join()
    expect(widget.room).to_be_visible()
    assert widget.element.evaluate("el => el.currentRoom") == second

    # No room any more: out of it, the online list, the camera closed.
    widget.element.evaluate("el => el.removeAttribute('room')")
    expect(widget.room).to_be_hidden()
    expect(_lobby_title(widget)).to_be_hidden()
    expect(widget.status).to_have_text("Ready. Pick someone to call.")
    assert _events(page, "left")[-1] == {"room": second, "reason": "left", "byMe": True}
    assert widget.local_video.evaluate("v => v.srcObject") is None


def test_the_others_see_you_leave_when_your_room_attribute_changes(videochat_user, names,
                                                                  room_name):
    path = f"/videochat/rooms/{room_name}"
    ada = videochat_user(names("Ada"), colour=RED, path=path)
    bob = videochat_user(names("Bob"), colour=BLUE, path=path)
    for person in (ada, bob):
        expect(person.join_button).to_be_enabled()
        person.join()
    ada_id, bob_id = (p.own_user_id() for p in (ada, bob))
    bob.expect_in_room([ada_id])
    ada.expect_in_room([bob_id])

    ada.element.evaluate(f"el => el.setAttribute('room', '{room_name}-next')")
    bob.expect_in_room([])
    expect(ada.room).to_be_hidden()
    expect(_lobby_title(ada)).to_have_text(f"Room {room_name}-next")
