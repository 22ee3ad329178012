"""The page object of the ``<video-chat>`` widget (:class:`VideoChatPage`): locators
and ``expect_*`` methods that wait for what a person would see."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from .console import ConsoleLog, Ignore, watch_console
from .page_room import RoomLayoutLocators

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

#: Seconds the ``expect_*`` helpers wait before failing.
DEFAULT_TIMEOUT = 15.0


_STATS_JS = "el => el.getStats()"

#: In a page: sample the frames decoded from one peer (and their connection state)
#: every 100 ms, and note every ``videochat-resumed``, until collected.
_WATCH_JS = """(el, peerId) => {
  clearInterval(window.__vcTimer);
  window.__vcSamples = [];
  window.__vcResumed = [];
  if (!el.__vcResumedWatched) {
    el.__vcResumedWatched = true;
    el.addEventListener("videochat-resumed", (e) => window.__vcResumed?.push(e.detail));
  }
  window.__vcTimer = setInterval(async () => {
    const peer = (await el.getStats()).peers[peerId];
    window.__vcSamples.push(peer ? {frames: peer.video.framesDecoded, state: peer.connectionState}
                                 : {frames: -1, state: "none"});
  }, 100);
}"""

_COLOUR_JS = """v => {
  if (!v.videoWidth) return null;
  const c = document.createElement("canvas");
  c.width = 32; c.height = 32;
  const ctx = c.getContext("2d", {willReadFrequently: true});
  ctx.drawImage(v, 0, 0, 32, 32);
  const d = ctx.getImageData(8, 8, 16, 16).data;
  const sum = [0, 0, 0];
  for (let i = 0; i < d.length; i += 4) { sum[0] += d[i]; sum[1] += d[i+1]; sum[2] += d[i+2]; }
  const n = d.length / 4;
  return sum.map(s => Math.round(s / n));
}"""


class VideoChatPage(RoomLayoutLocators):
    """Page object for the ``<video-chat>`` widget, through its public
    ``data-testid`` contract (``docs/testing.md``).

    :param page: a Playwright page showing the widget.
    :param timeout: seconds the ``expect_*`` methods wait.

    :ivar page: that Playwright :class:`~playwright.sync_api.Page`, for anything the
        page object does not wrap: ``page.goto(url)``, ``page.get_by_role(...)``,
        ``expect(page).to_have_title(...)``, ``page.context.new_page()`` (another
        tab of the same person, sharing their cookies).
    :ivar timeout: as given.
    :ivar console: the :class:`~flask_videochat.testing.ConsoleLog` of the page's
        browser context (this person, every tab): console errors, uncaught
        exceptions and CSP violations. Made with the context by the fixtures;
        otherwise here, from now on.
    """

    def __init__(self, page: Page, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.page = page
        self.timeout = timeout
        self.console: ConsoleLog = watch_console(page.context)

    # -- locators ---------------------------------------------------------------

    @property
    def element(self) -> Locator:
        """The ``<video-chat>`` element."""
        return self.page.locator("video-chat")

    def _id(self, test_id: str) -> Locator:
        return self.element.get_by_test_id(test_id)

    @property
    def presence(self) -> Locator:
        """The online list (``videochat-presence``)."""
        return self._id("videochat-presence")

    def user(self, user_id: str) -> Locator:
        """The online-list entry of ``user_id``."""
        return self.presence.locator(f'[data-testid="videochat-user"][data-user-id="{user_id}"]')

    def user_named(self, name: str) -> Locator:
        """The online-list entry whose text contains ``name``."""
        return self.presence.locator('[data-testid="videochat-user"]', has_text=name)

    def user_id_of(self, name: str, *, timeout: float | None = None) -> str:
        """Wait until ``name`` is online and return their user id."""
        from playwright.sync_api import expect

        entry = self.user_named(name)
        expect(entry).to_have_count(1, timeout=self._ms(timeout))
        value = entry.get_attribute("data-user-id")
        assert value, f"the entry of {name!r} has no data-user-id"
        return value

    def call_button(self, user_id: str) -> Locator:
        """The Call button in ``user_id``'s entry of the online list."""
        return self.user(user_id).get_by_test_id("videochat-call")

    @property
    def incoming(self) -> Locator:
        """The incoming-call panel (``videochat-incoming``)."""
        return self._id("videochat-incoming")

    @property
    def accept_button(self) -> Locator:
        """Accept, on the incoming panel."""
        return self._id("videochat-accept")

    @property
    def decline_button(self) -> Locator:
        """Decline, on the incoming panel."""
        return self._id("videochat-decline")

    @property
    def hangup_button(self) -> Locator:
        """Hang up (it also cancels a call still ringing out)."""
        return self._id("videochat-hangup")

    @property
    def status(self) -> Locator:
        """The call state in words (``videochat-status``)."""
        return self._id("videochat-status")

    @property
    def error(self) -> Locator:
        """The last error in words (``videochat-error``, ``role="alert"``)."""
        return self._id("videochat-error")

    @property
    def local_video(self) -> Locator:
        """Your own camera preview."""
        return self._id("videochat-local-video")

    @property
    def room(self) -> Locator:
        """The room view: tiles, controls, participants, chat."""
        return self._id("videochat-room")

    @property
    def join_button(self) -> Locator:
        """"Join room", in room mode before joining."""
        return self._id("videochat-join")

    @property
    def leave_button(self) -> Locator:
        """Leave the room."""
        return self._id("videochat-leave")

    @property
    def add_participant_button(self) -> Locator:
        """"Add": opens the list of people to ring into the call or room."""
        return self._id("videochat-add-participant")

    def tile(self, user_id: str | None = None) -> Locator:
        """The room tile of ``user_id`` (every remote tile when ``None``)."""
        selector = '[data-testid="videochat-tile"]'
        if user_id is not None:
            selector += f'[data-user-id="{user_id}"]'
        return self.element.locator(selector)

    @property
    def screen_share_button(self) -> Locator:
        """Share the screen (``aria-pressed``)."""
        return self._id("videochat-screen-share")

    @property
    def devices_button(self) -> Locator:
        """Open the device lists (``aria-expanded``)."""
        return self._id("videochat-devices")

    @property
    def camera_select(self) -> Locator:
        """The camera list of the device check."""
        return self._id("videochat-camera-select")

    @property
    def microphone_select(self) -> Locator:
        """The microphone list of the device check."""
        return self._id("videochat-microphone-select")

    @property
    def use_camera(self) -> Locator:
        """The "Camera" checkbox of the device check (before joining or answering)."""
        return self._id("videochat-use-camera")

    @property
    def use_microphone(self) -> Locator:
        """The "Microphone" checkbox of the device check (before joining or answering)."""
        return self._id("videochat-use-microphone")

    @property
    def mute_button(self) -> Locator:
        """The microphone toggle (``aria-pressed="true"``: muted)."""
        return self._id("videochat-mute")

    @property
    def camera_button(self) -> Locator:
        """The camera toggle (``aria-pressed="true"``: camera off)."""
        return self._id("videochat-camera")

    @property
    def enlarge_button(self) -> Locator:
        """Enlarge the call (the 1:1 stage or the room) to the page, or restore it."""
        return self._id("videochat-enlarge")

    @property
    def fullscreen_button(self) -> Locator:
        """Show the call full screen, or leave full screen."""
        return self._id("videochat-fullscreen")

    @property
    def pip_button(self) -> Locator:
        """Pop the call out in picture-in-picture, or bring it back (hidden where
        the browser has no picture-in-picture)."""
        return self._id("videochat-pip")

    def quality(self, user_id: str) -> Locator:
        """The connection quality indicator for ``user_id`` (``data-level``)."""
        return self.element.locator(f'[data-testid="videochat-quality"][data-user-id="{user_id}"]')

    def _peer_scope(self, user_id: str) -> Locator:
        """Where ``user_id``'s media is shown: their room tile, else the call stage."""
        return self.tile(user_id).or_(self.element.locator(".vc-stage:not([hidden])"))

    @property
    def chat_input(self) -> Locator:
        """The chat box."""
        return self._id("videochat-chat-input")

    @property
    def chat_send_button(self) -> Locator:
        """The chat's Send button."""
        return self._id("videochat-chat-send")

    @property
    def chat_messages(self) -> Locator:
        """Every chat message shown (sender, time, text)."""
        return self._id("videochat-chat-message")

    def remote_video(self, user_id: str | None = None) -> Locator:
        """The ``<video>`` of ``user_id`` (every remote one when ``None``)."""
        selector = '[data-testid="videochat-remote-video"]'
        if user_id is not None:
            selector += f'[data-user-id="{user_id}"]'
        return self.element.locator(selector)

    # -- actions ---------------------------------------------------------------

    def call(self, user_id: str) -> None:
        """Click the Call button of ``user_id`` in the online list."""
        self.call_button(user_id).click()

    def accept(self) -> None:
        """Click Accept (a call, or an invitation into a room)."""
        self.accept_button.click()

    def decline(self) -> None:
        """Click Decline."""
        self.decline_button.click()

    def hang_up(self) -> None:
        """Click Hang up."""
        self.hangup_button.click()

    def join(self) -> None:
        """Click "Join room" (the page shows a room widget)."""
        self.join_button.click()

    def leave(self) -> None:
        """Click Leave (the room)."""
        self.leave_button.click()

    def send_chat(self, text: str) -> None:
        """Type ``text`` in the chat box and click Send."""
        self.chat_input.fill(text)
        self.chat_send_button.click()

    def add_participant(self, user_id: str) -> None:
        """Open "Add person" and ring ``user_id`` into the call or room."""
        self.add_participant_button.click()
        panel = self._id("videochat-add-panel")
        panel.locator(f'li[data-user-id="{user_id}"]').get_by_test_id("videochat-invite").click()

    def stats(self) -> dict[str, Any]:
        """``<video-chat>.getStats()``: state and inbound RTP counters of the call."""
        return self.element.evaluate(_STATS_JS)  # type: ignore[no-any-return]

    def local_colour(self) -> tuple[int, int, int] | None:
        """Mean RGB of the middle of your own preview's current frame."""
        value = self.local_video.evaluate(_COLOUR_JS)
        return None if value is None else (value[0], value[1], value[2])

    def own_user_id(self, *, timeout: float | None = None) -> str:
        """Your own user id, as the server told this page's widget
        (``<video-chat>.currentUser.id``), once it is connected. Needs no one else
        to see you online (no presence round trip, no ``can_see``); from another
        person's page use :meth:`user_id_of`, or pass an id your site knows.

        :raises playwright.sync_api.TimeoutError: not connected within ``timeout``.
        """
        handle = self.page.wait_for_function(
            "el => el.currentUser?.id", arg=self.element.element_handle(timeout=self._ms(timeout)),
            timeout=self._ms(timeout),
        )
        return str(handle.json_value())

    def screenshot(self, path: str | os.PathLike[str], *, whole_page: bool = False,
                   **options: Any) -> Path:
        """Write a PNG of the widget (the ``<video-chat>`` element's box), or of the
        whole page, scrolled content included, with ``whole_page``; the directories
        on the way are made. ``options`` go to Playwright's ``screenshot``
        (``animations="disabled"``, ``mask=[locator]``, ...).

        :returns: ``path``, as a :class:`~pathlib.Path`.
        """
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        if whole_page:
            self.page.screenshot(path=str(out), full_page=True, **options)
        else:
            self.element.screenshot(path=str(out), timeout=self._ms(None), **options)
        return out

    def watch(self, user_id: str) -> None:
        """From now on, sample the frames decoded from ``user_id`` every 100 ms and
        note each ``videochat-resumed``: see :meth:`expect_one_connection_throughout`
        and :meth:`expect_resumed`."""
        self.element.evaluate(_WATCH_JS, user_id)

    def expect_resumed(self, *, timeout: float | None = None) -> None:
        """Since :meth:`watch`, the widget took its call or room seat back after a
        drop (``videochat-resumed``)."""
        self.page.wait_for_function("() => window.__vcResumed.length > 0",
                                    timeout=self._ms(timeout))

    def expect_one_connection_throughout(self, *, min_samples: int = 10,
                                         min_growth: int = 1) -> list[dict[str, Any]]:
        """Since :meth:`watch` (which this stops): the decoded-frame counter never
        fell back (a new connection would restart it), grew by at least
        ``min_growth`` frames over at least ``min_samples`` samples, and the
        connection was ``connected`` in every sample.

        :returns: the samples, ``{"frames", "state"}`` each.
        """
        samples: list[dict[str, Any]] = self.page.evaluate(
            "() => { clearInterval(window.__vcTimer); return window.__vcSamples; }")
        frames = [s["frames"] for s in samples]
        assert len(frames) > min_samples, frames
        assert all(b >= a for a, b in zip(frames, frames[1:])), frames
        assert frames[-1] >= frames[0] + min_growth, frames
        assert {s["state"] for s in samples} == {"connected"}, samples
        return samples

    def remote_colour(self, user_id: str | None = None) -> tuple[int, int, int] | None:
        """Mean RGB of the middle of the remote video's current frame (``None``
        before the first frame)."""
        value = self.remote_video(user_id).evaluate(_COLOUR_JS)
        return None if value is None else (value[0], value[1], value[2])

    # -- expectations ---------------------------------------------------------------

    def _ms(self, timeout: float | None) -> float:
        return (self.timeout if timeout is None else timeout) * 1000

    def expect_online(self, user_id: str, *, timeout: float | None = None) -> None:
        """``user_id`` is listed as online, with a call button."""
        from playwright.sync_api import expect

        expect(self.user(user_id)).to_be_visible(timeout=self._ms(timeout))
        expect(self.call_button(user_id)).to_be_visible(timeout=self._ms(timeout))

    def expect_offline(self, user_id: str, *, timeout: float | None = None) -> None:
        """Wait until ``user_id`` is no longer in the online list."""
        from playwright.sync_api import expect

        expect(self.user(user_id)).to_have_count(0, timeout=self._ms(timeout))

    def expect_ringing(self, caller_name: str | None = None, *,
                       timeout: float | None = None) -> None:
        """The incoming-call panel shows, with accept and decline (and the caller's name)."""
        from playwright.sync_api import expect

        expect(self.incoming).to_be_visible(timeout=self._ms(timeout))
        expect(self.accept_button).to_be_visible(timeout=self._ms(timeout))
        expect(self.decline_button).to_be_visible(timeout=self._ms(timeout))
        if caller_name is not None:
            expect(self.incoming).to_contain_text(caller_name, timeout=self._ms(timeout))

    def expect_not_ringing(self, *, timeout: float | None = None) -> None:
        """Wait until the incoming-call panel is hidden."""
        from playwright.sync_api import expect

        expect(self.incoming).to_be_hidden(timeout=self._ms(timeout))

    def expect_status(self, text: str, *, timeout: float | None = None) -> None:
        """The call status reads ``text`` (a substring)."""
        from playwright.sync_api import expect

        expect(self.status).to_contain_text(text, timeout=self._ms(timeout))

    def expect_error(self, text: str, *, code: str | None = None,
                     timeout: float | None = None) -> None:
        """The widget's error alert (``videochat-error``, ``role="alert"``) shows
        ``text`` (a substring), with the error code ``code`` (its ``data-code``,
        ``"ERR_FORBIDDEN"`` for a call your site's ``can_call`` refused) when given."""
        from playwright.sync_api import expect

        expect(self.error).to_be_visible(timeout=self._ms(timeout))
        expect(self.error).to_contain_text(text, timeout=self._ms(timeout))
        if code is not None:
            expect(self.error).to_have_attribute("data-code", code, timeout=self._ms(timeout))

    def expect_no_console_errors(self, *, ignore: Sequence[Ignore] = ()) -> None:
        """Nothing went wrong behind this person's back so far, in any of their tabs:
        no console error (a ``console.error``, a failed load, a refused resource), no
        uncaught exception and no CSP violation, but those matching ``ignore``
        (substrings, or compiled regular expressions searched for). Waits for
        violations this page already saw to be reported, then checks at once.

        :raises AssertionError: listing each problem.
        """
        self.console.settle(self.page)
        problems = self.console.matching(ignore=ignore)
        assert not problems, "errors in the browser:\n" + "\n".join(map(str, problems))

    def expect_in_call_with(self, user_id: str, *, timeout: float | None = None) -> None:
        """In a call with ``user_id``: their video is shown and hang-up is offered."""
        from playwright.sync_api import expect

        expect(self.remote_video(user_id)).to_be_visible(timeout=self._ms(timeout))
        expect(self.hangup_button).to_be_visible(timeout=self._ms(timeout))
        self.page.wait_for_function(
            "el => el.state === 'in-call'", arg=self.element.element_handle(),
            timeout=self._ms(timeout),
        )

    def expect_idle(self, *, timeout: float | None = None) -> None:
        """No call: no remote video, no incoming panel, no hang-up button."""
        from playwright.sync_api import expect

        expect(self.remote_video()).to_have_count(0, timeout=self._ms(timeout))
        expect(self.incoming).to_be_hidden(timeout=self._ms(timeout))
        expect(self.hangup_button).to_be_hidden(timeout=self._ms(timeout))

    def expect_remote_video_playing(self, user_id: str, *, timeout: float | None = None,
                                    interval: float = 1.0) -> dict[str, Any]:
        """Media flows from ``user_id``: the remote ``<video>`` has a size and, between
        two ``getStats()`` samples ``interval`` seconds apart, video ``framesDecoded``
        and audio ``totalSamplesReceived`` both grew.

        :returns: the second sample.
        :raises AssertionError: not so within ``timeout`` seconds.
        """
        from playwright.sync_api import expect

        expect(self.remote_video(user_id)).to_be_visible(timeout=self._ms(timeout))
        return self._expect_growth(user_id, ("video", "audio"), timeout, interval)

    _COUNTERS = {"video": "framesDecoded", "audio": "totalSamplesReceived"}

    def _expect_growth(self, user_id: str, kinds: tuple[str, ...], timeout: float | None,
                       interval: float) -> dict[str, Any]:
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        before = self.stats()
        while True:
            self.page.wait_for_timeout(interval * 1000)
            after = self.stats()
            old, new = before["peers"].get(user_id), after["peers"].get(user_id)
            grew = old is not None and new is not None and all(
                new[kind][self._COUNTERS[kind]] > old[kind][self._COUNTERS[kind]]
                for kind in kinds
            )
            if "video" in kinds:
                grew = grew and self.remote_video(user_id).evaluate("v => v.videoWidth") > 0
            if grew:
                return after
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"no {'+'.join(kinds)} from {user_id}: before={before}, after={after}"
                )
            before = after

    def expect_in_room(self, user_ids: Sequence[str], *, timeout: float | None = None) -> None:
        """In a room whose other members are exactly ``user_ids``: one tile each (and
        no other), and the leave button offered."""
        from playwright.sync_api import expect

        ms = self._ms(timeout)
        expect(self.room).to_be_visible(timeout=ms)
        expect(self.leave_button).to_be_visible(timeout=ms)
        for user_id in user_ids:
            expect(self.tile(user_id)).to_be_visible(timeout=ms)
        expect(self.tile()).to_have_count(len(user_ids), timeout=ms)

    def expect_no_tile(self, user_id: str, *, timeout: float | None = None) -> None:
        """The tile of ``user_id`` is gone (they left)."""
        from playwright.sync_api import expect

        expect(self.tile(user_id)).to_have_count(0, timeout=self._ms(timeout))

    def expect_chat_message(self, text: str, *, sender: str | None = None,
                            timeout: float | None = None) -> None:
        """A chat message whose text is exactly ``text`` is shown (as text), from
        ``sender`` (a name, or "You") when given."""
        from playwright.sync_api import expect

        message = self.chat_messages.filter(
            has=self.page.locator(".vc-chat-text", has_text=text)
        ).last
        expect(message).to_be_visible(timeout=self._ms(timeout))
        expect(message.locator(".vc-chat-text")).to_have_text(text)
        if sender is not None:
            expect(message.locator(".vc-chat-from")).to_have_text(sender)

    def expect_remote_audio_playing(self, user_id: str, *, timeout: float | None = None,
                                    interval: float = 1.0) -> dict[str, Any]:
        """Audio flows from ``user_id`` (``totalSamplesReceived`` grows between two
        samples ``interval`` seconds apart), whether or not video does.

        :returns: the second sample.
        :raises AssertionError: not so within ``timeout`` seconds.
        """
        return self._expect_growth(user_id, ("audio",), timeout, interval)

    def expect_peer_muted(self, user_id: str, muted: bool = True, *,
                          timeout: float | None = None) -> None:
        """``user_id``'s "Muted" badge is shown (``muted``) or gone."""
        from playwright.sync_api import expect

        scope = self._peer_scope(user_id)
        expect(scope).to_be_visible(timeout=self._ms(timeout))  # in a call or room with them
        badge = scope.get_by_test_id("videochat-remote-muted")
        if muted:
            expect(badge).to_be_visible(timeout=self._ms(timeout))
        else:
            expect(badge).to_be_hidden(timeout=self._ms(timeout))

    def expect_peer_camera_off(self, user_id: str, off: bool = True, *,
                               timeout: float | None = None) -> None:
        """``user_id``'s picture is replaced by "Camera off" (``off``), or shown again."""
        from playwright.sync_api import expect

        scope = self._peer_scope(user_id)
        expect(scope).to_be_visible(timeout=self._ms(timeout))
        words = scope.get_by_test_id("videochat-camera-off")
        if off:
            expect(words).to_be_visible(timeout=self._ms(timeout))
            expect(words).to_have_text("Camera off")
        else:
            expect(words).to_have_count(0, timeout=self._ms(timeout))
            expect(self.remote_video(user_id)).to_be_visible(timeout=self._ms(timeout))

    def expect_remote_aspect(self, user_id: str, ratio: float, *, tolerance: float = 0.05,
                             timeout: float | None = None) -> None:
        """The remote video of ``user_id`` has this width/height ratio (4/3 for a
        camera, 16/9 for a shared screen)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        seen = None
        while time.monotonic() < deadline:
            seen = self.remote_video(user_id).evaluate(
                "v => v.videoHeight ? v.videoWidth / v.videoHeight : null")
            if seen is not None and abs(seen - ratio) <= tolerance:
                return
            self.page.wait_for_timeout(200)
        raise AssertionError(f"remote video of {user_id} has aspect {seen}, expected {ratio:.3f}")

    def expect_remote_colour(self, user_id: str, rgb: tuple[int, int, int], *,
                             tolerance: int = 45, timeout: float | None = None) -> None:
        """The remote video of ``user_id`` shows ``rgb`` (each channel within
        ``tolerance``: video coding shifts colours a little)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        seen = None
        while time.monotonic() < deadline:
            seen = self.remote_colour(user_id)
            if seen is not None and all(abs(a - b) <= tolerance for a, b in zip(seen, rgb)):
                return
            self.page.wait_for_timeout(200)
        raise AssertionError(f"remote video of {user_id} shows {seen}, expected about {rgb}")
