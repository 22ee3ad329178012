"""People in headless Chromium for the benchmarks that drive the widget: each in a
browser of their own with a solid-colour fake camera, signed in through the site's
form (:func:`person`), and the page scripts several benchmarks use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask_videochat.testing import (
    VideoChatPage,
    launch_chromium,
    sign_in_with_form,
    write_solid_y4m,
)

#: In a page: click the widget's button ``testid``; returns ``Date.now()`` of the
#: click (taken just before it, so that the click's own work counts).
CLICK_JS = """(el, testid) => {
  const b = el.shadowRoot.querySelector(`[data-testid="${testid}"]`);
  const t = Date.now();
  b.click();
  return t;
}"""

#: In a page: whether the widget's camera preview has a live stream.
PREVIEW_READY = ("el => el.shadowRoot.querySelector('[data-testid=\"videochat-local-video\"]')"
                 "?.srcObject?.active")


def person(pw: Any, url: str, name: str, colour: tuple[int, int, int], tmp: Path, *,
           timeout: float = 30.0, init_script: str | None = None) -> VideoChatPage:
    """``name`` in a Chromium of their own whose camera shows ``colour`` (a y4m file
    in ``tmp``), signed in on the site at ``url`` through its form; ``init_script``
    runs in every page before the page's own scripts."""
    camera = write_solid_y4m(tmp / f"{name.replace(' ', '-')}.y4m", colour)
    context = launch_chromium(pw, video_file=camera).new_context()
    if init_script:
        context.add_init_script(init_script)
    page = context.new_page()
    sign_in_with_form(page, url, name)
    return VideoChatPage(page, timeout=timeout)


def click(p: VideoChatPage, testid: str) -> float:
    """Click the widget's button ``testid``; ``Date.now()`` in the page at the click."""
    return float(p.element.evaluate(CLICK_JS, testid))


def wait_preview(p: VideoChatPage, timeout: float = 30.0) -> None:
    """Wait until the camera preview shows a live stream."""
    p.page.wait_for_function(PREVIEW_READY, arg=p.element.element_handle(),
                             timeout=timeout * 1000)


def marks(pages: list[VideoChatPage], name: str, timeout: float = 60.0) -> list[float]:
    """Wait until ``window[name]`` (a time a page script noted) is set in every page;
    their values, in order."""
    for p in pages:
        p.page.wait_for_function(f"() => window.{name} !== null", timeout=timeout * 1000)
    return [float(p.page.evaluate(f"window.{name}")) for p in pages]
