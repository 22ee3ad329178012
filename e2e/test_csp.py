"""The example site under its strict Content-Security-Policy (example_site/csp.py):
the extension's own room page works with a nonce per response and no
'unsafe-inline', and a violation does reach the report log that fails e2e tests
(conftest.py's ``no_csp_violations``)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from example_site.csp import ReportLog


def _policy(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return str(response.headers["Content-Security-Policy"])


def test_every_page_gets_a_strict_policy_with_a_fresh_nonce(example_site, room_name):
    pages = ["/", "/login", f"/videochat/rooms/{room_name}", f"/videochat/rooms/{room_name}"]
    policies = [_policy(example_site.url + path) for path in pages]
    nonces = [re.search(r"script-src 'nonce-([\w-]+)' 'strict-dynamic'", p) for p in policies]
    assert all(nonces), policies
    assert len({n.group(1) for n in nonces}) == len(pages)  # one per response
    for p in policies:
        assert "unsafe-inline" not in p and "unsafe-eval" not in p
        assert "default-src 'none'" in p and "style-src 'self'" in p
        assert "report-uri /csp-report" in p


def test_the_room_page_works_under_the_strict_policy(videochat_user, names, room_name):
    ada = videochat_user(names("Ada"), path=f"/videochat/rooms/{room_name}")
    # The page's module script ran (it carries the response's nonce): the widget
    # connected and offers to join.
    expect(ada.join_button).to_be_enabled()
    ada.join()
    expect(ada.room).to_be_visible()
    expect(ada.local_video).to_be_visible()
    # The stylesheets linked in the shadow root loaded (style-src 'self').
    ada.page.wait_for_function("""el => {
        const links = [...el.shadowRoot.querySelectorAll("link[rel=stylesheet]")];
        return links.length >= 2 && links.every((l) => l.sheet && l.sheet.cssRules.length);
    }""", arg=ada.element.element_handle())


def _wait_for_reports(log: ReportLog, timeout: float = 20.0) -> list:
    """The reports that arrived, once at least one has (browsers send them
    asynchronously)."""
    deadline = time.monotonic() + timeout
    while not log.pending():
        if time.monotonic() > deadline:
            raise AssertionError("no CSP report arrived")
        time.sleep(0.05)  # polling the log file: a condition, not a delay
    return log.pending()


def test_a_violation_is_reported_and_fails_the_test(
        example_site, blank_page, csp_report_log, csp_check):
    blank_page.goto(example_site.url + "/login")
    # What a widget building DOM with a style attribute would do (h("div", {style}))
    # instead of a class or el.style: refused by style-src 'self'.
    colour = blank_page.evaluate("""() => {
        const note = document.createElement("p");
        note.setAttribute("style", "color: rgb(255, 0, 0)");
        document.body.append(note);
        return getComputedStyle(note).color;
    }""")
    assert colour != "rgb(255, 0, 0)"  # the style never applied

    reports = _wait_for_reports(csp_report_log)
    assert any("style-src-attr" in str(r) and "/login" in str(r) for r in reports), reports
    # What the autouse fixture does at the end of every test: here it fails,
    # naming the blocked script and the page.
    caught = r"style-src-attr blocked inline on http://\S+/login"
    with pytest.raises(pytest.fail.Exception, match=caught):
        csp_check()
    assert csp_report_log.pending() == []  # taken: this test itself passes


#: A suite of two tests run with e2e/conftest.py: the first causes a violation and
#: waits for its report, doing nothing about it; the second is innocent.
_INNER_SUITE = """
import time

def test_causes_a_violation(example_site, blank_page, csp_report_log):
    blank_page.goto(example_site.url + "/login")
    blank_page.evaluate(\'\'\'() => {
        const note = document.createElement("p");
        note.setAttribute("style", "color: red");
        document.body.append(note);
    }\'\'\')
    while not csp_report_log.pending():
        time.sleep(0.05)  # the report is on its way: the test waits for it

def test_innocent():
    pass
"""


def test_the_autouse_fixture_fails_the_test_that_caused_a_violation(tmp_path):
    """Run a suite with this directory's conftest.py in another pytest: the test
    that caused a violation fails (an error at teardown, naming it), the next one
    passes."""
    (tmp_path / "conftest.py").write_text((Path(__file__).parent / "conftest.py").read_text())
    (tmp_path / "test_inner.py").write_text(_INNER_SUITE)
    root = str(Path(__file__).parents[1])  # example_site, not installed
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [root, *filter(None, [os.environ.get("PYTHONPATH")])])}
    env.pop("EXAMPLE_SITE_CSP_REPORT_LOG", None)  # the inner session sets its own
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rE",
         "--rootdir", str(tmp_path), str(tmp_path / "test_inner.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "2 passed, 1 error" in out, out
    assert "ERROR at teardown of test_causes_a_violation" in out, out
    assert re.search(r"style-src-attr blocked inline on http://\S+/login", out), out

