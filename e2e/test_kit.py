"""The test kit's helpers, used against the example site as a host app uses them:
signing in through a form of several fields, a person's console errors and CSP
violations, the error alert, a viewport per person, screenshots, and your own
user id without asking anyone's presence list."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import Route, expect

from flask_videochat.testing import BLUE, RED, sign_in_with_form
from tests.docs_examples import code_blocks

#: A sign-in page like a host app's: email, password, "Remember me", a CSRF token.
LOGIN_FORM = """<!doctype html><title>Log in</title>
<form method="post" action="/accounts/login">
  <input type="hidden" name="csrf_token" value="tok-123">
  <label for="email">Email</label> <input id="email" name="email" type="email">
  <label>Password <input name="password" type="password"></label>
  <label><input name="remember" type="checkbox"> Remember me</label>
  <input name="name" aria-label="Name">
  <button>Log in</button>
</form>"""


def serve_login_form(page, base_url: str) -> list[dict[str, list[str]]]:
    """Answer ``/accounts/login`` on ``page`` with :data:`LOGIN_FORM` (in the
    browser: no server involved); returns the list the posted forms go to."""
    posted: list[dict[str, list[str]]] = []

    def handle(route: Route) -> None:
        if route.request.method == "POST":
            posted.append(parse_qs(route.request.post_data or ""))
            route.fulfill(content_type="text/html", body="<!doctype html><title>Welcome</title>")
        else:
            route.fulfill(content_type="text/html", body=LOGIN_FORM)

    page.route(base_url + "/accounts/login", handle)
    return posted


#: The host app of the sign-in tests: every request to it is answered in the browser.
HOST = "http://127.0.0.1:9"


def test_sign_in_fills_every_field_of_the_form(videochat_launch):
    page = videochat_launch().new_context().new_page()
    posted = serve_login_form(page, HOST)

    sign_in_with_form(page, HOST,
                      {"Email": "ada@example.org", "Password": "s3cret", "Remember me": True},
                      path="/accounts/login", button="Log in")
    expect(page).to_have_title("Welcome")
    # A selector works where a label does not fit; the old one-field call still works.
    sign_in_with_form(page, HOST, {"#email": "bob@example.org", "input[name=password]": "pw"},
                      path="/accounts/login", button="Log in")
    sign_in_with_form(page, HOST, "Cy", path="/accounts/login", button="Log in")

    assert posted == [
        {"csrf_token": ["tok-123"], "email": ["ada@example.org"], "password": ["s3cret"],
         "remember": ["on"]},
        {"csrf_token": ["tok-123"], "email": ["bob@example.org"], "password": ["pw"]},
        {"csrf_token": ["tok-123"], "name": ["Cy"]},
    ]


def test_the_docs_sign_in_fixture_signs_in_by_email_and_password(videochat_launch):
    """docs/testing.md's ``videochat_sign_in`` override, run against such a form."""
    [block] = [b for b in code_blocks() if "def videochat_sign_in" in b.code]
    namespace: dict[str, object] = {"__name__": "docs_example"}
    exec(compile(block.code, block.where, "exec"), namespace)
    sign_in = namespace["videochat_sign_in"].__wrapped__()  # type: ignore[attr-defined]
    page = videochat_launch().new_context().new_page()
    posted = serve_login_form(page, HOST)
    sign_in(page, HOST, "Ada")
    expect(page).to_have_title("Welcome")
    assert posted == [{"csrf_token": ["tok-123"], "email": ["ada@example.org"],
                       "password": ["correct horse battery staple"]}]


