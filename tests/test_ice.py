"""ICE servers and TURN credentials: the TURN REST API credentials
(:func:`~flask_videochat.core.ice.turn_credentials`), the TURN config keys and what
``hello`` gives each connection. Real coturn checks them in ``e2e/test_turn.py``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Callable

import pytest
from flask import Flask
from flask_socketio import SocketIO

from flask_videochat import VideoChat
from flask_videochat.config import DEFAULTS, Settings
from flask_videochat.core import ice
from flask_videochat.core.ice import turn_credentials

if TYPE_CHECKING:
    from tests.harness import Connector, Host, MakeHost

SECRET = "north-wind-7"
TURN_URLS = ["turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:443?transport=tcp"]
TURN_CONFIG: dict[str, Any] = {
    "VIDEOCHAT_TURN_URLS": TURN_URLS,
    "VIDEOCHAT_TURN_SECRET": SECRET,
    "VIDEOCHAT_TURN_TTL": 600,
}
STUN = {"urls": "stun:stun.example.org:3478"}  # tests/harness.py's TEST_CONFIG


def expected_credential(secret: str, username: str) -> str:
    """The TURN REST API password, computed here independently of the package."""
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


# -- turn_credentials ------------------------------------------------------------


def test_credentials_match_the_turn_rest_api() -> None:
    creds = turn_credentials("s3cret", "ada", 3600, now=1_700_000_000)

    assert creds == {
        "username": "1700003600:ada",
        # base64(HMAC-SHA1("s3cret", "1700003600:ada")), as coturn recomputes it.
        "credential": "Py4eM5SHz6wyBpurwH/r6N9jcbo=",
    }
    assert creds["credential"] == expected_credential("s3cret", "1700003600:ada")


def test_the_expiry_is_now_plus_the_ttl_in_whole_seconds() -> None:
    assert turn_credentials(SECRET, "ada", 60, now=1000.9)["username"] == "1060:ada"
    assert turn_credentials(SECRET, "ada", 86400, now=0)["username"] == "86400:ada"
    before = int(time.time())
    expiry = int(turn_credentials(SECRET, "ada", 300)["username"].split(":")[0])
    assert before + 300 <= expiry <= int(time.time()) + 300


def test_a_bytes_secret_is_the_same_as_its_text() -> None:
    assert turn_credentials(SECRET.encode(), "ada", 60, now=0) == turn_credentials(
        SECRET, "ada", 60, now=0
    )


def test_a_different_secret_user_or_time_gives_a_different_password() -> None:
    base = turn_credentials(SECRET, "ada", 60, now=0)["credential"]
    assert turn_credentials("other", "ada", 60, now=0)["credential"] != base
    assert turn_credentials(SECRET, "bob", 60, now=0)["credential"] != base
    assert turn_credentials(SECRET, "ada", 60, now=1)["credential"] != base


@pytest.mark.parametrize(
    ("user_id", "in_username"),
    [
        ("42", "42"),
        ("ada@example.org", "ada@example.org"),
        # coturn refuses usernames with spaces, quotes or backslashes (400).
        ('Ada "Countess" Lovelace', "Ada%20%22Countess%22%20Lovelace"),
        ("it's\\me", "it%27s%5Cme"),
        ("tenant:7", "tenant%3A7"),  # one colon only: the expiry's
        ("Zoë", "Zo%C3%AB"),
    ],
)
def test_user_ids_are_encoded_so_turn_servers_accept_them(user_id: str, in_username: str) -> None:
    creds = turn_credentials(SECRET, user_id, 60, now=0)
    assert creds["username"] == f"60:{in_username}"
    assert creds["credential"] == expected_credential(SECRET, creds["username"])


def test_a_very_long_user_id_is_replaced_by_a_digest() -> None:
    user_id = "x" * 500
    username = turn_credentials(SECRET, user_id, 60, now=0)["username"]
    assert username == "60:sha256-" + hashlib.sha256(user_id.encode()).hexdigest()[:32]


# -- configuration ---------------------------------------------------------------


def settings(**config: Any) -> Settings:
    return Settings.from_config({**DEFAULTS, **config})


def test_turn_settings_are_read() -> None:
    s = settings(**TURN_CONFIG, VIDEOCHAT_ICE_TRANSPORT_POLICY="relay")
    assert s.turn_urls == tuple(TURN_URLS)
    assert (s.turn_secret, s.turn_ttl, s.ice_transport_policy) == (SECRET, 600, "relay")
    # The secret stays out of reprs (and so out of logs and tracebacks).
    assert SECRET not in repr(s)


def test_turn_defaults() -> None:
    s = settings()
    assert (s.turn_urls, s.turn_secret, s.turn_ttl, s.ice_transport_policy) == (
        (),
        None,
        86400,
        "all",
    )


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"VIDEOCHAT_TURN_URLS": TURN_URLS}, "VIDEOCHAT_TURN_SECRET"),
        ({"VIDEOCHAT_TURN_SECRET": SECRET}, "VIDEOCHAT_TURN_URLS"),
        ({**TURN_CONFIG, "VIDEOCHAT_TURN_URLS": "turn:turn.example.org"}, "VIDEOCHAT_TURN_URLS"),
        ({**TURN_CONFIG, "VIDEOCHAT_TURN_URLS": ["stun:stun.example.org"]}, "VIDEOCHAT_TURN_URLS"),
        ({**TURN_CONFIG, "VIDEOCHAT_TURN_URLS": [{"urls": "turn:x"}]}, "VIDEOCHAT_TURN_URLS"),
        ({**TURN_CONFIG, "VIDEOCHAT_TURN_SECRET": ""}, "VIDEOCHAT_TURN_SECRET"),
        ({**TURN_CONFIG, "VIDEOCHAT_TURN_SECRET": 1234}, "VIDEOCHAT_TURN_SECRET"),
        ({**TURN_CONFIG, "VIDEOCHAT_TURN_TTL": 59}, "VIDEOCHAT_TURN_TTL"),
        ({**TURN_CONFIG, "VIDEOCHAT_TURN_TTL": 600.5}, "VIDEOCHAT_TURN_TTL"),
        ({**TURN_CONFIG, "VIDEOCHAT_TURN_TTL": "600"}, "VIDEOCHAT_TURN_TTL"),
        ({**TURN_CONFIG, "VIDEOCHAT_TURN_TTL": True}, "VIDEOCHAT_TURN_TTL"),
        (
            {**TURN_CONFIG, "VIDEOCHAT_ICE_TRANSPORT_POLICY": "none"},
            "VIDEOCHAT_ICE_TRANSPORT_POLICY",
        ),
        (
            {**TURN_CONFIG, "VIDEOCHAT_ICE_TRANSPORT_POLICY": "RELAY"},
            "VIDEOCHAT_ICE_TRANSPORT_POLICY",
        ),
        # Relays only, and no relay: no call could ever connect.
        (
            {"VIDEOCHAT_ICE_TRANSPORT_POLICY": "relay", "VIDEOCHAT_ICE_SERVERS": [STUN]},
            "VIDEOCHAT_ICE_TRANSPORT_POLICY",
        ),
    ],
)
def test_bad_turn_config_fails_at_start_naming_the_key(config: dict[str, Any], key: str) -> None:
    app = Flask(__name__)
    app.config.update(TESTING=True, **config)
    with pytest.raises(ValueError, match=key):
        VideoChat(app, SocketIO(app, async_mode="threading"))
    assert "videochat" not in app.extensions


def test_a_fixed_turn_password_is_accepted_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    fixed = {"urls": ["turn:turn.example.org:3478"], "username": "site", "credential": "hunter2"}
    with caplog.at_level(logging.WARNING, logger="flask_videochat"):
        s = settings(VIDEOCHAT_ICE_SERVERS=[STUN, fixed], VIDEOCHAT_ICE_TRANSPORT_POLICY="relay")
    assert s.ice_servers == (STUN, fixed)
    assert "turn:turn.example.org:3478" in caplog.text
    assert "every page" in caplog.text
    assert "hunter2" not in caplog.text

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="flask_videochat"):
        settings(VIDEOCHAT_ICE_SERVERS=[STUN, {"urls": "turn:turn.example.org"}], **TURN_CONFIG)
    assert caplog.text == ""


# -- hello -----------------------------------------------------------------------


@pytest.fixture
def mint_time(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """``set_time(t)``: the Unix time the TURN credentials are minted at."""
    now = {"t": 1_700_000_000.0}
    monkeypatch.setattr(ice, "time", SimpleNamespace(time=lambda: now["t"]))
    return lambda t: now.update(t=t)


def turn_entry(hello: dict[str, Any]) -> dict[str, Any]:
    [entry] = [s for s in hello["ice_servers"] if s.get("username")]
    return entry


def test_hello_carries_turn_credentials_minted_for_the_user(
    make_host: MakeHost,
    connector_for: Callable[[Host], Connector],
    mint_time: Callable[[float], None],
) -> None:
    host = make_host(config={**TURN_CONFIG, "VIDEOCHAT_ICE_TRANSPORT_POLICY": "relay"})
    hello = connector_for(host)("ada").wait_for("hello")

    assert hello["ice_transport_policy"] == "relay"
    assert hello["ice_servers"][0] == STUN  # VIDEOCHAT_ICE_SERVERS first
    username = "1700000600:ada"
    assert hello["ice_servers"][1:] == [
        {
            "urls": TURN_URLS,
            "username": username,
            "credential": expected_credential(SECRET, username),
        },
    ]
    assert SECRET not in repr(hello)


def test_each_connection_gets_credentials_minted_when_it_connects(
    make_host: MakeHost,
    connector_for: Callable[[Host], Connector],
    mint_time: Callable[[float], None],
) -> None:
    host = make_host(config=TURN_CONFIG)
    connect = connector_for(host)
    first = turn_entry(connect("ada").wait_for("hello"))
    mint_time(1_700_000_100.0)
    second = turn_entry(connect("ada").wait_for("hello"))  # another tab, or a reconnect
    bob = turn_entry(connect("bob").wait_for("hello"))

    assert first["username"] == "1700000600:ada"
    assert second["username"] == "1700000700:ada"
    assert second["credential"] != first["credential"]
    assert bob["username"] == "1700000700:bob"


def test_without_turn_hello_has_only_the_ice_servers(connect: Connector) -> None:
    hello = connect("ada").wait_for("hello")
    assert hello["ice_servers"] == [STUN]
    assert hello["ice_transport_policy"] == "all"


# -- the example site's environment ---------------------------------------------------


def test_the_example_site_reads_turn_settings_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from example_site.app import _env_config

    monkeypatch.setenv("VIDEOCHAT_TURN_URLS", "turn:a.example:3478?transport=udp, turns:a.example")
    monkeypatch.setenv("VIDEOCHAT_TURN_SECRET", "12345")  # a secret, not a number
    monkeypatch.setenv("VIDEOCHAT_TURN_TTL", "600")
    monkeypatch.setenv("VIDEOCHAT_ICE_TRANSPORT_POLICY", "relay")
    config = _env_config()
    assert config["VIDEOCHAT_TURN_URLS"] == ["turn:a.example:3478?transport=udp", "turns:a.example"]
    assert (config["VIDEOCHAT_TURN_SECRET"], config["VIDEOCHAT_TURN_TTL"]) == ("12345", 600)
    assert config["VIDEOCHAT_ICE_TRANSPORT_POLICY"] == "relay"

    monkeypatch.setenv("VIDEOCHAT_TURN_URLS", '["turn:b.example"]')
    assert _env_config()["VIDEOCHAT_TURN_URLS"] == ["turn:b.example"]
