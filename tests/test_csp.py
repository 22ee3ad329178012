"""A strict Content-Security-Policy: every ``<script>`` the extension renders (its
room page, ``assets()``, ``widget()``) carries the request's nonce, found through
``VIDEOCHAT_CSP_NONCE`` or the Jinja global ``csp_nonce`` (Flask-Talisman's
convention); a nonce setting that cannot work fails at start-up. Also: the warning
about ICE servers left unset, and not about an empty list set on purpose."""

from __future__ import annotations

import logging
import secrets
from typing import Any

import pytest
from flask import Flask, g, render_template_string
from flask_socketio import SocketIO

from flask_videochat import VideoChat
from tests.test_extension import Tags

SCRIPT = "/videochat/static/js/index.js"


def make_app(videochat: VideoChat | None = None, **config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="csp-tests", TESTING=True, **config)
    videochat = videochat or VideoChat()
    videochat.identity_loader(lambda: None)  # nobody signed in
    videochat.init_app(app, SocketIO(app, async_mode="threading"))
    nonces: list[str] = []
    app.extensions["test-nonces"] = nonces

    @app.after_request
    def remember(response: Any) -> Any:
        nonces.append(g.get("nonce", ""))
        return response

    return app


def request_nonce() -> str:
    """A nonce per request, as a host (or Flask-Talisman) makes it."""
    if "nonce" not in g:
        g.nonce = secrets.token_urlsafe(16)
    return str(g.nonce)


def scripts_of(app: Flask, path: str, template: str | None = None) -> tuple[list[dict], str]:
    """The ``<script>`` tags of ``path`` (with ``template`` served there), and the
    nonce of that request."""
    if template is not None:
        app.add_url_rule(path, path, lambda: render_template_string(template))
    response = app.test_client().get(path)
    assert response.status_code == 200
    return Tags(response.get_data(as_text=True)).named("script"), app.extensions["test-nonces"][-1]


def test_the_room_page_carries_the_nonce_of_a_csp_nonce_global() -> None:
    app = make_app()
    app.add_template_global(request_nonce, "csp_nonce")  # Flask-Talisman does this

    scripts, nonce = scripts_of(app, "/videochat/rooms/standup")

    assert nonce and scripts == [{"type": "module", "src": SCRIPT, "nonce": nonce}]


def test_a_csp_nonce_global_may_be_a_string_set_per_request() -> None:
    app = make_app()

    @app.before_request
    def set_nonce() -> None:
        app.jinja_env.globals["csp_nonce"] = request_nonce()  # as some hosts do

    scripts, nonce = scripts_of(app, "/videochat/rooms/standup")
    assert nonce and scripts[0]["nonce"] == nonce


def test_each_request_gets_its_own_nonce() -> None:
    app = make_app(VIDEOCHAT_CSP_NONCE=request_nonce)
    first, one = scripts_of(app, "/videochat/rooms/standup")
    second, two = scripts_of(app, "/videochat/rooms/standup")
    assert one != two
    assert [s["nonce"] for s in first + second] == [one, two]


@pytest.mark.parametrize(
    "template",
    ["{{ videochat.widget(room='standup') }}", "{{ videochat.assets() }}"],
)
def test_helpers_carry_the_configured_nonce(template: str) -> None:
    app = make_app(VIDEOCHAT_CSP_NONCE=request_nonce)
    scripts, nonce = scripts_of(app, "/page", template)
    assert nonce and scripts == [{"type": "module", "src": SCRIPT, "nonce": nonce}]


def test_the_setting_wins_over_the_global_and_an_explicit_nonce_over_both() -> None:
    app = make_app(VIDEOCHAT_CSP_NONCE=lambda: "from-setting")
    app.add_template_global(lambda: "from-global", "csp_nonce")
    scripts, _ = scripts_of(
        app, "/page", '{{ videochat.assets() }}{{ videochat.widget(nonce="given") }}'
    )
    assert [s["nonce"] for s in scripts] == ["from-setting", "given"]


def test_the_setting_may_name_a_callable_by_its_import_path() -> None:
    app = make_app(VIDEOCHAT_CSP_NONCE="tests.test_csp:request_nonce")
    scripts, nonce = scripts_of(app, "/videochat/rooms/standup")
    assert nonce and scripts[0]["nonce"] == nonce


def test_no_nonce_anywhere_renders_no_nonce_attribute() -> None:
    app = make_app()
    app.add_template_global(lambda: "", "csp_nonce")  # Flask-Talisman without a nonce
    scripts, _ = scripts_of(app, "/videochat/rooms/standup")
    assert scripts == [{"type": "module", "src": SCRIPT}]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("tests.test_csp:no_such_function", "cannot import"),
        ("no_such_module_here:nonce", "cannot import"),
        ("tests.test_csp", "cannot import"),
        ("abc123", "cannot import"),
        (42, "must be None, a callable"),
        (lambda request: "n", "callable with no arguments"),
    ],
)
def test_a_nonce_setting_that_cannot_work_fails_at_start_up(value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        make_app(VIDEOCHAT_CSP_NONCE=value)
    assert "VIDEOCHAT_CSP_NONCE" in str(info.value)


def test_a_nonce_that_is_not_a_string_fails_loudly() -> None:
    app = make_app(VIDEOCHAT_CSP_NONCE=lambda: 1234)
    app.add_url_rule("/page", "page", lambda: render_template_string("{{ videochat.assets() }}"))
    app.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(TypeError, match="CSP nonce must be a string"):
        app.test_client().get("/page")


# -- ICE servers: the warning is for the unset default only ---------------------------


def _warnings(caplog: pytest.LogCaptureFixture, config: dict[str, Any] | None = None,
              **options: Any) -> str:
    """What registering the extension on a production app (not debug, not testing)
    with ``config`` and constructor ``options`` logs."""
    app = Flask(__name__)
    app.config.update(config or {})
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="flask_videochat"):
        VideoChat(app, SocketIO(app, async_mode="threading"), **options)
    return caplog.text


def test_ice_servers_left_unset_warn_in_production(caplog: pytest.LogCaptureFixture) -> None:
    text = _warnings(caplog)
    assert "VIDEOCHAT_ICE_SERVERS is not set" in text
    assert "VIDEOCHAT_ICE_SERVERS = []" in text  # how to say it is on purpose


def test_an_empty_list_set_on_purpose_does_not_warn(caplog: pytest.LogCaptureFixture) -> None:
    assert _warnings(caplog, {"VIDEOCHAT_ICE_SERVERS": []}) == ""
    assert _warnings(caplog, ice_servers=[]) == ""
