"""The example site: its configuration (a secret key kept in its instance folder, a
site that cannot work, two processes with two keys on one store, refusing to start)
and its forms, protected against cross-site requests by Flask-WTF's CSRF tokens."""

from __future__ import annotations

import json
import logging
import re
import shutil
import stat
import sys
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Callable, Iterator

import itsdangerous
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIOTestClient
from werkzeug.test import TestResponse

from example_site.app import create_app
from flask_videochat import NAMESPACE, VideoChat
from flask_videochat.testing import LiveServer
from flask_videochat.testing.services import RedisServer


@pytest.fixture(autouse=True)
def no_secret_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("VIDEOCHAT_STORE_URL", raising=False)


def test_the_secret_key_is_made_once_and_kept_in_the_instance_folder(tmp_path: Path) -> None:
    first = create_app(instance_path=str(tmp_path))
    key = first.config["SECRET_KEY"]
    kept = tmp_path / "secret_key"
    assert kept.read_text() == key and len(key) == 64
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600, "readable by its owner only"
    assert create_app(instance_path=str(tmp_path)).config["SECRET_KEY"] == key
    assert list(tmp_path.iterdir()) == [kept], "no scratch file left behind"


def test_a_restarted_site_keeps_people_signed_in(tmp_path: Path) -> None:
    before = create_app({"TESTING": True}, instance_path=str(tmp_path))
    client = before.test_client()
    sign_in(client, "Ada")
    assert client.get("/people").status_code == 200
    cookie = client.get_cookie("session")
    assert cookie is not None

    after = create_app({"TESTING": True}, instance_path=str(tmp_path))  # a restart
    again = after.test_client()
    again.set_cookie("session", cookie.value)
    assert again.get("/people").status_code == 200, "still signed in"


def test_secret_key_from_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert create_app(instance_path=str(tmp_path)).config["SECRET_KEY"] == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


def test_a_second_process_with_another_secret_key_refuses_to_start(tmp_path: Path) -> None:
    """Two example_site processes on one Redis with different SECRET_KEYs: the
    second one exits at start-up saying why, instead of serving calls that ring and
    never connect."""
    if not shutil.which("redis-server"):
        pytest.fail("redis-server not found: install Debian's redis-server package")
    command = [sys.executable, "-m", "example_site", "--port", "{port}"]
    with RedisServer() as redis_server:
        env = {"VIDEOCHAT_STORE_URL": redis_server.url, "VIDEOCHAT_ICE_SERVERS": "[]"}
        with LiveServer(command, env={**env, "SECRET_KEY": "first"}) as first:
            second = LiveServer(command, env={**env, "SECRET_KEY": "second"}, timeout=15)
            with pytest.raises(RuntimeError) as refused:
                second.start()
            assert "did not come up" in str(refused.value)
            assert "different SECRET_KEY" in str(refused.value), "the output says why"
            assert "example_site: cannot start:" in str(refused.value)
            assert "Traceback" not in str(refused.value) + first.output()
            # The same key joins the site (start() raises if it does not come up).
            with LiveServer(command, env={**env, "SECRET_KEY": "first"}) as third:
                assert "cannot start" not in third.output()


# -- the site's forms: CSRF tokens (Flask-WTF) ---------------------------------------
#
# Tests and tools post the site's forms as a browser does: they fetch the page, and
# send every field of the form, hidden ones (the CSRF token) included.

#: Where a page of another site would send the victim's browser from.
OTHER_SITE = {"Origin": "https://evil.example", "Referer": "https://evil.example/win"}

#: What a refused sign-in says.
FORM_EXPIRED = "Your sign-in form expired; please try again."


@dataclass
class Form:
    """One ``<form>`` of a page: where it goes and the value of each field."""

    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1].fields[a["name"]] = a.get("value", "")


def page_forms(html: str) -> list[Form]:
    """Every form of ``html``, in order."""
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def find_form(client: FlaskClient, path: str, action: str) -> Form:
    """The form of page ``path`` that posts to ``action`` (``""``: to the page itself)."""
    html = client.get(path).get_data(as_text=True)
    found = [form for form in page_forms(html) if form.action == action]
    assert len(found) == 1, f"no single form to {action!r} on {path}: {html}"
    return found[0]


def submit(client: FlaskClient, path: str, action: str = "", **fields: str) -> TestResponse:
    """Fill the form of ``path`` that posts to ``action`` with ``fields`` and submit it,
    as a browser does: its hidden fields (the CSRF token) travel too."""
    form = find_form(client, path, action)
    assert form.method == "post"
    return client.post(action or path, data={**form.fields, **fields})


