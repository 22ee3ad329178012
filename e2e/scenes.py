"""The widget's scenes for the accessibility and layout checks (test_accessibility.py,
test_screenshots.py): small functions, each bringing people in one browser (a
context each) to a moment of the widget and returning the page to look at.

A scene addresses the widget only by its ``data-testid``s and roles (through
:class:`~flask_videochat.testing.VideoChatPage`), so the checks run unchanged on a
redone layout. A new scene is one entry of :data:`SCENES`, e.g.::

    "call-enlarged": lambda cast: enlarged(in_call(cast)),
"""

from __future__ import annotations

import uuid
from typing import Callable

from playwright.sync_api import Browser, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from flask_videochat.testing import VideoChatPage, answered_call, sign_in_with_form

#: The two screens every scene is looked at on: a laptop and a phone (CSS pixels).
VIEWPORTS: dict[str, dict[str, int]] = {
    "1280x800": {"width": 1280, "height": 800},
    "390x844": {"width": 390, "height": 844},
}

#: In a page: whether a <video> shows frames (its size is known and it plays).
_PLAYING_JS = "v => v.videoWidth > 0 && v.readyState >= 2 && !v.paused"

#: In a page: what a <video> is doing, and the tile or stage around it.
_STATE_JS = """v => ({videoWidth: v.videoWidth, readyState: v.readyState, paused: v.paused,
  tracks: v.srcObject ? v.srcObject.getTracks().map(t => `${t.kind}:${t.readyState}`) : null,
  tile: v.closest("[data-testid=videochat-tile]")?.dataset ?? null})"""


class Cast:
    """People of one scene, each in their own context of one shared browser, signed
    in on the example site. ``names(role)`` gives the display name of a role
    ("Ada"); the contexts are closed by :meth:`close`."""

    def __init__(self, browser: Browser, base_url: str, names: Callable[[str], str]) -> None:
        self.browser = browser
        self.base_url = base_url
        self.names = names
        self.room = f"standup-{uuid.uuid4().hex[:6]}"
        #: A script each person's pages run before their own (e.g. stubs).
        self.init_script: str | None = None
        #: Whether the pages ignore the site's Content-Security-Policy: for a tool
        #: injected into them (axe-core adds an inline <style>, which the policy
        #: refuses and reports). The widget's own compliance is every other test's.
        self.bypass_csp = False
        self._contexts: list = []

    def person(self, role: str, path: str = "/") -> VideoChatPage:
        """``role`` signed in, on ``path``, at the first of :data:`VIEWPORTS`."""
        context = self.browser.new_context(viewport=next(iter(VIEWPORTS.values())),
                                           bypass_csp=self.bypass_csp)
        self._contexts.append(context)
        if self.init_script:
            context.add_init_script(self.init_script)
        page = context.new_page()
        sign_in_with_form(page, self.base_url, self.names(role))
        page.goto(self.base_url + path)
        return VideoChatPage(page)

    def in_room(self, role: str) -> VideoChatPage:
        """``role`` on the page of this scene's room, able to join."""
        person = self.person(role, path=f"/videochat/rooms/{self.room}")
        expect(person.join_button).to_be_enabled()
        return person

    def close(self) -> None:
        for context in self._contexts:
            context.close()


def expect_playing(person: VideoChatPage, video) -> None:
    """The ``<video>`` (a locator in ``person``'s page) shows frames, within the
    page object's timeout.

    :raises AssertionError: not so; says the video's state then.
    """
    expect(video).to_be_visible(timeout=person.timeout * 1000)
    try:
        person.page.wait_for_function(_PLAYING_JS, arg=video.element_handle(),
                                      timeout=person.timeout * 1000)
    except PlaywrightTimeoutError:
        state = video.evaluate(_STATE_JS)
        raise AssertionError(f"no frames in {video}: {state}") from None


