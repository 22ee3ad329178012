"""pytest fixtures for testing a site's video calls in real Chromium.

Installed as a pytest plugin (entry point ``videochat``) with flask-videochat;
Playwright is imported only when a fixture is used, so the plugin costs nothing in
suites that do not use it.

Fixtures:

``videochat_base_url``
    Your site's URL. **Define it** in your ``conftest.py`` (for example from a
    :class:`~flask_videochat.testing.LiveServer`).
``videochat_sign_in``
    ``sign_in(page, base_url, name)``; default: a form at ``/login`` with a ``Name``
    field and a ``Sign in`` button. Override it for your own sign-in.
``videochat_launch``
    ``launch(video_file=None, media_access="granted") -> Browser``: a Chromium with
    fake media; closed after the test.
``videochat_user``
    ``user(name, *, colour=None, second_camera=None, media_access="granted", permissions=None,
    path="/", base_url=None, viewport=None)
    -> VideoChatPage``: a person signed in, in their own browser (own fake camera,
    solid ``colour``), on ``path``. With ``media_access="site-settings"``,
    ``permissions`` (e.g. ``["microphone"]``) are what the person allowed.
    ``viewport=(390, 844)`` gives them a window of that size in CSS pixels (a phone).
    ``page.context.new_page()`` opens another tab for that person. Console errors,
    uncaught exceptions and CSP violations of all their tabs are collected from the
    start (``expect_no_console_errors()``).

On a failed test, each browser context's Playwright trace is kept under
``test-results/<test name>/`` (open with ``playwright show-trace``).

Example::

    def test_call(videochat_user):
        ada = videochat_user("Ada", colour=RED)
        bob = videochat_user("Bob", colour=BLUE)
        ada.call(bob.own_user_id())
        bob.expect_ringing("Ada")
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

import pytest

from .browser import launch_chromium
from .console import watch_console
from .flows import sign_in_with_form
from .media import add_second_camera, write_solid_y4m
from .page import VideoChatPage

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright

#: Where traces of failed tests go.
RESULTS_DIR = Path("test-results")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"videochat_report_{report.when}", report)
    return report


def _failed(request: pytest.FixtureRequest) -> bool:
    return any(
        getattr(getattr(request.node, f"videochat_report_{when}", None), "failed", False)
        for when in ("setup", "call")
    )


@pytest.fixture(scope="session")
def videochat_playwright() -> Iterator[Playwright]:
    """A Playwright driver for the session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture
def videochat_launch(videochat_playwright: Playwright,
                     request: pytest.FixtureRequest) -> Iterator[Callable[..., Browser]]:
    """``launch(video_file=None, media_access="granted") -> Browser``; traces of every
    context are saved when the test fails, and each context's console is watched
    (:func:`~flask_videochat.testing.watch_console`) from its first page."""
    browsers: list[Browser] = []
    contexts: list[BrowserContext] = []

    def launch(**kwargs: Any) -> Browser:
        browser = launch_chromium(videochat_playwright, **kwargs)
        original = browser.new_context

        def new_context(**options: Any) -> BrowserContext:
            context = original(**options)
            context.tracing.start(snapshots=True)
            watch_console(context)
            contexts.append(context)
            return context

        browser.new_context = new_context  # type: ignore[method-assign]
        browsers.append(browser)
        return browser

    yield launch
    failed = _failed(request)
    out = RESULTS_DIR / re.sub(r"[^\w.-]+", "_", request.node.nodeid)
    for i, context in enumerate(contexts):
        try:
            if failed:
                out.mkdir(parents=True, exist_ok=True)
                context.tracing.stop(path=str(out / f"trace-{i}.zip"))
            else:
                context.tracing.stop()
        except Exception:  # the browser may be gone already; keep tearing down
            pass
    for browser in browsers:
        browser.close()


@pytest.fixture
def videochat_base_url() -> str:
    """Your site's base URL: define this fixture in your conftest."""
    raise pytest.UsageError(
        "Define a `videochat_base_url` fixture returning your site's URL "
        "(see flask_videochat.testing.LiveServer)."
    )


@pytest.fixture
def videochat_sign_in() -> Callable[[Page, str, str], None]:
    """``sign_in(page, base_url, name)``: the form at ``/login`` by default."""
    return sign_in_with_form


@pytest.fixture
def videochat_user(videochat_launch: Callable[..., Browser], videochat_base_url: str,
                   videochat_sign_in: Callable[[Page, str, str], None],
                   tmp_path: Path) -> Callable[..., VideoChatPage]:
    """``user(name, *, colour=None, second_camera=None, media_access="granted",
    permissions=None, path="/", base_url=None, viewport=None, locale=None) -> VideoChatPage``;
    ``second_camera=RGB`` adds a second camera of that colour
    (:func:`~flask_videochat.testing.add_second_camera`); ``base_url`` signs in on
    another server than ``videochat_base_url`` (another process of a site on
    Redis); ``viewport=(width, height)`` in CSS pixels sizes the person's window
    (Playwright's default: 1280 x 720); ``locale="de-DE"`` sets the browser's
    language (``navigator.language`` and the ``Accept-Language`` header, so the
    widget speaks German when your site follows it)."""

    def user(name: str, *, colour: tuple[int, int, int] | None = None,
             second_camera: tuple[int, int, int] | None = None,
             media_access: str = "granted", permissions: list[str] | None = None,
             path: str = "/", base_url: str | None = None,
             viewport: tuple[int, int] | None = None,
             locale: str | None = None) -> VideoChatPage:
        site = base_url or videochat_base_url
        video = None
        if colour is not None:
            video = write_solid_y4m(tmp_path / f"camera-{len(list(tmp_path.iterdir()))}.y4m",
                                    colour)
        browser = videochat_launch(video_file=video, media_access=media_access)
        # An explicit permissions list (even empty) overrides the browser's answer
        # for every other permission: pass it only when asked.
        options: dict[str, Any] = {}
        if permissions is not None:
            options["permissions"] = permissions
        if viewport is not None:
            options["viewport"] = {"width": viewport[0], "height": viewport[1]}
        if locale is not None:
            options["locale"] = locale
        context = browser.new_context(**options)
        if second_camera is not None:
            add_second_camera(context, second_camera)
        page = context.new_page()
        videochat_sign_in(page, site, name)
        page.goto(site + path)
        return VideoChatPage(page)

    return user
