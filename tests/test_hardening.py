"""Hardening against abuse, through ``/videochat`` and Flask-SocketIO's test client
under both async modes: pages of other sites are refused, events too large are
refused without doing anything, and a user who signs out is disconnected. Rate
limits: ``test_hardening_rate_limits.py``."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable

import pytest
from flask_login import current_user, logout_user
from flask_socketio import SocketIOTestClient

from flask_videochat.core.protocol import ProtocolError
from flask_videochat.core.ratelimit import check_size
from tests.support import answered, assert_error, clear

#: Sign-out tests run on both stores: in memory, and on Redis (one process).
both_stores = pytest.mark.parametrize("host_store", ("memory", "redis"), indirect=True)

if TYPE_CHECKING:
    from tests.harness import Connector, Host, MakeHost, Tab

    Connectors = Callable[[Host], Connector]


@pytest.fixture
def page_origin(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """``page_origin("https://evil.example")``: the tabs opened from then on send
    that ``Origin`` header, as a browser does for a page of that site (``None``: no
    header, as a non-browser client). ``host=`` sends a ``Host`` header too."""
    original = SocketIOTestClient.connect
    extra: dict[str, str] = {}

    def connect(
        self: SocketIOTestClient,
        namespace: Any = None,
        query_string: Any = None,
        headers: Any = None,
        auth: Any = None,
    ) -> Any:
        merged = {**extra, **(headers or {})}
        return original(
            self, namespace=namespace, query_string=query_string, headers=merged or None, auth=auth
        )

    monkeypatch.setattr(SocketIOTestClient, "connect", connect)

    def choose(origin: str | None, *, host: str | None = None) -> None:
        extra.clear()
        if origin is not None:
            extra["Origin"] = origin
        if host is not None:
            extra["Host"] = host

    return choose


def left(tab: Tab) -> list[str]:
    """Ids of the users ``tab`` was told left (``presence.changes``)."""
    return [uid for change in tab.changes() for uid in change["left"]]


# -- origin check (cross-site WebSocket hijacking) -------------------------------------


def test_a_page_of_another_site_is_refused_before_anything(
    connect: Connector, host: Host, page_origin: Callable[..., None]
) -> None:
    bob = connect("bob")
    bob.clear()
    page_origin("https://evil.example")

    connected, error = connect.connect_error("ada")

    assert not connected
    assert error == {
        "message": "Video calls cannot be opened from a page of another site.",
        "data": {
            "code": "ERR_FORBIDDEN_ORIGIN",
            "message": "Video calls cannot be opened from a page of another site.",
        },
    }
    # Ada's cookies came along, yet she is not online and nobody heard of her.
    assert host.state.presence.get("ada") is None
    host.sleep(0.2)
    assert bob.names() == []


@pytest.mark.parametrize(
    "origin",
    ["http://localhost", "HTTP://LOCALHOST", "http://localhost:80", "http://localhost/"],
)
def test_a_page_of_the_site_itself_connects(
    connect: Connector, host: Host, page_origin: Callable[..., None], origin: str
) -> None:
    page_origin(origin)  # the test client's requests go to http://localhost/

    ada = connect("ada")

    assert ada.connected
    assert ada.received("hello")[0]["self"]["id"] == "ada"


@pytest.mark.parametrize(
    "origin",
    ["https://localhost", "http://localhost:5000", "http://localhost.evil.example", "null", ""],
)
def test_only_the_same_scheme_host_and_port_is_the_same_site(
    connect: Connector, page_origin: Callable[..., None], origin: str
) -> None:
    page_origin(origin)

    connected, error = connect.connect_error("ada")

    assert not connected
    assert error["data"]["code"] == "ERR_FORBIDDEN_ORIGIN"


def test_the_same_site_is_the_host_the_request_was_made_to(
    connect: Connector, page_origin: Callable[..., None]
) -> None:
    # Served under another name (or behind a proxy that werkzeug's ProxyFix
    # trusts): the site's own origin is that name's.
    page_origin("http://localhost", host="video.example.org")
    refused, _ = connect.connect_error("ada")
    page_origin("http://video.example.org", host="video.example.org")
    _, error = connect.connect_error("ada")

    assert not refused
    # (the origin passes; the test client's cookies are for localhost, so this
    # browser is a stranger there)
    assert error["data"]["code"] == "ERR_UNAUTHENTICATED"


def test_listed_sites_may_connect_and_others_not(
    make_host: MakeHost, connector_for: Connectors, page_origin: Callable[..., None]
) -> None:
    host = make_host(config={"VIDEOCHAT_ALLOWED_ORIGINS": ["https://app.example.org:8443"]})
    connect = connector_for(host)

    page_origin("https://app.example.org:8443")
    listed = connect("ada")
    page_origin("http://localhost")
    own = connect("bob")
    page_origin("https://app.example.org")
    connected, error = connect.connect_error("cy")

    assert listed.connected and own.connected
    assert not connected and error["data"]["code"] == "ERR_FORBIDDEN_ORIGIN"


def test_any_site_may_connect_with_a_star(
    make_host: MakeHost, connector_for: Connectors, page_origin: Callable[..., None]
) -> None:
    connect = connector_for(make_host(config={"VIDEOCHAT_ALLOWED_ORIGINS": "*"}))
    page_origin("https://evil.example")

    assert connect("ada").connected


def test_a_client_without_an_origin_header_connects(
    connect: Connector, page_origin: Callable[..., None]
) -> None:
    # Not a browser: it could send any header it likes, so the header proves
    # nothing; the browser's cookies are what the check protects.
    page_origin(None)

    assert connect("ada").connected


# -- message size --------------------------------------------------------------------------


def nested(depth: int) -> Any:
    """A JSON value of ``depth`` nested arrays."""
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


def test_an_oversize_event_is_refused_before_validation(connect: Connector) -> None:
    ada, bob = connect("ada"), connect("bob")
    call_id = answered(ada, bob)
    clear(ada, bob)

    # Without the cap, the unknown field would get ERR_INVALID_PAYLOAD.
    ack = ada.emit("signal", {"call_id": call_id, "junk": "x" * 70_000})

    assert_error(ack, "ERR_TOO_LARGE")
    assert "too large" in ack["error"]["message"]
    assert bob.names() == []


def test_the_cap_counts_the_whole_message(make_host: MakeHost, connector_for: Connectors) -> None:
    host = make_host(config={"VIDEOCHAT_MAX_MESSAGE_SIZE": 8192})
    connect = connector_for(host)
    ada, bob = connect("ada"), connect("bob")
    call_id = answered(ada, bob)
    clear(ada, bob)
    small = {"type": "offer", "sdp": "v=0\r\n" + "a=x\r\n" * 1000}  # 5 KB: fine
    big = {"type": "offer", "sdp": "v=0\r\n" + "a=x\r\n" * 2000}  # 10 KB, under the SDP limit

    assert ada.emit("signal", {"call_id": call_id, "description": small}) == {"ok": True}
    assert_error(ada.emit("signal", {"call_id": call_id, "description": big}), "ERR_TOO_LARGE")
    assert bob.received("signal") == [{"call_id": call_id, "from": "ada", "description": small}]


def test_a_deeply_nested_event_is_refused(connect: Connector) -> None:
    ada = connect("ada")

    at_the_limit = ada.emit("call.invite", {"to": "bob", "x": nested(31)})  # 32 levels
    too_deep = ada.emit("call.invite", {"to": "bob", "x": nested(32)})
    far_too_deep = ada.emit("chat.send", nested(300))

    assert_error(at_the_limit, "ERR_INVALID_PAYLOAD")  # passed the size check
    assert_error(too_deep, "ERR_TOO_LARGE")
    assert "nested" in too_deep["error"]["message"]
    assert_error(far_too_deep, "ERR_TOO_LARGE")


def test_check_size_counts_bytes_and_stops_early() -> None:
    check_size(["é" * 100], max_bytes=202)  # 200 bytes of UTF-8 and 2 quotes
    with pytest.raises(ProtocolError, match="too large"):
        check_size(["é" * 100], max_bytes=201)
    with pytest.raises(ProtocolError, match="too large"):
        check_size([{"k": b"\0" * 100}], max_bytes=100)
    huge, deep = [[0] * 2_000_000], [nested(100_000)]  # made before the clock starts
    started = time.monotonic()
    with pytest.raises(ProtocolError, match="too large"):
        check_size(huge, max_bytes=65536)
    with pytest.raises(ProtocolError, match="nested"):
        check_size(deep, max_bytes=10**9)
    assert time.monotonic() - started < 1


# -- sign-out -------------------------------------------------------------------------------


@both_stores
def test_signing_out_disconnects_every_tab_of_that_user(
    make_host: MakeHost, connector_for: Connectors
) -> None:
    host = make_host()

    def sign_out() -> str:
        logout_user()
        return "bye"

    host.app.add_url_rule("/logout", "logout", sign_out, methods=["POST"])
    connect = connector_for(host)
    ada1, ada2, bob = connect("ada"), connect("ada"), connect("bob")
    call_id = answered(ada1, bob)
    host.sleep(0.3)
    clear(ada1, ada2, bob)

    assert connect.browser("ada").post("/logout").status_code == 200

    assert not ada1.connected and not ada2.connected
    assert host.state.presence.get("ada") is None
    bob.wait_for("call.ended")
    assert bob.received("call.ended") == [{"call_id": call_id, "reason": "peer_disconnected"}]
    bob.wait_for("presence.changes")
    assert left(bob) == ["ada"]
    assert bob.connected
    # Her browser no longer has the session: a new tab is a stranger.
    assert not connect("ada").connected


@both_stores
def test_disconnect_user_closes_that_users_connections_only(connect: Connector, host: Host) -> None:
    ada1, ada2, bob = connect("ada"), connect("ada"), connect("bob")

    with host.app.app_context():
        closed = host.videochat.disconnect_user("ada")

    assert closed == 2
    assert not ada1.connected and not ada2.connected and bob.connected
    assert host.state.presence.get("ada") is None
    assert host.videochat.disconnect_user("ada", app=host.app) == 0


def test_an_identity_loader_host_disconnects_users_itself(
    make_host: MakeHost, connector_for: Connectors
) -> None:
    # With its own identity loader the host's ids need not be Flask-Login's (here
    # "member-ada" for Flask-Login's "ada"): signing out through Flask-Login must not
    # disconnect whoever has that id; the host calls disconnect_user itself.
    def identity() -> Any:
        return ("member-" + current_user.get_id(), "A member") if current_user else None

    host = make_host(identity_loader=identity)

    def sign_out() -> str:
        logout_user()
        return "bye"

    host.app.add_url_rule("/logout", "logout", sign_out, methods=["POST"])
    connect = connector_for(host)
    tab = connect("ada")
    assert tab.connected and host.state.presence.get("member-ada") is not None

    connect.browser("ada").post("/logout")

    assert tab.connected
    with host.app.app_context():
        assert host.videochat.disconnect_user("member-ada") == 1
    assert not tab.connected
