"""Connecting to ``/videochat`` and presence, through Flask-SocketIO's test client,
under both async modes: who may connect, ``hello``, the snapshot and the diffs that
follow it, several tabs of one person."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable

import pytest

from flask_videochat.core.protocol import (
    MAX_CANDIDATE_LENGTH,
    MAX_CHAT_LENGTH,
    MAX_SDP_LENGTH,
    PROTOCOL_VERSION,
)
from tests.support import assert_error, clear, invite, statuses

#: Every test here runs on both stores: in memory, and on Redis (one process).
pytestmark = pytest.mark.parametrize("host_store", ("memory", "redis"), indirect=True)

if TYPE_CHECKING:
    from conftest import Connector, Host, MakeHost, Tab

    from flask_videochat import User

    Person = Callable[..., dict[str, str]]

HOSTILE_NAME = "<img src=x onerror=alert(1)>"
UNAUTHENTICATED = {"code": "ERR_UNAUTHENTICATED", "message": "Sign in to make video calls."}


@pytest.fixture
def person(host: Host) -> Person:
    """``person("bob", "in_call")``: Bob as presence events list him."""

    def listed(user_id: str, status: str = "available") -> dict[str, str]:
        return {**host.public(user_id), "status": status}

    return listed


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


# -- presence.changes: windows ------------------------------------------------------------

#: The window of the hosts that gather changes, in seconds.
WINDOW = 0.2


def named_host(make_host: MakeHost, **config: Any) -> Host:
    """A host whose users are whoever signs in (``connect("u1")`` is user ``u1``,
    named ``U1``): more people than :data:`~conftest.USERS`."""
    from flask import session

    def load() -> Any:
        uid = session.get("uid")
        return (uid, uid.upper()) if uid else None

    return make_host(login=False, identity_loader=load, config=config)


def seen_by(tab: Tab) -> dict[str, str]:
    """Who ``tab`` believes is online (id -> status): its snapshot with every
    ``presence.changes`` applied in order, its own id ignored."""
    view = {u["id"]: u["status"] for u in tab.received("presence.snapshot")[0]["users"]}
    for change in tab.changes():
        view.update((u["id"], u["status"]) for u in change["users"])
        for uid in change["left"]:
            view.pop(uid, None)
    view.pop(str(tab.user_id), None)
    return view


def poll(host: Host, predicate: Callable[[], bool], *, what: str, timeout: float = 1.0) -> None:
    """Let the server's timers run until ``predicate`` holds; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        host.sleep(0.01)


def others_of(host: Host, user_id: str) -> dict[str, str]:
    """Who is really online but ``user_id`` (id -> status), as the server knows it."""
    return {uid: status for uid, status in statuses(host).items() if uid != user_id}


def settled(host: Host, tab: Tab) -> int:
    """Let every pending window pass; returns how many ``presence.changes`` ``tab``
    has received so far (the changes after it are ``tab.changes()[mark:]``)."""
    host.sleep(WINDOW * 2)
    return len(tab.changes())


def test_joins_within_a_window_go_out_together(
    make_host: MakeHost, connector_for: Callable[[Host], Connector]
) -> None:
    host = named_host(make_host, VIDEOCHAT_PRESENCE_WINDOW=WINDOW)
    connect = connector_for(host)
    watcher = connect("watcher")
    mark = settled(host, watcher)
    crowd = [f"u{n}" for n in range(1, 6)]

    started = time.monotonic()
    for uid in crowd:
        assert connect(uid).connected
    poll(host, lambda: set(seen_by(watcher)) == set(crowd), what="the five joins")

    assert time.monotonic() - started < 0.5
    changes = watcher.changes()[mark:]
    assert 1 <= len(changes) <= 2, changes  # not one per join
    listed = [user for change in changes for user in change["users"]]
    assert sorted(u["id"] for u in listed) == crowd  # each of them once
    assert all(u == {"id": u["id"], "name": u["id"].upper(), "status": "available"} for u in listed)
    assert [uid for change in changes for uid in change["left"]] == []
    assert settled(host, watcher) == mark + len(changes)  # nothing more: nothing changed
    assert seen_by(watcher) == others_of(host, "watcher")


