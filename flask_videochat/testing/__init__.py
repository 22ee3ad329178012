"""Tools for testing a site that uses flask-videochat in real Chromium.

The same tools drive flask-videochat's own end-to-end suite. They need the
``testing`` extra (``pip install "flask-videochat[testing]"``: pytest and
Playwright), with Chromium from the system (Debian's ``chromium`` package) when
there is one.

- :func:`launch_chromium` starts Chromium with a fake camera and microphone
  (optionally a solid-colour camera from :func:`write_solid_y4m`, or refused access).
- :class:`LiveServer` runs your site in a subprocess on a free port.
- :class:`Coturn` runs a coturn TURN server on loopback for ``VIDEOCHAT_TURN_*``.
- :class:`VideoChatPage` is a page object for the ``<video-chat>`` widget, with
  ``expect_*`` methods that wait for what a person would see.
- :class:`ConsoleLog` (:func:`watch_console`) collects a person's console errors,
  uncaught exceptions and CSP violations (:class:`PageProblem`).

The pytest fixtures built on them are in :mod:`flask_videochat.pytest_plugin`.
The kit's modules: :mod:`.browser`, :mod:`.media`, :mod:`.services`, :mod:`.flows`,
:mod:`.page`, ``console``; their public names are all here.

Example::

    with sync_playwright() as pw:
        browser = launch_chromium(pw, video_file=write_solid_y4m(tmp / "red.y4m", RED))
        page = VideoChatPage(browser.new_page())
        page.page.goto(url)
        page.expect_online("2")
"""

from __future__ import annotations

from .browser import (
    FAKE_MEDIA_ARGS,
    MEDIA_ACCESS,
    NetworkCut,
    chromium_args,
    find_chromium,
    launch_chromium,
    only_loopback,
)
from .console import ConsoleLog, PageProblem, watch_console
from .flows import answered_call, sign_in_with_form
from .media import (
    BLUE,
    GREEN,
    RED,
    SECOND_CAMERA_ID,
    SECOND_CAMERA_LABEL,
    add_second_camera,
    write_solid_y4m,
)
from .page import DEFAULT_TIMEOUT, VideoChatPage
from .services import Coturn, LiveServer, RedisServer, example_site_command, free_port, terminate

__all__ = [
    "BLUE",
    "DEFAULT_TIMEOUT",
    "FAKE_MEDIA_ARGS",
    "GREEN",
    "MEDIA_ACCESS",
    "RED",
    "SECOND_CAMERA_ID",
    "SECOND_CAMERA_LABEL",
    "ConsoleLog",
    "Coturn",
    "LiveServer",
    "NetworkCut",
    "PageProblem",
    "RedisServer",
    "VideoChatPage",
    "add_second_camera",
    "answered_call",
    "chromium_args",
    "example_site_command",
    "find_chromium",
    "free_port",
    "launch_chromium",
    "only_loopback",
    "sign_in_with_form",
    "terminate",
    "watch_console",
    "write_solid_y4m",
]