def sign_in(client: FlaskClient, name: str) -> None:
    response = submit(client, "/login", name=name)
    assert response.status_code == 302, response.get_data(as_text=True)


def signed_in_as(client: FlaskClient) -> str | None:
    """Whose name the site's pages show as signed in, if anyone's."""
    html = client.get("/").get_data(as_text=True)
    match = re.search(r"Signed in as <strong>([^<]*)</strong>", html)
    return match.group(1) if match else None


@pytest.fixture(params=("threading", "eventlet"))
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Flask:
    """The example site with its defaults (CSRF protection on), under each async mode."""
    return create_app({"TESTING": True, "VIDEOCHAT_ICE_SERVERS": []},
                      async_mode=request.param, instance_path=str(tmp_path))


@pytest.fixture
def open_tab(site: Flask) -> Iterator[Callable[[FlaskClient], SocketIOTestClient]]:
    """``open_tab(client)``: a ``/videochat`` connection in that browser (closed after
    the test)."""
    tabs: list[SocketIOTestClient] = []

    def open_tab(client: FlaskClient) -> SocketIOTestClient:
        tab = site.extensions["socketio"].test_client(
            site, namespace=NAMESPACE, flask_test_client=client)
        assert tab.is_connected(NAMESPACE)
        tabs.append(tab)
        return tab

    yield open_tab
    for tab in tabs:
        if tab.is_connected(NAMESPACE):
            tab.disconnect(namespace=NAMESPACE)
        SocketIOTestClient.clients.pop(tab.eio_sid, None)


def member_id(site: Flask, name: str) -> str:
    return str(site.extensions["directory"].sign_in(name).id)


def test_every_form_of_the_site_carries_a_csrf_token(site: Flask) -> None:
    client = site.test_client()
    assert find_form(client, "/login", "").fields["csrf_token"]
    sign_in(client, "Ada")
    for path in ("/", "/people", "/no-such-page"):
        forms = page_forms(client.get(path).get_data(as_text=True))
        assert [form.action for form in forms] == ["/logout"], path
        assert forms[0].method == "post" and forms[0].fields["csrf_token"], path


@pytest.mark.parametrize("headers", [{}, OTHER_SITE], ids=["no-origin", "other-origin"])
def test_a_cross_site_sign_out_without_the_token_changes_nothing(
    site: Flask, open_tab: Callable[[FlaskClient], SocketIOTestClient], headers: dict[str, str]
) -> None:
    client = site.test_client()
    sign_in(client, "Ada")
    tab = open_tab(client)

    # What a form of another site sends: the victim's cookies, but not the token.
    response = client.post("/logout", headers=headers)

    assert signed_in_as(client) == "Ada"
    assert tab.is_connected(NAMESPACE), "the call and presence go on"
    assert VideoChat.state(site).presence.get(member_id(site, "Ada")) is not None
    assert response.status_code == 400
    assert "You are still signed in" in response.get_data(as_text=True)


def test_a_sign_out_without_a_session_says_so(site: Flask) -> None:
    response = site.test_client().post("/logout", headers=OTHER_SITE)
    assert response.status_code == 400
    assert "You are not signed in." in response.get_data(as_text=True)


def test_the_sign_out_form_signs_out_and_disconnects(
    site: Flask, open_tab: Callable[[FlaskClient], SocketIOTestClient]
) -> None:
    client = site.test_client()
    sign_in(client, "Ada")
    tab = open_tab(client)

    response = submit(client, "/", "/logout")

    assert response.status_code == 302
    assert signed_in_as(client) is None
    assert client.get("/people").status_code == 302, "to the sign-in page"
    assert not tab.is_connected(NAMESPACE)
    assert VideoChat.state(site).presence.get(member_id(site, "Ada")) is None


@pytest.mark.parametrize("case", ["no-token", "another-browsers-token", "cookie-lost"])
def test_a_sign_in_without_its_token_shows_the_form_again_in_words(
    site: Flask, case: str
) -> None:
    client = site.test_client()
    token = find_form(client, "/login", "").fields.get("csrf_token", "")
    data = {"name": "Mallory"}
    if case == "another-browsers-token":
        data["csrf_token"] = find_form(site.test_client(), "/login", "").fields["csrf_token"]
    elif case == "cookie-lost":
        data["csrf_token"] = token
        client.delete_cookie("session")

    response = client.post("/login?next=/people", data=data, headers=OTHER_SITE)

    assert signed_in_as(client) is None
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert FORM_EXPIRED in html
    # The page holds a fresh form: submitting it signs in.
    [form] = [form for form in page_forms(html) if form.action == ""]
    assert form.fields["csrf_token"]
    again = client.post("/login?next=/people", data={**form.fields, "name": "Ada"})
    assert again.status_code == 302 and again.location == "/people"
    assert signed_in_as(client) == "Ada"


