"""Taking a call back after a server restart (a new host app that knows nothing),
end to end through ``/videochat`` under both async modes (``docs/protocol.md``,
"After a server restart"): claims, pairing, expiry, and ``call.resume`` telling
nothing of people hidden by ``can_see`` or of calls of others."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable

import pytest

from flask_videochat import CallBook
from tests.support import (
    OFFER,
    answered,
    assert_error,
    assert_nothing,
    call_and_room_events,
    clear,
    invite,
    join,
    statuses,
)

#: Every test here runs on both stores: in memory, and on Redis (one process).
pytestmark = pytest.mark.parametrize("host_store", ("memory", "redis"), indirect=True)

if TYPE_CHECKING:
    from flask_videochat import User
    from tests.harness import Connector, ConnectorFor, Host, MakeHost, Tab
    from tests.support import Sent


# -- after a server restart -----------------------------------------------------------------


@pytest.fixture
def restarted(
    make_host: MakeHost, connector_for: ConnectorFor, host_store: str
) -> tuple[str, Host, Connector]:
    """Ada and Bob were in a call on a server that then restarted: the id of that
    call, the new server (a new host app, which knows nothing) and its tab opener.
    On Redis the state would survive a restart of the server: Redis restarts too,
    empty."""
    before = make_host()
    old = connector_for(before)
    call_id = answered(old("ada"), old("bob"))
    if host_store == "redis":
        import redis

        client = redis.Redis.from_url(before.app.config["VIDEOCHAT_STORE_URL"])
        client.flushdb()
        client.close()
    host = make_host()
    return call_id, host, connector_for(host)


@pytest.mark.parametrize("hanger", ["first", "second"])
def test_after_a_restart_both_parties_take_the_call_back(
    restarted: tuple[str, Host, Connector], signals_of: Callable[[Host], Sent], hanger: str
) -> None:
    call_id, host, connect = restarted
    sent = signals_of(host)
    ada, bob, cy = connect("ada"), connect("bob"), connect("cy")
    clear(ada, bob, cy)

    first = ada.emit("call.resume", {"call_id": call_id, "peer": "bob"})

    assert first == {"ok": True, "call_id": call_id, "state": "pending"}
    assert statuses(host)["ada"] == "in_call"
    assert call_and_room_events(bob) == []

    second = bob.emit("call.resume", {"call_id": call_id, "peer": "ada"})

    assert second == {"ok": True, "call_id": call_id, "state": "active", "peer": host.public("ada")}
    assert ada.received("call.resumed") == [{"call_id": call_id, "peer": host.public("bob")}]
    assert call_and_room_events(bob) == []
    assert statuses(host) == {"ada": "in_call", "bob": "in_call", "cy": "available"}
    assert cy.statuses() == [("ada", "in_call"), ("bob", "in_call")]
    assert sent == []  # no call_started nor call_answered again
    # Signals flow between the two connections.
    assert ada.emit("signal", {"call_id": call_id, "description": OFFER}) == {"ok": True}
    assert bob.received("signal") == [{"call_id": call_id, "from": "ada", "description": OFFER}]
    # The claim window passing ends nothing.
    host.sleep(0.2)
    # A hang-up from either side reaches the other.
    hanging, other = (ada, bob) if hanger == "first" else (bob, ada)
    assert hanging.emit("call.hangup", {"call_id": call_id}) == {"ok": True, "call_id": call_id}
    assert other.received("call.ended") == [{"call_id": call_id, "reason": "hangup"}]
    assert [(name, kw["reason"]) for name, kw in sent] == [("ended", "hangup")]
    assert statuses(host) == {"ada": "available", "bob": "available", "cy": "available"}


def test_someone_claiming_a_call_is_busy(restarted: tuple[str, Host, Connector]) -> None:
    call_id, host, connect = restarted
    ada, bob, cy = connect("ada"), connect("bob"), connect("cy")
    ada.emit("call.resume", {"call_id": call_id, "peer": "bob"})
    clear(ada, bob, cy)
    before = statuses(host)

    busy = cy.emit("call.invite", {"to": "ada"})

    assert busy == {"ok": True, "call_id": busy["call_id"], "state": "ended", "reason": "busy"}
    assert_error(ada.emit("call.invite", {"to": "cy"}), "ERR_ALREADY_IN_CALL")
    assert_error(ada.emit("room.join", {"room": "standup"}), "ERR_ALREADY_IN_CALL")
    assert_nothing(ada, bob, cy)
    assert statuses(host) == before == {"ada": "in_call", "bob": "available", "cy": "available"}


def test_a_lone_claim_expires(restarted: tuple[str, Host, Connector]) -> None:
    call_id, host, connect = restarted
    window = 0.3
    host.state.calls = CallBook(claim_window=window)  # the real one is at least 5 s
    ada = connect("ada")
    clear(ada)

    assert ada.emit("call.resume", {"call_id": call_id, "peer": "bob"})["state"] == "pending"
    claimed_at = time.monotonic()

    assert ada.wait_for("call.ended") == {"call_id": call_id, "reason": "peer_disconnected"}
    assert time.monotonic() - claimed_at >= window * 0.9
    assert statuses(host) == {"ada": "available"}
    # Bob, too late, is told at once.
    bob = connect("bob")
    assert_error(bob.emit("call.resume", {"call_id": call_id, "peer": "ada"}), "ERR_CALL_NOT_FOUND")
    assert bob.received("call.ended") == [{"call_id": call_id, "reason": "peer_disconnected"}]


def test_a_claim_dies_with_its_connection(restarted: tuple[str, Host, Connector]) -> None:
    call_id, host, connect = restarted
    ada1, ada2, bob = connect("ada"), connect("ada"), connect("bob")
    ada1.emit("call.resume", {"call_id": call_id, "peer": "bob"})

    ada1.close()

    assert statuses(host)["ada"] == "available"
    assert bob.emit("call.resume", {"call_id": call_id, "peer": "ada"})["state"] == "pending"
    assert ada2.received("call.resumed") == []


def test_a_claim_naming_someone_in_another_call_changes_nothing_of_theirs(
    restarted: tuple[str, Host, Connector],
) -> None:
    """The peer's state does not refuse a claim (that would tell whether they are
    busy, which ``can_see`` may hide), and the claim cannot reach them: it waits for
    the peer's own ``call.resume`` naming the claimant, which Bob, busy, cannot
    make."""
    call_id, host, connect = restarted
    ada, bob, cy = connect("ada"), connect("bob"), connect("cy")
    other = answered(bob, cy)
    clear(ada, bob, cy)
    before = statuses(host)

    pending = ada.emit("call.resume", {"call_id": call_id, "peer": "bob"})
    assert pending == {"ok": True, "call_id": call_id, "state": "pending"}
    # Claiming the live call of others, naming one of its parties, is the same: it is
    # an unknown id to her.
    pending = ada.emit("call.resume", {"call_id": other, "peer": "bob"})
    assert pending == {"ok": True, "call_id": other, "state": "pending"}
    # Bob, in a call, cannot claim a call with Ada (his own state): nothing pairs.
    assert_error(bob.emit("call.resume", {"call_id": other, "peer": "ada"}), "ERR_CALL_NOT_FOUND")

    assert call_and_room_events(ada) == call_and_room_events(bob) == []
    assert call_and_room_events(cy) == []
    assert statuses(host) == {**before, "ada": "in_call"}
    assert host.book.claim_of("bob") is None
    call = host.book.live_call_of("bob")
    assert call is not None and call.id == other and call.has_party("cy")
    assert bob.emit("signal", {"call_id": other, "description": OFFER}) == {"ok": True}
    assert cy.received("signal") == [{"call_id": other, "from": "bob", "description": OFFER}]


def test_the_can_call_hook_may_refuse_a_re_created_call(
    make_host: MakeHost, connector_for: ConnectorFor
) -> None:
    host = make_host(can_call=lambda caller, callee: "eve" not in (caller.id, callee.id))
    connect = connector_for(host)
    ada, eve = connect("ada"), connect("eve")
    assert ada.emit("call.resume", {"call_id": "forged", "peer": "eve"})["state"] == "pending"
    clear(ada, eve)

    assert_error(
        eve.emit("call.resume", {"call_id": "forged", "peer": "ada"}), "ERR_CALL_NOT_FOUND"
    )

    assert_nothing(ada, eve)
    assert len(host.book) == 0


# -- call.resume is not a probe ------------------------------------------------------------

#: The claim window of the hosts comparing resumes, in seconds (the app's is >= 5 s).
WINDOW = 0.3


def normalized(value: Any, call_id: str) -> Any:
    """``value`` with ``call_id`` (in nested dicts, lists and tuples) written
    ``"{call}"``: outcomes of resumes of different ids compare equal."""
    if value == call_id:
        return "{call}"
    if isinstance(value, dict):
        return {k: normalized(v, call_id) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalized(v, call_id) for v in value]
    return value


def resume_outcome(
    host: Host, sender: Tab, watcher: Tab, call_id: str, peer: str
) -> dict[str, Any]:
    """Everything ``sender``'s ``call.resume`` of ``call_id`` naming ``peer`` shows:
    its ack; all that ``sender`` receives until its claim window (:data:`WINDOW`)
    is over; what ``watcher``, who sees ``sender``, hears of them meanwhile; their
    status and claim after. The call id is written ``"{call}"``."""
    me = str(sender.user_id)
    clear(sender, watcher)
    ack = sender.emit("call.resume", {"call_id": call_id, "peer": peer})
    host.sleep(WINDOW)
    if isinstance(ack, dict) and ack.get("state") == "pending":
        sender.wait_for("call.ended")
        deadline = time.monotonic() + 5
        while (me, "available") not in watcher.statuses():
            assert time.monotonic() < deadline, f"{watcher.user_id} never saw {me} available"
            host.sleep(0.01)
    host.sleep(0.1)  # anything else would have come by now
    sender.names()  # pulls what came
    return normalized(
        {
            "ack": ack,
            "received": list(sender.log),
            "watcher": [
                [entry for entry in watcher.statuses() if entry[0] == me],
                [uid for uid in watcher.offline() if uid == me],
                call_and_room_events(watcher),
            ],
            "status": statuses(host).get(me),
            "claiming": host.book.claim_of(me) is not None,
        },
        call_id,
    )


#: Where each scene puts Bob (hidden from Dan) when Dan resumes a call naming him.
HIDDEN_SCENES = (
    "idle",
    "ringing",  # Cy calls him
    "calling",  # he calls Cy
    "in-call",
    "in-room",
    "invited",  # into Cy's room
    "claiming",  # he claims the very call Dan resumes, naming Dan
    "hook-raises",  # in a call; the can_see hook raises for Dan and Bob
)


@pytest.mark.parametrize("scene", HIDDEN_SCENES)
def test_resume_naming_a_hidden_user_answers_as_for_an_offline_one(
    make_host: MakeHost, connector_for: ConnectorFor, scene: str
) -> None:
    """Issue 11: Dan's ``call.resume`` naming Bob, whom ``can_see`` hides from him,
    shows Dan exactly what it shows while Bob is offline, whatever Bob is doing, and
    tells nobody else anything."""

    def can_see(viewer: User, user: User) -> bool:
        if (viewer.id, user.id) != ("dan", "bob"):
            return True
        if scene == "hook-raises":
            raise RuntimeError("the host's hook is broken")
        return False

    host = make_host(config={"VIDEOCHAT_RING_TIMEOUT": 30}, can_see=can_see)
    host.state.calls.claim_window = WINDOW
    connect = connector_for(host)
    dan, ada = connect("dan"), connect("ada")
    offline = resume_outcome(host, dan, ada, "call-before-restart-1", "bob")
    assert offline["ack"] == {"ok": True, "call_id": "{call}", "state": "pending"}

    bob, cy = connect("bob"), connect("cy")
    call_id = "call-before-restart-2"
    if scene == "ringing":
        invite(cy, "bob")
    elif scene == "calling":
        invite(bob, "cy")
    elif scene in ("in-call", "hook-raises"):
        answered(cy, bob)
    elif scene == "in-room":
        join(bob)
    elif scene == "invited":
        join(cy)
        assert cy.emit("room.invite", {"room": "standup", "to": "bob"})["state"] == "ringing"
    elif scene == "claiming":
        pending = bob.emit("call.resume", {"call_id": call_id, "peer": "dan"})
        assert pending["state"] == "pending"
    clear(bob, cy)
    before = statuses(host)

    hidden = resume_outcome(host, dan, ada, call_id, "bob")

    assert hidden == offline
    # Nobody else heard of it, and nothing of theirs changed.
    assert call_and_room_events(cy) == []
    if scene == "claiming":  # Bob's own claim ended by itself: nothing paired
        assert call_and_room_events(bob) == ["call.ended"]
        assert len(host.book) == 0
        del before["bob"]
    else:
        assert call_and_room_events(bob) == []
    after = statuses(host)
    assert {uid: after[uid] for uid in before} == before


@pytest.mark.parametrize("kind", ["ringing", "active", "ended"])
def test_resuming_a_call_of_others_answers_as_for_an_unknown_id(
    make_host: MakeHost, connector_for: ConnectorFor, kind: str
) -> None:
    """Issue 11: Cy's ``call.resume`` of Ada and Bob's call (ringing, active, or
    ended a moment ago), naming Bob, shows Cy exactly what a resume of an id the
    server never made shows, and changes nothing of Ada and Bob's."""
    host = make_host(config={"VIDEOCHAT_RING_TIMEOUT": 30})
    host.state.calls.claim_window = WINDOW
    connect = connector_for(host)
    ada, bob, cy, dan = connect("ada"), connect("bob"), connect("cy"), connect("dan")
    call_id = invite(ada, "bob") if kind == "ringing" else answered(ada, bob)
    if kind == "ended":
        assert bob.emit("call.hangup", {"call_id": call_id})["ok"] is True
    clear(ada, bob, cy, dan)
    before = statuses(host)

    unknown = resume_outcome(host, cy, dan, "call-never-made", "bob")
    real = resume_outcome(host, cy, dan, call_id, "bob")

    assert real == unknown
    assert unknown["ack"] == {"ok": True, "call_id": "{call}", "state": "pending"}
    assert call_and_room_events(ada) == call_and_room_events(bob) == []
    assert statuses(host) == before
    # The call's parties find it as they left it.
    if kind == "ringing":
        assert bob.emit("call.accept", {"call_id": call_id})["ok"] is True
        assert ada.received("call.accepted")
    elif kind == "active":
        assert bob.emit("signal", {"call_id": call_id, "description": OFFER}) == {"ok": True}
        assert ada.received("signal") == [{"call_id": call_id, "from": "bob", "description": OFFER}]
    else:
        # Cy's expired claim did not overwrite what Ada learns of her call's end.
        back = ada.emit("call.resume", {"call_id": call_id, "peer": "bob"})
        assert_error(back, "ERR_CALL_NOT_FOUND")
        assert ada.received("call.ended") == [{"call_id": call_id, "reason": "hangup"}]