def expect_member_playing(person: VideoChatPage, user_id: str) -> None:
    """In a room, ``person``'s connection to ``user_id`` is up (``getStats()``; the
    widget gives up after its own time) and their video shows frames."""
    person.page.wait_for_function(
        "async ([el, id]) => (await el.getStats()).peers[id]?.connectionState === 'connected'",
        arg=[person.element.element_handle(), user_id], timeout=person.timeout * 1000)
    expect_playing(person, person.remote_video(user_id))


def idle(cast: Cast) -> VideoChatPage:
    """The online list, with two people to call."""
    ada = cast.person("Ada")
    for role in ("Bob", "Cy"):
        cast.person(role)
        ada.expect_online(ada.user_id_of(cast.names(role)))
    return ada


def ringing(cast: Cast) -> VideoChatPage:
    """The callee's side of a call ringing in: the incoming panel, the preview."""
    ada, bob = cast.person("Ada"), cast.person("Bob")
    ada.call(ada.user_id_of(cast.names("Bob")))
    bob.expect_ringing(cast.names("Ada"))
    expect_playing(bob, bob.local_video)
    return bob


def in_call(cast: Cast) -> VideoChatPage:
    """A 1:1 call in progress, the other person's video playing."""
    ada, bob = cast.person("Ada"), cast.person("Bob")
    _, bob_id = answered_call(ada, bob, caller_name=cast.names("Ada"),
                              callee_name=cast.names("Bob"))
    expect_playing(ada, ada.remote_video(bob_id))
    expect_playing(ada, ada.local_video)
    return ada


def lobby(cast: Cast) -> VideoChatPage:
    """A room's page before joining: the preview, the device check, Join."""
    ada = cast.in_room("Ada")
    expect_playing(ada, ada.local_video)
    expect(ada.camera_select).to_be_visible()
    return ada


def room_of_three(cast: Cast) -> VideoChatPage:
    """Three people in a room, each seeing the other two. They join one after the
    other, each once the ones before see each other: one connection at a time comes
    up, as when people arrive at a meeting (three at once on a loaded machine can
    outlast the widget's time to connect)."""
    people = [cast.in_room(role) for role in ("Ada", "Bob", "Cy")]
    ids: list[str] = []
    for person in people:
        person.join()
        expect(person.room).to_be_visible()
        ids.append(person.own_user_id())
        person.expect_in_room(ids[:-1])
        for user_id in ids[:-1]:
            expect_member_playing(person, user_id)
    ada = people[0]
    ada.expect_in_room(ids[1:])
    for user_id in ids[1:]:
        expect_member_playing(ada, user_id)
    expect_playing(ada, ada.local_video)
    return ada


def room_of_two(cast: Cast) -> VideoChatPage:
    """Two people in a room."""
    ada, bob = cast.in_room("Ada"), cast.in_room("Bob")
    ada.join()
    bob.join()
    ada.expect_in_room([bob.own_user_id()])
    return ada


def devices_open(person: VideoChatPage) -> VideoChatPage:
    """``person`` (in a call or a room) opened the device check from the controls."""
    person.devices_button.click()
    expect(person.camera_select).to_be_visible()
    return person


def enlarged(person: VideoChatPage) -> VideoChatPage:
    """``person`` (in a call or a room) enlarged the call to the whole page."""
    person.enlarge_button.click()
    expect(person.enlarge_button).to_have_attribute("aria-pressed", "true")
    return person


#: Every scene by name: the name is in test ids and in the screenshots' file names.
SCENES: dict[str, Callable[[Cast], VideoChatPage]] = {
    "idle": idle,
    "ringing": ringing,
    "call": in_call,
    "call-enlarged": lambda cast: enlarged(in_call(cast)),
    "room-lobby": lobby,
    "room-of-three": room_of_three,
    "room-enlarged": lambda cast: enlarged(room_of_two(cast)),
    "call-devices": lambda cast: devices_open(in_call(cast)),
    "room-devices": lambda cast: devices_open(room_of_two(cast)),
}
