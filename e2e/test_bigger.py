"""Making a call bigger, in real calls: enlarged from the sidebar to the whole page
(and back, by the button or Escape), full screen (Fullscreen API), and popped out
in picture-in-picture (the whole call in a Document Picture-in-Picture window, or
the other person's video where the browser has only that)."""

from __future__ import annotations

from playwright.sync_api import expect

from flask_videochat.testing import BLUE, RED, answered_call

_RECT_JS = "el => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; }"

#: What is drawn at a point of the page: the widget (its host) or the page itself.
_AT_JS = "([x, y]) => document.elementFromPoint(x, y)?.localName ?? null"


def in_call(videochat_user, names):
    ada = videochat_user(names("Ada"), colour=RED)
    bob = videochat_user(names("Bob"), colour=BLUE)
    _, bob_id = answered_call(ada, bob, caller_name=names("Ada"), callee_name=names("Bob"))
    return ada, bob, bob_id


def test_enlarge_fills_the_page_and_the_button_or_escape_restores_it(videochat_user, names):
    ada, _, bob_id = in_call(videochat_user, names)
    page = ada.page
    page.set_viewport_size({"width": 1280, "height": 800})
    stage = ada.element.locator(".vc-stage")
    enlarge = ada.enlarge_button
    small = stage.evaluate(_RECT_JS)
    # Each size button says what it does, as its name and as a tooltip on hover.
    for button, words in ((enlarge, "Enlarge the call"), (ada.fullscreen_button, "Full screen"),
                          (ada.pip_button, "Picture-in-picture")):
        expect(button).to_have_accessible_name(words)
        button.hover()
        page.wait_for_function("([b, w]) => { const s = getComputedStyle(b, '::after');"
                               " return s.visibility === 'visible' && s.content === JSON.stringify(w); }",
                               arg=[button.element_handle(), words])
    page.mouse.move(0, 0)
    assert small[2] < 400, "in the sidebar"
    assert page.evaluate(_AT_JS, [200, 300]) != "video-chat", "the page shows beside it"

    for restore in ("button", "Escape"):
        enlarge.click()
        expect(enlarge).to_have_attribute("aria-pressed", "true")
        expect(enlarge).to_have_accessible_name("Restore the call's size")
        page.wait_for_function("([s, w, h]) => { const r = s.getBoundingClientRect();"
                               " return r.left === 0 && r.top === 0 && r.width === w && r.height === h; }",
                               arg=[stage.element_handle(), 1280, 800])
        assert page.evaluate(_AT_JS, [200, 300]) == "video-chat", "nothing of the page covers it"
        # The controls come along, and the call goes on.
        expect(ada.hangup_button).to_be_in_viewport()
        ada.expect_remote_video_playing(bob_id)
        if restore == "button":
            enlarge.click()
        else:
            page.keyboard.press("Escape")
        expect(enlarge).to_have_attribute("aria-pressed", "false")
        expect(enlarge).to_have_accessible_name("Enlarge the call")
        page.wait_for_function("([s, w]) => s.getBoundingClientRect().width === w",
                               arg=[stage.element_handle(), small[2]])
        # The page behind is usable again: what is there is the page, not the call.
        assert page.evaluate(_AT_JS, [200, 300]) != "video-chat"
        expect(page.get_by_role("link", name="People")).to_be_visible()
        ada.expect_in_call_with(bob_id)

    # The device check opens in the sidebar: the enlarged call goes back there first.
    enlarge.click()
    expect(enlarge).to_have_attribute("aria-pressed", "true")
    ada.devices_button.click()
    expect(enlarge).to_have_attribute("aria-pressed", "false")
    expect(ada.camera_select).to_be_in_viewport()
    assert page.evaluate(_AT_JS, [200, 300]) != "video-chat"


def test_full_screen_shows_the_stage_and_the_button_follows_leaving_it(videochat_user, names):
    ada, _, bob_id = in_call(videochat_user, names)
    button = ada.fullscreen_button
    expect(button).to_be_visible()
    button.click()
    ada.page.wait_for_function(
        "el => document.fullscreenElement === el"
        " && el.shadowRoot.fullscreenElement === el.shadowRoot.querySelector('.vc-stage')",
        arg=ada.element.element_handle())
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button).to_have_accessible_name("Exit full screen")
    ada.expect_remote_video_playing(bob_id)
    # Leaving full screen another way (Escape in a browser with its window; headless
    # Chromium takes no browser key from the page, so as the page can) updates it.
    ada.page.evaluate("() => document.exitFullscreen()")
    expect(button).to_have_attribute("aria-pressed", "false")
    expect(button).to_have_accessible_name("Full screen")
    assert ada.page.evaluate("() => document.fullscreenElement") is None
    # And by the button, both ways.
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "false")
    ada.page.wait_for_function("() => document.fullscreenElement === null")