def _backdated(monkeypatch: pytest.MonkeyPatch, seconds: int) -> None:
    """Tokens signed from now on carry a time ``seconds`` ago."""
    signed_at = int(time.time()) - seconds
    monkeypatch.setattr(itsdangerous.TimestampSigner, "get_timestamp", lambda self: signed_at)


def test_a_sign_in_page_left_open_for_hours_still_signs_in(
    site: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A token lives as long as the session (WTF_CSRF_TIME_LIMIT = None): the pages of
    # this site stay open for hours, waiting for calls.
    client = site.test_client()
    with monkeypatch.context() as m:
        _backdated(m, 10 * 3600)
        form = find_form(client, "/login", "")
    response = client.post("/login", data={**form.fields, "name": "Ada"})
    assert response.status_code == 302
    assert signed_in_as(client) == "Ada"


def test_with_a_time_limit_an_expired_sign_in_form_shows_the_form_again_in_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    site = create_app({"TESTING": True, "WTF_CSRF_TIME_LIMIT": 3600},
                      async_mode="threading", instance_path=str(tmp_path))
    client = site.test_client()
    with monkeypatch.context() as m:
        _backdated(m, 3601)
        form = find_form(client, "/login", "")

    with caplog.at_level(logging.INFO, logger="flask_wtf.csrf"):
        response = client.post("/login", data={**form.fields, "name": "Ada"})

    assert "The CSRF token has expired." in caplog.text
    assert response.status_code == 400
    assert FORM_EXPIRED in response.get_data(as_text=True)
    assert signed_in_as(client) is None
    sign_in(client, "Ada")  # a fresh form works
    assert signed_in_as(client) == "Ada"


def test_socketio_long_polling_posts_are_not_refused(site: Flask) -> None:
    """``/socket.io/`` is python-engineio's, answered before Flask (and so before
    Flask-WTF) sees it: a long-polling connection posts its packets without a token."""
    client = site.test_client()
    sign_in(client, "Ada")
    origin = {"Origin": "http://localhost"}  # the site's own pages
    polling = "/socket.io/?EIO=4&transport=polling"
    handshake = client.get(polling, headers=origin)
    assert handshake.status_code == 200
    sid = json.loads(handshake.get_data(as_text=True)[1:])["sid"]
    session = f"{polling}&sid={sid}"

    posted = client.post(session, data=f"40{NAMESPACE},", headers=origin)

    assert posted.status_code == 200 and posted.get_data(as_text=True) == "OK"
    packets = client.get(session, headers=origin).get_data(as_text=True).split("\x1e")
    assert any(p.startswith(f'40{NAMESPACE},{{"sid"') for p in packets), packets
    assert VideoChat.state(site).presence.get(member_id(site, "Ada")) is not None
    closed = client.post(session, data="1", headers=origin)  # engine.io "close"
    assert closed.status_code == 200


@pytest.mark.parametrize("name", ["\u200b\u200b", "\u0000", "\u2060 \ufeff", "\u202e"])
def test_a_name_that_shows_nothing_is_refused_at_sign_in(site: Flask, name: str) -> None:
    client = site.test_client()
    response = submit(client, "/login", name=name)

    assert response.status_code == 400
    assert "Please enter your name." in response.get_data(as_text=True)
    assert signed_in_as(client) is None


def test_a_name_loses_its_controls_at_sign_in(site: Flask) -> None:
    client = site.test_client()
    sign_in(client, "Ada\u202e \u0007Lovelace")

    assert signed_in_as(client) == "Ada Lovelace"


@pytest.mark.parametrize(
    "target", ["//evil.example/", "/\t/evil.example/", "/\\evil.example/", "/\n/evil.example", "https://evil.example/"]
)
def test_sign_in_never_sends_a_person_to_another_site(site: Flask, target: str) -> None:
    client = site.test_client()
    form = find_form(client, "/login", "")
    response = client.post(
        "/login", query_string={"next": target}, data={**form.fields, "name": "Ada"}
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_sign_in_goes_back_to_a_page_of_the_site(site: Flask) -> None:
    client = site.test_client()
    form = find_form(client, "/login", "")
    response = client.post(
        "/login", query_string={"next": "/people?team=Design"}, data={**form.fields, "name": "Ada"}
    )
    assert response.headers["Location"] == "/people?team=Design"
