"""The host's ``can_see`` hook through ``/videochat`` under both async modes: it
filters the snapshot and the changes, someone hidden is offline to invitations, and
a failing hook hides and breaks nothing else."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import pytest

from tests.support import assert_error, clear, invite, others_of, seen_by, statuses

#: Every test here runs on both stores: in memory, and on Redis (one process).
pytestmark = pytest.mark.parametrize("host_store", ("memory", "redis"), indirect=True)

if TYPE_CHECKING:
    from flask_videochat import User
    from tests.harness import Connector, Host, MakeHost

    Person = Callable[..., dict[str, str]]


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
