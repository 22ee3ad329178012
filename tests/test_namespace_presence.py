"""Connecting to ``/videochat`` and presence, through Flask-SocketIO's test client,
under both async modes: who may connect, ``hello``, the snapshot and the diffs that
follow it, several tabs of one person, identities, presence turned off and its
config. Changes gathered in windows: ``test_namespace_presence_windows.py``;
``can_see``: ``test_namespace_presence_can_see.py``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import pytest

from flask_videochat.core.protocol import (
    MAX_CANDIDATE_LENGTH,
    MAX_CHAT_LENGTH,
    MAX_SDP_LENGTH,
    PROTOCOL_VERSION,
)
from tests.support import assert_error, invite, statuses

#: Every test here runs on both stores: in memory, and on Redis (one process).
pytestmark = pytest.mark.parametrize("host_store", ("memory", "redis"), indirect=True)

if TYPE_CHECKING:
    from tests.harness import Connector, Host, MakeHost

    Person = Callable[..., dict[str, str]]

HOSTILE_NAME = "<img src=x onerror=alert(1)>"
UNAUTHENTICATED = {"code": "ERR_UNAUTHENTICATED", "message": "Sign in to make video calls."}


# -- who may connect ----------------------------------------------------------------


def test_a_visitor_who_is_not_signed_in_is_refused(connect: Connector, host: Host) -> None:
    bob = connect("bob")
    bob.clear()

    visitor = connect(None)

    assert not visitor.connected
    assert visitor.received("hello") == []
    assert bob.names() == []
    assert [u.id for u, _ in host.state.presence.users()] == ["bob"]


def test_the_refusal_tells_the_browser_to_sign_in(connect: Connector) -> None:
    # docs/protocol.md: connect_error whose data is {"code": "ERR_UNAUTHENTICATED", ...}
    connected, error = connect.connect_error(None)

    assert not connected
    assert isinstance(error, dict)
    assert error.get("data") == UNAUTHENTICATED


def test_an_identity_loader_that_fails_refuses_the_connection(
    make_host: MakeHost, connector_for: Callable[[Host], Connector]
) -> None:
    def broken() -> Any:
        raise LookupError("user database down")

    host = make_host(login=False, identity_loader=broken)
    connect = connector_for(host)

    assert not connect("ada").connected
    assert host.state.presence.users() == []
    # and the server still takes connections afterwards
    host.videochat.identity_loader(lambda: ("ada", "Ada"))
    assert connect("ada").connected


# -- hello and the snapshot ------------------------------------------------------------


def test_hello_then_snapshot(connect: Connector, host: Host) -> None:
    ada = connect("ada")

    assert ada.names()[:2] == ["hello", "presence.snapshot"]
    assert ada.received("hello") == [
        {
            "protocol": PROTOCOL_VERSION,
            "self": {"id": "ada", "name": "Ada Lovelace"},
            "ice_servers": host.app.config["VIDEOCHAT_ICE_SERVERS"],
            "ice_transport_policy": "all",
            "ring_timeout": 1,
            "reconnect_grace": 0,
            "room_capacity": 4,
            "limits": {
                "sdp": MAX_SDP_LENGTH,
                "candidate": MAX_CANDIDATE_LENGTH,
                "chat": MAX_CHAT_LENGTH,
            },
        }
    ]
    assert ada.received("presence.snapshot") == [{"users": []}]


def test_hello_follows_the_config(
    make_host: MakeHost, connector_for: Callable[[Host], Connector]
) -> None:
    servers = [
        {"urls": ["stun:a.example.org", "stun:b.example.org"]},
        {"urls": "turn:turn.example.org", "username": "u", "credential": "p"},
    ]
    host = make_host(
        config={
            "VIDEOCHAT_ICE_SERVERS": servers,
            "VIDEOCHAT_RING_TIMEOUT": 45,
            "VIDEOCHAT_ROOM_CAPACITY": 6,
            "VIDEOCHAT_RECONNECT_GRACE": 2.5,
        }
    )
    hello = connector_for(host)("ada").received("hello")[0]

    assert hello["ice_servers"] == servers
    assert hello["ring_timeout"] == 45
    assert hello["room_capacity"] == 6
    assert hello["reconnect_grace"] == 2.5


def test_snapshot_lists_everyone_else_with_their_status(connect: Connector, person: Person) -> None:
    bob, cy = connect("bob"), connect("cy")
    call_id = bob.emit("call.invite", {"to": "cy"})["call_id"]
    assert cy.emit("call.accept", {"call_id": call_id})["ok"] is True
    connect("dan")
    ada_earlier_tab = connect("ada")

    snapshot = connect("ada").received("presence.snapshot")

    assert len(snapshot) == 1
    users = sorted(snapshot[0]["users"], key=lambda u: u["id"])
    assert users == [person("bob", "in_call"), person("cy", "in_call"), person("dan")]
    assert ada_earlier_tab.received("presence.snapshot")[0]["users"] != []


def test_snapshot_shows_ringing(connect: Connector, person: Person) -> None:
    bob, cy = connect("bob"), connect("cy")
    assert bob.emit("call.invite", {"to": "cy"})["state"] == "ringing"
    assert cy.received("call.incoming")

    users = connect("ada").received("presence.snapshot")[0]["users"]

    assert sorted(users, key=lambda u: u["id"]) == [
        person("bob", "ringing"),
        person("cy", "ringing"),
    ]


# -- diffs ---------------------------------------------------------------------------


def test_others_get_a_join_not_the_whole_list(connect: Connector, person: Person) -> None:
    bob, cy = connect("bob"), connect("cy")
    bob.clear()
    cy.clear()

    ada = connect("ada")

    for other in (bob, cy):
        assert other.names() == ["presence.changes"]
        assert other.changes() == [{"users": [person("ada")], "left": []}]
    # Ada has the snapshot: no change tells her of anyone but herself.
    assert {user["id"] for user in ada.online()} <= {"ada"}
    assert ada.offline() == []


def test_others_get_a_leave(connect: Connector) -> None:
    ada, bob = connect("ada"), connect("bob")
    bob.clear()

    ada.close()

    assert bob.names() == ["presence.changes"]
    assert bob.changes() == [{"users": [], "left": ["ada"]}]


def test_a_second_tab_is_not_a_second_person(connect: Connector, person: Person) -> None:
    first = connect("ada")
    bob = connect("bob")
    bob.clear()
    first.clear()

    second = connect("ada")

    assert second.connected
    assert second.names()[:2] == ["hello", "presence.snapshot"]
    assert second.received("presence.snapshot") == [{"users": [person("bob")]}]
    assert bob.names() == []
    assert first.names() == []


def test_closing_one_of_two_tabs_is_no_leave_but_closing_the_last_is(connect: Connector) -> None:
    first, second = connect("ada"), connect("ada")
    bob = connect("bob")
    bob.clear()

    first.close()
    assert bob.names() == []

    second.close()
    assert bob.changes() == [{"users": [], "left": ["ada"]}]
    assert bob.names() == ["presence.changes"]


def test_coming_back_after_leaving_is_a_join(connect: Connector, person: Person) -> None:
    connect("ada").close()
    bob = connect("bob")
    bob.clear()

    connect("ada")

    assert bob.changes() == [{"users": [person("ada")], "left": []}]


def test_status_diffs_follow_a_call(connect: Connector) -> None:
    ada, bob, cy = connect("ada"), connect("bob"), connect("cy")
    cy.clear()

    call_id = ada.emit("call.invite", {"to": "bob"})["call_id"]
    assert cy.statuses() == [("ada", "ringing"), ("bob", "ringing")]
    cy.clear()

    bob.emit("call.accept", {"call_id": call_id})
    assert cy.statuses() == [("ada", "in_call"), ("bob", "in_call")]
    cy.clear()

    ada.emit("call.hangup", {"call_id": call_id})
    assert cy.statuses() == [("ada", "available"), ("bob", "available")]
    # Only the changes: no leave, and no snapshot, for people who did not come or go.
    assert set(cy.names()) == {"presence.changes"}
    assert cy.offline() == []


# -- identities ------------------------------------------------------------------------


def test_anonymous_visitors_connect_as_guests_when_allowed(
    make_host: MakeHost, connector_for: Callable[[Host], Connector]
) -> None:
    host = make_host(config={"VIDEOCHAT_ALLOW_ANONYMOUS": True})
    connect = connector_for(host)
    bob = connect("bob")
    # Signed-in people are still themselves.
    assert bob.received("hello")[0]["self"] == {"id": "bob", "name": "Bob"}
    bob.clear()

    guest = connect(None)

    assert guest.connected
    me = guest.received("hello")[0]["self"]
    assert me["id"].startswith("guest-")
    assert me["id"] != "bob"
    assert bob.changes() == [{"users": [{**me, "status": "available"}], "left": []}]
    # And a guest can call.
    ack = guest.emit("call.invite", {"to": "bob"})
    assert ack["ok"] is True
    assert bob.received("call.incoming")[0]["from"] == me


def test_identity_loader_for_a_host_without_flask_login(
    make_host: MakeHost, connector_for: Callable[[Host], Connector]
) -> None:
    from flask import session

    people = {"ada": (7, "Grace Hopper")}

    def load() -> Any:
        uid = session.get("uid")
        return people.get(uid) if uid else None

    host = make_host(login=False, identity_loader=load)
    connect = connector_for(host)

    ada = connect("ada")
    assert ada.received("hello")[0]["self"] == {"id": "7", "name": "Grace Hopper"}
    assert not connect(None).connected


def test_display_names_pass_through_as_text(connect: Connector, person: Person) -> None:
    hostile = HOSTILE_NAME
    ada = connect("ada")
    ada.clear()

    eve = connect("eve")

    assert eve.received("hello")[0]["self"] == {"id": "eve", "name": hostile}
    assert ada.online() == [person("eve")]
    assert connect("bob").received("presence.snapshot")[0]["users"].count(person("eve")) == 1
    eve.emit("call.invite", {"to": "ada"})
    assert ada.received("call.incoming")[0]["from"] == {"id": "eve", "name": hostile}


# -- presence turned off ------------------------------------------------------------------


def test_without_presence_nothing_is_sent_and_calls_by_id_still_work(
    make_host: MakeHost, connector_for: Callable[[Host], Connector]
) -> None:
    host = make_host(config={"VIDEOCHAT_PRESENCE": False, "VIDEOCHAT_PRESENCE_WINDOW": 0.05})
    connect = connector_for(host)
    ada, bob = connect("ada"), connect("bob")
    cy = connect("cy")

    assert ada.received("hello")[0]["self"] == host.public("ada")
    call_id = invite(ada, "bob")
    assert bob.received("call.incoming")[0]["from"] == host.public("ada")
    assert bob.emit("call.accept", {"call_id": call_id})["ok"] is True
    assert statuses(host) == {"ada": "in_call", "bob": "in_call", "cy": "available"}
    assert ada.emit("call.hangup", {"call_id": call_id})["ok"] is True
    assert_error(ada.emit("call.invite", {"to": "dan"}), "ERR_USER_OFFLINE")
    cy.close()
    host.sleep(0.2)  # past any window

    for tab in (ada, bob, cy):
        assert [n for n in tab.names() if n.startswith("presence.")] == [], tab.log


# -- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize("window", [0.3, -1, "x", True, None])
def test_a_bad_presence_window_is_refused_at_init(make_host: MakeHost, window: Any) -> None:
    with pytest.raises(ValueError, match="VIDEOCHAT_PRESENCE_WINDOW"):
        make_host(config={"VIDEOCHAT_PRESENCE_WINDOW": window})


@pytest.mark.parametrize("window", [0, 0.25, 0.1])
def test_presence_windows_from_0_to_a_quarter_second_are_taken(
    make_host: MakeHost, window: float
) -> None:
    assert (
        make_host(config={"VIDEOCHAT_PRESENCE_WINDOW": window}).state.settings.presence_window
        == window
    )


@pytest.mark.parametrize("flag", ["yes", 1, None])
def test_presence_must_be_a_bool(make_host: MakeHost, flag: Any) -> None:
    with pytest.raises(ValueError, match=r"VIDEOCHAT_PRESENCE\b"):
        make_host(config={"VIDEOCHAT_PRESENCE": flag})