def test_a_change_carries_the_state_at_send_time(
    make_host: MakeHost, connector_for: Callable[[Host], Connector]
) -> None:
    host = named_host(make_host, VIDEOCHAT_PRESENCE_WINDOW=WINDOW)
    connect = connector_for(host)
    watcher = connect("watcher")
    mark = settled(host, watcher)

    caller, callee = connect("caller"), connect("callee")
    assert caller.emit("call.invite", {"to": "callee"})["state"] == "ringing"
    poll(host, lambda: len(watcher.changes()) > mark, what="the changes")

    # One message: the two joined and started ringing within one window, so each is
    # listed once, as they were when it went out.
    assert settled(host, watcher) == mark + 1
    assert watcher.changes()[mark:] == [
        {
            "users": [
                {"id": "caller", "name": "CALLER", "status": "ringing"},
                {"id": "callee", "name": "CALLEE", "status": "ringing"},
            ],
            "left": [],
        }
    ]
    assert seen_by(watcher) == others_of(host, "watcher")
    call_id = callee.received("call.incoming")[0]["call_id"]
    assert caller.emit("call.cancel", {"call_id": call_id})["ok"] is True


def test_coming_and_going_within_a_window_is_never_left_online(
    make_host: MakeHost, connector_for: Callable[[Host], Connector]
) -> None:
    host = named_host(make_host, VIDEOCHAT_PRESENCE_WINDOW=WINDOW)
    connect = connector_for(host)
    watcher = connect("watcher")
    connect("stays")
    mark = settled(host, watcher)

    flash = connect("flash")
    flash.close()
    connect("late")  # a change after it, in the same window
    poll(host, lambda: "late" in seen_by(watcher), what="late's join")
    settled(host, watcher)

    changes = watcher.changes()[mark:]
    assert "flash" not in [u["id"] for change in changes for u in change["users"]]
    assert {uid for change in changes for uid in change["left"]} <= {"flash"}
    expected = {"stays": "available", "late": "available"}
    assert seen_by(watcher) == others_of(host, "watcher") == expected


def test_leaving_and_coming_back_within_a_window_is_online(
    make_host: MakeHost, connector_for: Callable[[Host], Connector]
) -> None:
    host = named_host(make_host, VIDEOCHAT_PRESENCE_WINDOW=WINDOW)
    connect = connector_for(host)
    watcher = connect("watcher")
    first = connect("back")
    mark = settled(host, watcher)
    assert seen_by(watcher) == {"back": "available"}

    first.close()
    connect("back")
    poll(host, lambda: len(watcher.changes()) > mark, what="the changes")
    settled(host, watcher)

    assert seen_by(watcher) == others_of(host, "watcher") == {"back": "available"}


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


# -- can_see ------------------------------------------------------------------------------


@pytest.fixture
def hidden(
    make_host: MakeHost, connector_for: Callable[[Host], Connector]
) -> tuple[Host, Connector, list[tuple[str, str]]]:
    """A host whose ``can_see`` hides Eve from Ada (only that way round), with the
    ``(viewer, user)`` ids of every time the hook was asked."""
    asked: list[tuple[str, str]] = []

    def can_see(viewer: User, user: User) -> bool:
        asked.append((viewer.id, user.id))
        return (viewer.id, user.id) != ("ada", "eve")

    host = make_host(can_see=can_see)
    return host, connector_for(host), asked


def test_can_see_filters_the_snapshot(
    hidden: tuple[Host, Connector, list[tuple[str, str]]], person: Person
) -> None:
    _, connect, asked = hidden
    connect("eve")
    connect("bob")

    ada = connect("ada")
    dan = connect("dan")

    assert ada.received("presence.snapshot") == [{"users": [person("bob")]}]
    assert sorted(u["id"] for u in dan.received("presence.snapshot")[0]["users"]) == [
        "ada",
        "bob",
        "eve",
    ]
    # Eve sees Ada: the hook is one way.
    assert "ada" in [u["id"] for u in connect("eve").received("presence.snapshot")[0]["users"]]
    assert ("ada", "eve") in asked
    assert [pair for pair in asked if pair[0] == pair[1]] == []


