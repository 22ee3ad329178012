"""End-to-end tests: the example site on eventlet, real Chromium with fake devices.

The fixtures come from flask-videochat's own pytest plugin (the kit host apps use);
this file only says where the site is.
"""

from __future__ import annotations

import itertools
import os
import shutil
import uuid
from typing import Callable, Iterator

import pytest

from example_site.csp import ReportLog, describe
from flask_videochat.testing import Coturn, LiveServer, example_site_command, launch_chromium


@pytest.fixture(scope="session")
def example_sites() -> Iterator[dict[str, LiveServer]]:
    """``python -m example_site`` servers on free loopback ports, started on first
    use (one per async mode) and stopped at the end of the session."""
    sites: dict[str, LiveServer] = {}
    yield sites
    for server in sites.values():
        server.stop()


@pytest.fixture
def example_site(example_sites: dict[str, LiveServer],
                 request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """The example site on eventlet (or the async mode a test names with
    ``@pytest.mark.parametrize("example_site", ["threading"], indirect=True)``).
    Its log is printed when the test fails."""
    mode = getattr(request, "param", "eventlet")
    if mode not in example_sites:
        example_sites[mode] = LiveServer(
            example_site_command(async_mode=mode),
            # The defaults a site gets (rate limits on, in memory), but for rooms of
            # three, so that a fourth person finds one full, and no ICE servers (no
            # test packet leaves the machine).
            env={"VIDEOCHAT_ICE_SERVERS": "[]", "VIDEOCHAT_ROOM_CAPACITY": "3"},
        ).start()
    server = example_sites[mode]
    yield server
    if getattr(request.node, "videochat_report_call", None) and \
            request.node.videochat_report_call.failed:
        print(f"--- example_site ({mode}) log ---\n{server.output()}")


@pytest.fixture
def videochat_base_url(example_site: LiveServer) -> str:
    return example_site.url


@pytest.fixture(scope="session")
def coturn() -> Iterator[Coturn]:
    """A coturn TURN server on loopback for the session, taking credentials minted
    with its ``secret`` (see :class:`~flask_videochat.testing.Coturn`). Fails when
    Debian's coturn is not installed (``scripts/test`` installs it as root)."""
    if not shutil.which("turnserver"):
        # Not a skip: nothing may be skipped (scripts/test installs coturn as root).
        pytest.fail("turnserver not found: install Debian's coturn package")
    with Coturn() as server:
        yield server


@pytest.fixture
def room_name(request: pytest.FixtureRequest) -> str:
    """A room name unique to this test."""
    return f"room-{next(Names._count)}-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def names(request: pytest.FixtureRequest) -> Names:
    """Display names unique to this test, so tests sharing the site never meet."""
    return Names(request.node.name)


class Names:
    _count = itertools.count(1)

    def __init__(self, test: str) -> None:
        self._suffix = f"#{next(self._count)}"

    def __call__(self, name: str) -> str:
        return f"{name} {self._suffix}"


@pytest.fixture(scope="module")
def module_browser(videochat_playwright):
    """One Chromium (fake devices) for a module whose tests need no camera of their
    own: the widget's plain modules driven from a page."""
    browser = launch_chromium(videochat_playwright)
    yield browser
    browser.close()


@pytest.fixture
def blank_page(module_browser, example_site):
    """A fresh page of the example site (a secure context: loopback), no one signed
    in, for importing the widget's modules."""
    context = module_browser.new_context()
    page = context.new_page()
    page.goto(example_site.url + "/healthz")
    yield page
    context.close()


@pytest.fixture(scope="module")
def scene_browser(videochat_playwright):
    """One Chromium for a module that builds scenes of several people (scenes.py),
    a context each: its fake camera makes 10 frames a second rather than its default
    20, half the encoding and decoding, for pictures that only have to be there."""
    browser = launch_chromium(videochat_playwright,
                              extra_args=["--use-fake-device-for-media-stream=fps=10"])
    yield browser
    browser.close()
# -- the example site's strict Content-Security-Policy ----------------------------------
#
# Every example site of the session (the shared ones above, and those tests start
# themselves) logs the CSP violation reports browsers send it to one file; a test
# during which a report arrived fails. A report that arrives after a test's check
# fails the next check (or the session's last one): none is lost.

#: The environment variable naming the example site's report log (example_site/csp.py).
CSP_REPORT_LOG_ENV = "EXAMPLE_SITE_CSP_REPORT_LOG"


@pytest.fixture(scope="session", autouse=True)
def csp_report_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReportLog]:
    """The report log of every example site started in this session."""
    path = tmp_path_factory.mktemp("csp") / "reports.jsonl"
    previous = os.environ.get(CSP_REPORT_LOG_ENV)
    os.environ[CSP_REPORT_LOG_ENV] = str(path)  # LiveServer passes it on
    log = ReportLog(path)
    yield log
    if previous is None:
        os.environ.pop(CSP_REPORT_LOG_ENV, None)
    else:
        os.environ[CSP_REPORT_LOG_ENV] = previous
    fail_on_csp_reports(log)


def fail_on_csp_reports(log: ReportLog) -> None:
    """Fail (``pytest.fail``) when reports arrived since the last check, naming each;
    they count as checked."""
    reports = log.take()
    if reports:
        pytest.fail("the example site got Content-Security-Policy violation reports:\n"
                    + "\n".join(f"- {describe(r)}" for r in reports), pytrace=False)


@pytest.fixture
def csp_check(csp_report_log: ReportLog) -> Callable[[], None]:
    """The check :func:`no_csp_violations` makes after each test, for a test to make
    itself: ``csp_check()`` fails on the reports that arrived since the last check."""
    return lambda: fail_on_csp_reports(csp_report_log)


@pytest.fixture(autouse=True)
def no_csp_violations(csp_report_log: ReportLog) -> Iterator[None]:
    """Fail the test when a CSP violation report arrived while it ran."""
    yield
    fail_on_csp_reports(csp_report_log)

