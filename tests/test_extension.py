"""The :class:`VideoChat` extension: registration, configuration, the Jinja helpers
and the blueprint's static files."""

from __future__ import annotations

import logging
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import pytest
from flask import Flask, render_template_string
from flask.testing import FlaskClient
from flask_socketio import SocketIO
from jinja2 import ChoiceLoader, DictLoader
from markupsafe import Markup

from flask_videochat import NAMESPACE, VideoChat
from flask_videochat.config import DEFAULTS

if TYPE_CHECKING:
    from tests.harness import Connector, Host, MakeHost

JS_MIMETYPES = {"text/javascript", "application/javascript"}
HOSTILE = '"><script>alert(1)</script>'
#: A sign-in URL with characters that must be escaped in an attribute.
SIGN_IN_URL = '/accounts/login?next=/people&from="widget"'


@pytest.fixture
def async_mode() -> str:
    """Nothing here depends on the async mode: run once, under threading."""
    return "threading"


def bare_app(**config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test-secret", TESTING=True, **config)
    return app


class Tags(HTMLParser):
    """The start tags of some HTML, with their attributes as a browser reads them,
    and the text inside each kind of element."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.open: list[str] = []
        self.texts: dict[str, str] = {}
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in ("meta", "link"):
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.open:
            del self.open[len(self.open) - 1 - self.open[::-1].index(tag) :]

    def handle_data(self, data: str) -> None:
        for tag in self.open:
            self.texts[tag] = self.texts.get(tag, "") + data

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]

    def text(self, tag: str) -> str:
        """The text inside the ``tag`` elements, white space folded."""
        return " ".join(self.texts.get(tag, "").split())


def page(host: Host, template: str, user_id: str | None = None, **context: Any) -> str:
    """Render ``template`` with ``context`` in a request of ``user_id`` (``None``:
    signed out)."""
    host.app.add_url_rule("/page", "page", lambda: render_template_string(template, **context))
    client = host.app.test_client()
    if user_id is not None:
        client.post("/login", data={"id": user_id})
    response = client.get("/page")
    assert response.status_code == 200
    return response.get_data(as_text=True)


# -- registration ------------------------------------------------------------------


def test_init_app_twice_is_refused(host: Host) -> None:
    with pytest.raises(RuntimeError, match="already registered"):
        host.videochat.init_app(host.app, host.socketio)
    with pytest.raises(RuntimeError, match="already registered"):
        VideoChat(host.app, host.socketio)


def test_without_socketio_the_error_says_what_to_do() -> None:
    app = bare_app()
    with pytest.raises(RuntimeError, match=r"SocketIO\(app\)"):
        VideoChat(app)
    assert "videochat" not in app.extensions
    assert "videochat" not in app.blueprints


def test_the_hosts_socketio_is_found_when_not_passed() -> None:
    app = bare_app()
    socketio = SocketIO(app, async_mode="threading")
    VideoChat(app)
    assert VideoChat.state(app).socketio is socketio
    assert NAMESPACE in socketio.server.namespace_handlers


def test_app_factory_pattern(
    make_host: MakeHost, connector_for: Callable[[Host], Connector]
) -> None:
    videochat = VideoChat(ring_timeout=20)
    first = make_host(videochat=videochat, config={"VIDEOCHAT_RING_TIMEOUT": 20})
    second = make_host(videochat=videochat, config={"VIDEOCHAT_RING_TIMEOUT": 25})

    assert first.videochat is second.videochat is videochat
    assert connector_for(first)("ada").received("hello")[0]["ring_timeout"] == 20
    assert connector_for(second)("ada").received("hello")[0]["ring_timeout"] == 25
    assert first.app.jinja_env.globals["videochat"] is videochat


def test_two_apps_in_one_process_are_independent(
    make_host: MakeHost, connector_for: Callable[[Host], Connector]
) -> None:
    one = make_host(config={"VIDEOCHAT_ICE_SERVERS": [{"urls": "stun:one.example.org"}]})
    two = make_host(config={"VIDEOCHAT_ICE_SERVERS": [{"urls": "stun:two.example.org"}]})
    ada = connector_for(one)("ada")
    bob = connector_for(two)("bob")

    assert ada.received("hello")[0]["ice_servers"] == [{"urls": "stun:one.example.org"}]
    assert bob.received("hello")[0]["ice_servers"] == [{"urls": "stun:two.example.org"}]
    assert ada.received("presence.snapshot") == bob.received("presence.snapshot") == [{"users": []}]
    # Each hears of nobody but themselves (which browsers ignore).
    assert {u["id"] for u in ada.online()} <= {"ada"}
    assert {u["id"] for u in bob.online()} <= {"bob"}
    assert ada.offline() == bob.offline() == []
    ack = ada.emit("call.invite", {"to": "bob"})
    assert ack["ok"] is False and ack["error"]["code"] == "ERR_USER_OFFLINE"
    assert one.state is not two.state
    assert [u.id for u, _ in one.state.presence.users()] == ["ada"]
    assert [u.id for u, _ in two.state.presence.users()] == ["bob"]


# -- configuration ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("VIDEOCHAT_RING_TIMEOUT", 0),
        ("VIDEOCHAT_RING_TIMEOUT", 0.5),
        ("VIDEOCHAT_RING_TIMEOUT", "30"),
        ("VIDEOCHAT_RING_TIMEOUT", True),
        ("VIDEOCHAT_RING_TIMEOUT", None),
        ("VIDEOCHAT_RECONNECT_GRACE", -1),
        ("VIDEOCHAT_RECONNECT_GRACE", "10"),
        ("VIDEOCHAT_ICE_SERVERS", "stun:stun.example.org"),
        ("VIDEOCHAT_ICE_SERVERS", [{"url": "stun:stun.example.org"}]),
        ("VIDEOCHAT_ICE_SERVERS", ["stun:stun.example.org"]),
        ("VIDEOCHAT_ICE_SERVERS", {"urls": "stun:stun.example.org"}),
        ("VIDEOCHAT_ALLOW_ANONYMOUS", "yes"),
        ("VIDEOCHAT_ALLOW_ANONYMOUS", 1),
        ("VIDEOCHAT_SIGN_IN_URL", 5),
        ("VIDEOCHAT_ROOM_CAPACITY", 1),
        ("VIDEOCHAT_ROOM_CAPACITY", 0),
        ("VIDEOCHAT_ROOM_CAPACITY", 2.0),
        ("VIDEOCHAT_ROOM_CAPACITY", "4"),
        ("VIDEOCHAT_ROOM_CAPACITY", True),
        ("VIDEOCHAT_ROOM_CAPACITY", None),
        ("VIDEOCHAT_CHAT_HISTORY", -1),
        ("VIDEOCHAT_CHAT_HISTORY", 1.5),
        ("VIDEOCHAT_CHAT_HISTORY", "50"),
        ("VIDEOCHAT_CHAT_HISTORY", False),
    ],
)
def test_bad_config_fails_at_start_naming_the_key(key: str, value: Any) -> None:
    app = bare_app(**{key: value})
    socketio = SocketIO(app, async_mode="threading")

    with pytest.raises(ValueError, match=key):
        VideoChat(app, socketio)

    assert "videochat" not in app.extensions


@pytest.mark.parametrize("url", ["http://x", "localhost:6379", 6379])
def test_the_store_url_must_be_a_redis_url(url: Any) -> None:
    app = bare_app(VIDEOCHAT_STORE_URL=url)
    socketio = SocketIO(app, async_mode="threading")

    with pytest.raises(ValueError, match="VIDEOCHAT_STORE_URL"):
        VideoChat(app, socketio)

    assert "videochat" not in app.extensions


def test_a_redis_store_needs_a_socketio_message_queue() -> None:
    # Outside testing (a testing app may use Redis from one process, without a queue).
    app = bare_app(VIDEOCHAT_STORE_URL="redis://127.0.0.1:6379/0")
    app.testing = False
    socketio = SocketIO(app, async_mode="threading")

    with pytest.raises(RuntimeError, match="message_queue"):
        VideoChat(app, socketio)

    assert "videochat" not in app.extensions


def test_unknown_constructor_option() -> None:
    with pytest.raises(TypeError, match=r"ring_timout|RING_TIMOUT"):
        VideoChat(ring_timout=20)


def test_config_defaults_do_not_override_the_apps_config() -> None:
    app = bare_app(VIDEOCHAT_RING_TIMEOUT=12)
    VideoChat(app, SocketIO(app, async_mode="threading"), ring_timeout=20, reconnect_grace=3)

    assert app.config["VIDEOCHAT_RING_TIMEOUT"] == 12  # the app's config wins
    assert app.config["VIDEOCHAT_RECONNECT_GRACE"] == 3  # then the constructor
    assert app.config["VIDEOCHAT_ALLOW_ANONYMOUS"] is False  # then the defaults
    assert set(DEFAULTS) <= set(app.config)
    settings = VideoChat.state(app).settings
    assert (settings.ring_timeout, settings.reconnect_grace) == (12, 3)


def test_documented_defaults() -> None:
    expected = {
        "VIDEOCHAT_RING_TIMEOUT": 30,
        "VIDEOCHAT_ICE_SERVERS": [],
        "VIDEOCHAT_RECONNECT_GRACE": 10,
        "VIDEOCHAT_ALLOW_ANONYMOUS": False,
        "VIDEOCHAT_SIGN_IN_URL": None,
        "VIDEOCHAT_ROOM_CAPACITY": 4,
        "VIDEOCHAT_CHAT_HISTORY": 50,
        "VIDEOCHAT_STORE_URL": None,
        "VIDEOCHAT_PRESENCE": True,
        "VIDEOCHAT_PRESENCE_WINDOW": 0.1,
        "VIDEOCHAT_PRESENCE_TTL": 15,
    }
    assert {key: DEFAULTS[key] for key in expected} == expected
    documented = Path(__file__).parents[1].joinpath("docs", "configuration.md").read_text()
    assert [key for key in DEFAULTS if f"`{key}`" not in documented] == []


def test_empty_ice_servers_warn_in_production(caplog: pytest.LogCaptureFixture) -> None:
    app = Flask(__name__)
    with caplog.at_level(logging.WARNING, logger="flask_videochat"):
        VideoChat(app, SocketIO(app, async_mode="threading"))
    assert "VIDEOCHAT_ICE_SERVERS" in caplog.text

    caplog.clear()
    quiet = bare_app()
    with caplog.at_level(logging.WARNING, logger="flask_videochat"):
        VideoChat(quiet, SocketIO(quiet, async_mode="threading"))
    assert caplog.text == ""


# -- Jinja helpers --------------------------------------------------------------------


def test_assets_tag_with_a_nonce(host: Host) -> None:
    html = page(host, '{{ videochat.assets(nonce="abc") }}')

    scripts = Tags(html).named("script")
    assert scripts == [{"type": "module", "src": "/videochat/static/js/index.js", "nonce": "abc"}]


def test_assets_without_a_nonce_has_no_nonce_attribute(host: Host) -> None:
    scripts = Tags(page(host, "{{ videochat.assets() }}")).named("script")
    assert scripts == [{"type": "module", "src": "/videochat/static/js/index.js"}]


def test_helpers_escape_what_they_interpolate(host: Host) -> None:
    html = page(host, "{{ videochat.widget(nonce=nonce) }}", nonce=HOSTILE)
    tags = Tags(html)
    assert tags.named("script") == [
        {"type": "module", "src": "/videochat/static/js/index.js", "nonce": HOSTILE}
    ]
    assert "<script>alert(1)" not in html


def test_widget_for_a_signed_in_user(host: Host) -> None:
    with host.app.test_request_context():
        assert isinstance(host.videochat.widget(), Markup)
    html = page(host, '{{ videochat.widget(nonce="n1") }}', user_id="ada")

    tags = Tags(html)
    assert tags.named("video-chat") == [{"namespace": "/videochat", "socket-path": "/socket.io"}]
    assert tags.named("script") == [
        {"type": "module", "src": "/videochat/static/js/index.js", "nonce": "n1"}
    ]
    assert "<noscript>" in html


def test_widget_without_assets(host: Host) -> None:
    html = page(host, "{{ videochat.assets() }}{{ videochat.widget(assets=False) }}", "ada")
    assert len(Tags(html).named("script")) == 1
    assert len(Tags(html).named("video-chat")) == 1


def test_widget_for_a_visitor_links_to_sign_in(host: Host) -> None:
    html = page(host, "{{ videochat.widget() }}")

    [element] = Tags(html).named("video-chat")
    assert element == {
        "namespace": "/videochat",
        "socket-path": "/socket.io",
        "signed-out": None,
        "sign-in-url": "/login",
    }


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        (SIGN_IN_URL, SIGN_IN_URL),
        ("sign_in", "/accounts/sign-in"),
    ],
    ids=["url", "endpoint"],
)
def test_sign_in_url_setting(make_host: MakeHost, setting: str, expected: str) -> None:
    host = make_host(config={"VIDEOCHAT_SIGN_IN_URL": setting})
    host.app.add_url_rule("/accounts/sign-in", "sign_in", lambda: "sign in")

    [element] = Tags(page(host, "{{ videochat.widget() }}")).named("video-chat")

    assert element["sign-in-url"] == expected


def test_no_sign_in_link_when_the_host_has_none(make_host: MakeHost) -> None:
    host = make_host(login=False, identity_loader=lambda: None)
    [element] = Tags(page(host, "{{ videochat.widget() }}")).named("video-chat")
    assert "signed-out" in element
    assert "sign-in-url" not in element


def test_widget_for_guests_when_anonymous_is_allowed(make_host: MakeHost) -> None:
    host = make_host(config={"VIDEOCHAT_ALLOW_ANONYMOUS": True})
    [element] = Tags(page(host, "{{ videochat.widget() }}")).named("video-chat")
    assert "signed-out" not in element


def test_widget_follows_a_custom_socketio_path() -> None:
    app = bare_app()
    VideoChat(app, SocketIO(app, async_mode="threading", path="realtime"))
    app.add_url_rule("/page", "page", lambda: render_template_string("{{ videochat.widget() }}"))

    html = app.test_client().get("/page").get_data(as_text=True)

    assert Tags(html).named("video-chat")[0]["socket-path"] == "/realtime"


def test_widget_for_a_room(host: Host) -> None:
    html = page(host, '{{ videochat.widget(room="standup") }}', user_id="ada")

    [element] = Tags(html).named("video-chat")
    assert element == {"namespace": "/videochat", "socket-path": "/socket.io", "room": "standup"}


def test_widget_for_a_room_and_a_visitor(host: Host) -> None:
    [element] = Tags(page(host, '{{ videochat.widget(room="standup") }}')).named("video-chat")
    assert element["room"] == "standup"
    assert "signed-out" in element


@pytest.mark.parametrize(
    "room",
    [HOSTILE, 'a" onmouseover="alert(1)', "", "-x", "r" * 65, "stand up", "standup\n", 7],
    ids=["markup", "attribute", "empty", "dash-first", "too-long", "space", "newline", "int"],
)
def test_widget_refuses_what_is_not_a_room_name(host: Host, room: Any) -> None:
    with host.app.test_request_context(), pytest.raises(ValueError, match="room name"):
        host.videochat.widget(room=room)


def test_the_room_page(host: Host) -> None:
    client = host.app.test_client()
    client.post("/login", data={"id": "ada"})

    response = client.get("/videochat/rooms/team-42")

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert html.lstrip().lower().startswith("<!doctype html>")
    tags = Tags(html)
    assert tags.text("title") == "team-42 · Video room"
    assert tags.text("h1") == "team-42"
    assert "Share this page's address to invite people." in tags.text("body")
    [element] = tags.named("video-chat")
    assert element == {"namespace": "/videochat", "socket-path": "/socket.io", "room": "team-42"}
    assert tags.named("script") == [{"type": "module", "src": "/videochat/static/js/index.js"}]
    [stylesheet] = [link for link in tags.named("link") if link.get("rel") == "stylesheet"]
    assert stylesheet["href"] is not None
    with client.get(stylesheet["href"]) as css:
        assert css.status_code == 200
        assert css.mimetype == "text/css"


def test_the_room_page_for_a_visitor_asks_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/videochat/rooms/standup")

    assert response.status_code == 200
    [element] = Tags(response.get_data(as_text=True)).named("video-chat")
    assert element["room"] == "standup"
    assert "signed-out" in element
    assert element["sign-in-url"] == "/login"


@pytest.mark.parametrize(
    "path",
    ["-standup", "r" * 65, "stand%20up", "%3Cscript%3E", "caf%C3%A9", "a.b"],
)
def test_the_room_page_is_not_found_for_a_bad_name(client: FlaskClient, path: str) -> None:
    assert client.get(f"/videochat/rooms/{path}").status_code == 404


def test_the_host_can_override_the_room_page(host: Host) -> None:
    assert host.app.jinja_loader is not None
    mine = "<h1>Room {{ room }} of Example Inc.</h1>{{ videochat.widget(room=room) }}"
    override = DictLoader({"videochat/room.html": mine})
    host.app.jinja_loader = ChoiceLoader([override, host.app.jinja_loader])  # type: ignore[assignment]

    html = host.app.test_client().get("/videochat/rooms/standup").get_data(as_text=True)

    assert Tags(html).text("h1") == "Room standup of Example Inc."
    assert Tags(html).named("video-chat")[0]["room"] == "standup"


def test_unknown_widget_option(host: Host) -> None:
    with host.app.test_request_context(), pytest.raises(TypeError, match="theme"):
        host.videochat.widget(theme="dark")


def test_the_host_can_override_the_widget_template(host: Host) -> None:
    assert host.app.jinja_loader is not None
    override = DictLoader({"videochat/widget.html": "<video-chat data-mine></video-chat>"})
    host.app.jinja_loader = ChoiceLoader([override, host.app.jinja_loader])  # type: ignore[assignment]
    html = page(host, "{{ videochat.widget() }}", "ada")
    assert Tags(html).named("video-chat") == [{"data-mine": None}]


# -- static files --------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/videochat/static/js/index.js",
        "/videochat/static/js/element.js",
        "/videochat/static/vendor/socket.io.esm.min.js",
    ],
)
def test_javascript_modules_are_served_as_javascript(client: FlaskClient, path: str) -> None:
    with client.get(path) as response:
        assert response.status_code == 200
        assert response.mimetype in JS_MIMETYPES
        assert response.get_data()


def test_the_stylesheet_is_served(client: FlaskClient) -> None:
    with client.get("/videochat/static/css/videochat.css") as response:
        assert response.status_code == 200
        assert response.mimetype == "text/css"


def test_the_vendored_client_ships_its_license(client: FlaskClient) -> None:
    with client.get("/videochat/static/vendor/LICENSE-socket.io-client") as response:
        assert response.status_code == 200
        assert "MIT License" in response.get_data(as_text=True)


def test_the_vendored_client_is_an_es_module(client: FlaskClient) -> None:
    with client.get("/videochat/static/vendor/socket.io.esm.min.js") as response:
        assert "export" in response.get_data(as_text=True)


def test_templates_ship_in_the_package() -> None:
    import flask_videochat

    root = Path(flask_videochat.__file__).parent / "web"
    assert (root / "templates" / "videochat" / "widget.html").is_file()
    assert (root / "templates" / "videochat" / "assets.html").is_file()
    assert (root / "templates" / "videochat" / "room.html").is_file()
