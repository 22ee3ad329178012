"""The example site's forms against cross-site requests, in real Chromium: a page of
another origin that posts to the site's ``/logout`` from the signed-in person's
browser (their cookies go along; the form's CSRF token cannot) signs nobody out and
ends no call, while the site's own Sign out button still works."""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest
from playwright.sync_api import expect

from flask_videochat.testing import BLUE, RED, LiveServer, answered_call


@pytest.fixture
def other_origin(example_site: LiveServer) -> Iterator[str]:
    """The origin of a second tiny site (another port of 127.0.0.1: another origin,
    though the same *site* for cookies, so SameSite would not stop it) whose page
    ``/prize`` posts a form to the example site's ``/logout`` as soon as it loads."""
    page = (
        "<!doctype html><title>You won a prize</title>"
        f'<form method="post" action="{example_site.url}/logout"></form>'
        "<script>document.forms[0].submit()</script>"
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_page_of_another_origin_signs_nobody_out_and_ends_no_call(
        example_site, other_origin, videochat_user, names):
    ada = videochat_user(names("Ada"), colour=RED)
    bob = videochat_user(names("Bob"), colour=BLUE)
    ada_id, bob_id = answered_call(ada, bob, caller_name=names("Ada"), callee_name=names("Bob"))

    # Ada opens the other site's page in a new tab: it posts to /logout at once.
    lure = ada.page.context.new_page()
    with lure.expect_response(f"{example_site.url}/logout") as posted:
        lure.goto(other_origin + "/prize")
    lure.wait_for_url(re.compile(re.escape(example_site.url) + "/"))
    sent = posted.value.request.all_headers()
    assert sent["origin"] == other_origin
    assert "session=" in sent.get("cookie", ""), "her browser sent her cookies along"

    # She is still signed in, and her call goes on: her connection still carries it.
    home = ada.page.context.request.get(example_site.url + "/").text()
    assert f"Signed in as <strong>{names('Ada')}</strong>" in home
    ada.send_chat("Still here")
    bob.expect_chat_message("Still here", sender=names("Ada"))
    ada.expect_in_call_with(bob_id)
    bob.expect_in_call_with(ada_id)
    # The other site's tab shows the refusal, in words.
    assert posted.value.status == 400
    expect(lure.get_by_text("You are still signed in")).to_be_visible()

    # The site's own Sign out button (its form holds the token) does sign her out.
    header = ada.page.get_by_role("banner")
    header.get_by_role("button", name="Sign out").click()
    expect(header.get_by_role("link", name="Sign in")).to_be_visible()
    bob.expect_offline(ada_id)