def test_can_see_filters_the_changes(hidden: tuple[Host, Connector, list[tuple[str, str]]]) -> None:
    host, connect, asked = hidden
    ada, bob, cy = connect("ada"), connect("bob"), connect("cy")
    mark = {tab.user_id: len(tab.changes()) for tab in (ada, bob, cy)}

    eve = connect("eve")  # joins,
    invite(eve, "cy")  # changes status (and Cy's),
    eve.close()  # and leaves (Cy is free again)

    assert bob.statuses()[mark["bob"] :] == [
        ("eve", "available"),
        ("eve", "ringing"),
        ("cy", "ringing"),
        ("cy", "available"),
    ]
    assert bob.offline() == ["eve"]
    # Ada hears of Cy ringing and free again, and of Eve nothing at all.
    assert ada.statuses()[mark["ada"] :] == [("cy", "ringing"), ("cy", "available")]
    assert ada.offline() == []
    assert all(change["users"] or change["left"] for change in ada.changes())  # none empty
    # Each viewer gets their own messages, which do not mention the viewer.
    for tab in (ada, bob, cy):
        assert tab.user_id not in [u["id"] for u in tab.online()] + tab.offline()
    assert seen_by(ada) == {"bob": "available", "cy": "available"} == others_of(host, "ada")
    assert seen_by(bob) == others_of(host, "bob")
    assert ("ada", "eve") in asked
    assert [pair for pair in asked if pair[0] == pair[1]] == []


def test_someone_hidden_is_offline_to_invitations(
    hidden: tuple[Host, Connector, list[tuple[str, str]]],
) -> None:
    host, connect, asked = hidden
    ada, eve, bob = connect("ada"), connect("eve"), connect("bob")
    clear(ada, eve, bob)

    hidden_ack = ada.emit("call.invite", {"to": "eve"})
    offline_ack = ada.emit("call.invite", {"to": "dan"})  # Dan is really offline

    assert_error(hidden_ack, "ERR_USER_OFFLINE")
    assert hidden_ack == offline_ack
    assert eve.received("call.incoming") == []
    assert statuses(host) == {"ada": "available", "bob": "available", "eve": "available"}

    assert ada.emit("room.join", {"room": "standup"})["ok"] is True
    hidden_ack = ada.emit("room.invite", {"room": "standup", "to": "eve"})
    offline_ack = ada.emit("room.invite", {"room": "standup", "to": "dan"})

    assert_error(hidden_ack, "ERR_USER_OFFLINE")
    assert hidden_ack == offline_ack
    assert eve.received("room.invite") == []
    assert statuses(host)["eve"] == "available"
    # Eve is online for those who may see her.
    call_id = invite(bob, "eve")
    assert eve.received("call.incoming")[0]["from"] == host.public("bob")
    assert bob.emit("call.cancel", {"call_id": call_id})["ok"] is True
    assert [pair for pair in asked if pair[0] == pair[1]] == []


def test_a_failing_can_see_hides_and_breaks_nothing_else(
    make_host: MakeHost,
    connector_for: Callable[[Host], Connector],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A ``can_see`` hook that raises (the host's directory is down) hides whom it
    was asked about, is logged, and leaves calls and the others' presence alone."""
    down = False

    def can_see(viewer: User, user: User) -> bool:
        if down and user.id == "eve":
            raise LookupError("directory down")
        return True

    host = make_host(can_see=can_see)
    connect = connector_for(host)
    ada, bob, eve = connect("ada"), connect("bob"), connect("eve")
    mark = len(ada.changes())
    down = True

    call_id = invite(eve, "bob")  # Eve's and Bob's status change: Eve's cannot be shown

    assert bob.received("call.incoming")[0]["call_id"] == call_id
    assert ada.statuses()[mark:] == [("bob", "ringing")]
    assert any("can_see" in r.getMessage() for r in caplog.records)
    assert eve.emit("call.cancel", {"call_id": call_id})["ok"] is True

    eve.close()  # a leave tells nothing: it still goes out, so Eve is no ghost

    assert ada.offline() == bob.offline() == ["eve"]
    assert statuses(host) == {"ada": "available", "bob": "available"}


def test_a_failing_can_see_at_connect_hides_and_the_connection_works(
    make_host: MakeHost,
    connector_for: Callable[[Host], Connector],
    caplog: pytest.LogCaptureFixture,
) -> None:
    def can_see(viewer: User, user: User) -> bool:
        if user.id == "eve":
            raise LookupError("directory down")
        return True

    host = make_host(can_see=can_see)
    connect = connector_for(host)
    eve, bob = connect("eve"), connect("bob")

    ada = connect("ada")  # her snapshot asks about Eve and Bob

    assert [u["id"] for u in ada.received("presence.snapshot")[0]["users"]] == ["bob"]
    assert any("can_see" in r.getMessage() for r in caplog.records)
    assert ada.emit("ping", {})["ok"] is True
    # Calling someone the hook cannot decide about: as if offline, not an error.
    refused = ada.emit("call.invite", {"to": "eve"})
    assert refused["error"]["code"] == "ERR_USER_OFFLINE"
    assert eve.received("call.incoming") == []
    assert bob.emit("call.invite", {"to": "ada"})["ok"] is True


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