def test_console_errors_are_collected_per_person_in_every_tab(videochat_user,
                                                              videochat_base_url, names):
    ada = videochat_user(names("Ada"), colour=RED)
    bob = videochat_user(names("Bob"), colour=BLUE)
    ada.user_id_of(names("Bob"))
    # Signing in and the widget's start leave nothing in the console.
    ada.expect_no_console_errors()

    with ada.page.expect_console_message(lambda m: "boom from the page" in m.text):
        ada.page.evaluate("() => console.error('boom from the page')")
    with pytest.raises(AssertionError, match="boom from the page"):
        ada.expect_no_console_errors()
    ada.expect_no_console_errors(ignore=["boom from"])
    bob.expect_no_console_errors()  # Bob's browser saw none of it

    # An uncaught exception, in another tab of Ada's.
    tab = ada.page.context.new_page()
    tab.goto(videochat_base_url + "/")
    with tab.expect_event("pageerror"):
        tab.evaluate("() => { setTimeout(() => { throw new Error('kaboom in a tab'); }); }")
    with pytest.raises(AssertionError, match=r"\[pageerror\].*kaboom in a tab"):
        ada.expect_no_console_errors(ignore=["boom from"])
    bob.expect_no_console_errors()


@pytest.mark.parametrize("policy", ["img-src 'none'", "script-src 'self'"])
def test_content_security_policy_violations_are_collected(videochat_user,
                                                          videochat_base_url, names, policy):
    ada = videochat_user(names("Ada"), colour=RED)
    probe = videochat_base_url + "/kit-csp-probe"
    body = ('<!doctype html><title>Probe</title><img src="/static/nowhere.png">'
            '<script>document.title = "inline ran"</script>')
    ada.page.route(probe, lambda route: route.fulfill(
        content_type="text/html", body=body, headers={"Content-Security-Policy": policy}))
    ada.page.goto(probe)
    directive = policy.split()[0]
    # Wait for the page to have seen the violation (the kit's listener counts them).
    ada.page.wait_for_function("() => window.__videochatViolations.seen > 0")
    with pytest.raises(AssertionError, match=rf"\[csp\] {directive}\S* blocked"):
        ada.expect_no_console_errors()
    if directive == "script-src":
        expect(ada.page).to_have_title("Probe")  # the inline script did not run


def test_expect_error_shows_a_refused_call(videochat_user, names):
    ada = videochat_user(names("Ada"), colour=RED)
    ada.own_user_id()  # connected
    with pytest.raises(AssertionError):
        ada.expect_error("not online", timeout=0.2)  # nothing refused yet
    ada.element.evaluate("el => el.call('nobody-has-this-id')")
    ada.expect_error("That person is not online.", code="ERR_USER_OFFLINE")
    with pytest.raises(AssertionError):
        ada.expect_error("That person is not online.", code="ERR_FORBIDDEN", timeout=0.2)


def test_each_person_has_their_own_viewport(videochat_user, names):
    phone = videochat_user(names("Ada"), colour=RED, viewport=(390, 700))
    desk = videochat_user(names("Bob"), colour=BLUE)
    assert phone.page.evaluate("() => [innerWidth, innerHeight]") == [390, 700]
    assert desk.page.evaluate("() => innerWidth") == 1280
    phone.expect_online(phone.user_id_of(names("Bob")))
    box = phone.element.bounding_box()
    assert box is not None and 0 < box["width"] <= 390


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_screenshots_of_the_widget_and_of_the_page(videochat_user, names, tmp_path):
    ada = videochat_user(names("Ada"), colour=RED, viewport=(800, 600))
    ada.own_user_id()
    # A box of a known size: people coming and going on the shared site would
    # otherwise change the widget's height between measuring and shooting.
    ada.element.evaluate("el => Object.assign(el.style, {display: 'block', width: '300px',"
                         " height: '200px', overflow: 'hidden'})")
    widget = ada.screenshot(tmp_path / "shots" / "widget.png")
    assert widget == tmp_path / "shots" / "widget.png"
    assert png_size(widget) == (300, 200)
    page_width, page_height = png_size(ada.screenshot(tmp_path / "page.png", whole_page=True))
    assert page_width == 800 and page_height >= 600


def test_own_user_id_needs_no_one_elses_list(videochat_user, names):
    ada = videochat_user(names("Ada"), colour=RED)
    # The example site derives ids from names: the id the host knows.
    known = hashlib.sha256(names("Ada").encode()).hexdigest()[:12]
    assert ada.own_user_id() == known
    bob = videochat_user(names("Bob"), colour=BLUE)
    assert bob.user_id_of(names("Ada")) == known
    bob.call(known)
    ada.expect_ringing(names("Bob"))
