"""Admission: what every event passes as soon as it arrives, before Flask, the
session or the payload's schema (``flask_videochat.events.base.admit``), through
``/videochat`` with Flask-SocketIO's test client under both async modes: a refused
event builds no request context, decodes no session and holds up none of the
connection's later events; a connection that keeps sending past its limits is
closed, and only that one."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable

import pytest

from flask_videochat.events.base import MAX_REFUSALS
from tests.support import answered

if TYPE_CHECKING:
    from tests.harness import Connector, Host, MakeHost

    Connectors = Callable[[Host], Connector]

CANDIDATE = {
    "candidate": "candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
    "usernameFragment": "abcd",
}


def rate_limited(ack: Any) -> bool:
    return ack["ok"] is False and ack["error"]["code"] == "ERR_RATE_LIMITED"


def test_a_refused_event_builds_no_request_context_and_opens_no_session(
    make_host: MakeHost, connector_for: Connectors, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = make_host(config={"VIDEOCHAT_RATE_LIMITS": {"ping": "2/minute"}})
    ada = connector_for(host)("ada")
    assert [ada.emit("ping", {}) for _ in range(2)] == [{"ok": True}] * 2
    contexts: list[Any] = []
    sessions: list[Any] = []
    request_context = host.app.request_context
    open_session = host.app.session_interface.open_session
    monkeypatch.setattr(
        host.app, "request_context", lambda *a: contexts.append(a) or request_context(*a)
    )
    monkeypatch.setattr(
        host.app.session_interface,
        "open_session",
        lambda *a: sessions.append(a) or open_session(*a),
    )

    for _ in range(50):
        assert rate_limited(ada.emit("ping", {}))
    assert rate_limited(ada.emit("ping", {"padding": "x" * 70_000}))

    assert contexts == [] and sessions == []
    assert ada.emit("call.media", {"call_id": "nope", "mic": True, "cam": True})["ok"] is False
    assert len(contexts) == 1, "an admitted event runs in a request context, as before"


def test_a_refused_numbered_event_holds_up_none_of_the_later_ones(
    make_host: MakeHost, connector_for: Connectors
) -> None:
    host = make_host(config={"VIDEOCHAT_RATE_LIMITS": {"ping": "1/minute"}})
    ada, bob = connector_for(host)("ada"), connector_for(host)("bob")
    call_id = answered(ada, bob)

    # (Ada's call.invite took number 1 of her connection.)
    assert ada.emit("ping", {"seq": 2}) == {"ok": True}
    assert rate_limited(ada.emit("ping", {"seq": 3}))
    started = time.monotonic()
    ack = ada.emit("signal", {"call_id": call_id, "candidate": CANDIDATE, "seq": 4})

    assert ack == {"ok": True}
    # Had seq 2 been left waited for, seq 3 would have run after the 2 s gap timeout.
    assert time.monotonic() - started < 1
    assert bob.received("signal")[-1]["candidate"] == CANDIDATE


def test_a_connection_that_keeps_sending_past_its_limits_is_closed_alone(
    make_host: MakeHost, connector_for: Connectors
) -> None:
    host = make_host(config={"VIDEOCHAT_RATE_LIMITS": {"ping": "1/minute"}})
    connect = connector_for(host)
    flooding, other_tab, bob = connect("ada"), connect("ada"), connect("bob")

    acks = []
    while flooding.connected and len(acks) < 10 * MAX_REFUSALS:
        acks.append(flooding.emit("ping", {}))

    assert acks[0] == {"ok": True}
    assert len(acks) == 2 + MAX_REFUSALS  # the last refusal closed it
    assert not flooding.connected
    assert other_tab.connected and bob.connected
    assert other_tab.emit("call.invite", {"to": "bob"})["ok"] is True
    assert connect("ada").connected  # not banned: a new connection may try again


def test_connecting_over_and_over_is_refused_once_the_users_budget_is_spent(
    make_host: MakeHost, connector_for: Connectors
) -> None:
    # Each connect costs a presence snapshot of everyone online.
    host = make_host(config={"VIDEOCHAT_RATE_LIMITS": {"connect": "3/minute"}})
    connect = connector_for(host)
    tabs = [connect("ada") for _ in range(6)]  # 3 a minute, twice that for a user

    assert all(tab.connected for tab in tabs)
    connected, error = connect.connect_error("ada")
    assert not connected
    assert error["data"]["code"] == "ERR_RATE_LIMITED"
    assert 0 < error["data"]["retry_after"] <= 60.002
    assert connect("bob").connected  # somebody else's budget


def test_refused_origins_are_logged_once_a_minute(
    make_host: MakeHost, connector_for: Connectors, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from flask_socketio import SocketIOTestClient

    host = make_host()
    connect = connector_for(host)
    original = SocketIOTestClient.connect

    def from_evil(self: Any, namespace: Any = None, query_string: Any = None,
                  headers: Any = None, auth: Any = None) -> Any:
        return original(self, namespace=namespace, query_string=query_string,
                        headers={**(headers or {}), "Origin": "https://evil.example"}, auth=auth)

    monkeypatch.setattr(SocketIOTestClient, "connect", from_evil)
    with caplog.at_level("WARNING", logger="flask_videochat"):
        for _ in range(50):
            assert not connect.connect_error("ada")[0]

    refused = [r for r in caplog.records if "refused a connection from origin" in r.getMessage()]
    assert len(refused) <= 1