def test_picture_in_picture_takes_the_whole_call_out_and_back(videochat_user, names):
    ada, bob, bob_id = in_call(videochat_user, names)
    # Headless Chromium on a secure origin has Document Picture-in-Picture.
    assert ada.page.evaluate("() => 'documentPictureInPicture' in window")
    pip = ada.pip_button
    pip.click()
    ada.page.wait_for_function("() => documentPictureInPicture.window?.document.querySelector('.vc-stage')")
    in_pip = ada.page.evaluate("""() => {
      const doc = documentPictureInPicture.window.document;
      const stage = doc.querySelector('.vc-stage');
      const video = stage.querySelector('[data-testid="videochat-remote-video"]');
      return {inWidget: Boolean(document.querySelector('video-chat').shadowRoot.querySelector('.vc-stage')),
              controls: Boolean(stage.querySelector('[data-testid="videochat-hangup"]')),
              styled: doc.defaultView.getComputedStyle(stage).position,
              iconDrawn: doc.defaultView.getComputedStyle(stage.querySelector('.vc-icon')).maskImage};
    }""")
    assert in_pip["inWidget"] is False and in_pip["controls"] is True, in_pip
    assert in_pip["styled"] == "absolute", "the widget's stylesheet is in the window"
    assert "lucide" in in_pip["iconDrawn"], "and its icons"
    ada.page.wait_for_function("""() => { const v = documentPictureInPicture.window.document
      .querySelector('[data-testid="videochat-remote-video"]'); return v && !v.paused && v.videoWidth > 0; }""")
    # The controls work from the window: Bob sees Ada muted.
    ada.page.evaluate("""() => documentPictureInPicture.window.document
      .querySelector('[data-testid="videochat-mute"]').click()""")
    bob.expect_peer_muted(ada.own_user_id())
    # The pop-out button is in the window with the call, pressed: it brings the call back.
    assert ada.page.evaluate("""() => documentPictureInPicture.window.document
      .querySelector('[data-testid="videochat-pip"]').getAttribute('aria-pressed')""") == "true"

    # The page says where the call is, with a way back.
    expect(ada.element.get_by_test_id("videochat-pip-home")).to_be_visible()
    expect(ada.element.get_by_test_id("videochat-pip-back")).to_be_visible()

    # Closing the window brings the call back into the page, playing.
    ada.page.evaluate("() => documentPictureInPicture.window.close()")
    expect(ada.element.locator(".vc-stage")).to_be_visible()
    expect(pip).to_have_attribute("aria-pressed", "false")
    ada.expect_remote_video_playing(bob_id)
    ada.page.wait_for_function("""el => !el.shadowRoot
      .querySelector('[data-testid="videochat-remote-video"]').paused""", arg=ada.element.element_handle())
    expect(ada.element.get_by_test_id("videochat-pip-home")).to_have_count(0)
    # And the button in the page does the same.
    pip.click()
    expect(ada.element.get_by_test_id("videochat-pip-back")).to_be_visible()
    ada.element.get_by_test_id("videochat-pip-back").click()
    expect(pip).to_have_attribute("aria-pressed", "false")
    ada.expect_in_call_with(bob_id)


def test_without_document_pip_the_other_persons_video_pops_out(videochat_user, names):
    ada, _, bob_id = in_call(videochat_user, names)
    # As in a browser with only video picture-in-picture.
    ada.page.evaluate("() => { delete Window.prototype.documentPictureInPicture;"
                      " delete window.documentPictureInPicture; }")
    assert ada.page.evaluate("() => 'documentPictureInPicture' in window") is False
    pip = ada.pip_button
    pip.click()
    ada.page.wait_for_function(
        "([el, id]) => el.shadowRoot.pictureInPictureElement?.dataset.userId === id",
        arg=[ada.element.element_handle(), bob_id])
    expect(pip).to_have_attribute("aria-pressed", "true")
    pip.click()
    ada.page.wait_for_function("() => document.pictureInPictureElement === null")
    expect(pip).to_have_attribute("aria-pressed", "false")


def test_a_button_is_hidden_where_the_browser_lacks_its_api(blank_page):
    shown = blank_page.evaluate("""async () => {
      delete Window.prototype.documentPictureInPicture;
      delete window.documentPictureInPicture;
      Object.defineProperty(Document.prototype, "pictureInPictureEnabled", {get: () => false});
      Object.defineProperty(Document.prototype, "fullscreenEnabled", {get: () => false});
      const { StageSize } = await import("/videochat/static/js/stage-size.js");
      const size = new StageSize();
      const stage = document.createElement("section");
      stage.className = "vc-stage";
      document.body.append(stage, size.root);
      size.show({ target: stage });
      return Object.fromEntries(["enlarge", "fullscreen", "pip"].map((k) => [k, !size[k].hidden]));
    }""")
    assert shown == {"enlarge": True, "fullscreen": False, "pip": False}


def test_a_room_enlarges_to_the_page_with_its_bar_in_one_row(videochat_user, names, room_name):
    path = f"/videochat/rooms/{room_name}"
    ada = videochat_user(names("Ada"), colour=RED, path=path)
    bob = videochat_user(names("Bob"), colour=BLUE, path=path)
    ada.join()
    bob.join()
    bob_id = bob.own_user_id()
    ada.expect_in_room([bob_id])
    page = ada.page
    page.set_viewport_size({"width": 390, "height": 844})
    enlarge = ada.enlarge_button
    enlarge.click()
    page.wait_for_function("([r, w, h]) => { const b = r.getBoundingClientRect();"
                           " return b.left === 0 && b.top === 0 && b.width === w && b.height === h; }",
                           arg=[ada.room.element_handle(), 390, 844])
    tops = ada.element.locator(".vc-controls").evaluate(
        "bar => [...bar.querySelectorAll('button')].filter((b) => !b.hidden)"
        ".map((b) => Math.round(b.getBoundingClientRect().top))")
    assert len(tops) >= 6 and len(set(tops)) == 1, tops
    expect(ada.tile(bob_id)).to_be_in_viewport()
    page.keyboard.press("Escape")
    expect(enlarge).to_have_attribute("aria-pressed", "false")
    page.wait_for_function("r => r.getBoundingClientRect().top > 0", arg=ada.room.element_handle())
    ada.expect_in_room([bob_id])
