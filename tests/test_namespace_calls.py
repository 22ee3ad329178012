"""Calls end to end through ``/videochat`` and Flask-SocketIO's test client, under
both async modes: every flow of ``docs/protocol.md`` as the two browsers see it
(ringing, answering, declining, cancelling, busy, no answer, hanging up) and
connections closing. Refusals: ``test_namespace_calls_refusals.py``; the host's
signals and failing hooks: ``test_namespace_calls_host.py``."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable

import pytest

from flask_videochat import call_ended
from tests.support import (
    CANDIDATE,
    OFFER,
    answered,
    assert_error,
    assert_nothing,
    clear,
    invite,
    recording,
    statuses,
)

#: Every test here runs on both stores: in memory, and on Redis (one process).
pytestmark = pytest.mark.parametrize("host_store", ("memory", "redis"), indirect=True)

if TYPE_CHECKING:
    from tests.harness import Connector, Host, MakeHost

    Peer = Callable[[str], dict[str, str]]


# -- accept ------------------------------------------------------------------------


def test_incoming_call_rings_every_tab_of_the_callee(connect: Connector, peer: Peer) -> None:
    ada, bob1, bob2, cy = connect("ada"), connect("bob"), connect("bob"), connect("cy")
    clear(ada, bob1, bob2, cy)

    call_id = invite(ada, "bob")

    incoming = {"call_id": call_id, "from": peer("ada"), "ring_timeout": 1}
    assert bob1.received("call.incoming") == [incoming]
    assert bob2.received("call.incoming") == [incoming]
    assert ada.received("call.incoming") == []
    assert cy.received("call.incoming") == []


def test_a_tab_opened_while_a_call_rings_rings_too(connect: Connector, peer: Peer) -> None:
    # Bob's tab reconnects (or he opens another) while Ada's call rings: it rings
    # there too, and can answer; Ada's other connections and Cy hear nothing.
    ada, bob1, cy = connect("ada"), connect("bob"), connect("cy")
    call_id = invite(ada, "bob")
    ada2 = connect("ada")

    bob2 = connect("bob")

    incoming = {"call_id": call_id, "from": peer("ada"), "ring_timeout": 1}
    assert bob2.received("call.incoming") == [incoming]
    assert ada2.received("call.incoming") == []
    assert cy.received("call.incoming") == []
    assert bob2.emit("call.accept", {"call_id": call_id})["ok"] is True
    assert bob1.received("call.ended")[-1]["reason"] == "answered_elsewhere"


def test_ping_is_answered_and_checked(connect: Connector) -> None:
    ada, bob = connect("ada"), connect("bob")
    clear(ada, bob)
    assert ada.emit("ping", {}) == {"ok": True}
    assert_error(ada.emit("ping", {"x": 1}), "ERR_INVALID_PAYLOAD")
    assert_nothing(bob)


def test_accept(connect: Connector, host: Host, peer: Peer) -> None:
    ada, bob = connect("ada"), connect("bob")
    call_id = invite(ada, "bob")
    clear(ada, bob)

    ack = bob.emit("call.accept", {"call_id": call_id})

    # The callee is the polite peer, the caller the impolite one.
    assert ack == {"ok": True, "call_id": call_id, "peer": peer("ada"), "polite": True}
    assert ada.received("call.accepted") == [
        {"call_id": call_id, "peer": peer("bob"), "polite": False}
    ]
    assert bob.received("call.accepted") == []
    assert ada.received("call.ended") == bob.received("call.ended") == []
    assert statuses(host) == {"ada": "in_call", "bob": "in_call"}


def test_first_tab_to_accept_wins(connect: Connector) -> None:
    ada, bob1, bob2 = connect("ada"), connect("bob"), connect("bob")
    call_id = invite(ada, "bob")
    assert bob1.received("call.incoming") and bob2.received("call.incoming")
    clear(ada, bob1, bob2)

    assert bob1.emit("call.accept", {"call_id": call_id})["ok"] is True

    assert bob2.received("call.ended") == [{"call_id": call_id, "reason": "answered_elsewhere"}]
    assert bob1.received("call.ended") == []
    assert ada.received("call.ended") == []
    assert len(ada.received("call.accepted")) == 1
    clear(ada, bob1, bob2)

    # The losing tab can neither answer nor end the call, and the call goes on.
    assert_error(bob2.emit("call.accept", {"call_id": call_id}), "ERR_INVALID_STATE")
    assert_error(bob2.emit("call.decline", {"call_id": call_id}), "ERR_INVALID_STATE")
    assert_error(bob2.emit("call.hangup", {"call_id": call_id}), "ERR_CALL_NOT_FOUND")
    assert_nothing(ada, bob1, bob2)
    assert bob1.emit("signal", {"call_id": call_id, "description": OFFER}) == {"ok": True}
    assert ada.received("signal")


# -- decline, cancel, busy, no answer, hangup ----------------------------------------------


def test_decline(connect: Connector, host: Host) -> None:
    ada, bob1, bob2, cy = connect("ada"), connect("bob"), connect("bob"), connect("cy")
    call_id = invite(ada, "bob")
    clear(ada, bob1, bob2, cy)

    assert bob2.emit("call.decline", {"call_id": call_id}) == {"ok": True, "call_id": call_id}

    ended = [{"call_id": call_id, "reason": "declined"}]
    assert ada.received("call.ended") == ended
    assert bob1.received("call.ended") == ended  # every tab stops ringing
    assert bob2.received("call.ended") == ended
    assert cy.received("call.ended") == []
    assert statuses(host) == {"ada": "available", "bob": "available", "cy": "available"}
    assert invite(ada, "bob") != call_id  # they can call again


def test_cancel(connect: Connector, host: Host) -> None:
    ada, bob1, bob2 = connect("ada"), connect("bob"), connect("bob")
    call_id = invite(ada, "bob")
    clear(ada, bob1, bob2)

    assert ada.emit("call.cancel", {"call_id": call_id}) == {"ok": True, "call_id": call_id}

    ended = [{"call_id": call_id, "reason": "cancelled"}]
    assert bob1.received("call.ended") == ended
    assert bob2.received("call.ended") == ended
    assert ada.received("call.ended") == ended
    assert statuses(host) == {"ada": "available", "bob": "available"}


def test_only_the_caller_cancels_and_only_the_callee_declines(connect: Connector) -> None:
    ada, bob = connect("ada"), connect("bob")
    call_id = invite(ada, "bob")
    clear(ada, bob)

    assert_error(bob.emit("call.cancel", {"call_id": call_id}), "ERR_CALL_NOT_FOUND")
    assert_error(ada.emit("call.decline", {"call_id": call_id}), "ERR_CALL_NOT_FOUND")
    assert_error(ada.emit("call.accept", {"call_id": call_id}), "ERR_CALL_NOT_FOUND")
    assert_nothing(ada, bob)
    assert bob.emit("call.accept", {"call_id": call_id})["ok"] is True


@pytest.mark.parametrize("callee_state", ["ringing", "in_call"])
def test_busy(connect: Connector, host: Host, callee_state: str) -> None:
    ada, bob, cy = connect("ada"), connect("bob"), connect("cy")
    call_id = invite(bob, "cy")
    if callee_state == "in_call":
        cy.emit("call.accept", {"call_id": call_id})
    clear(ada, bob, cy)

    ack = ada.emit("call.invite", {"to": "bob"})

    assert ack == {"ok": True, "call_id": ack["call_id"], "state": "ended", "reason": "busy"}
    assert ack["call_id"] != call_id
    assert_nothing(ada, bob, cy)  # nobody rings, nobody's status moves
    assert statuses(host) == {"ada": "available", "bob": callee_state, "cy": callee_state}
    # Bob's own call is undisturbed.
    if callee_state == "in_call":
        assert bob.emit("signal", {"call_id": call_id, "description": OFFER}) == {"ok": True}
        assert cy.received("signal")
    else:
        assert cy.emit("call.accept", {"call_id": call_id})["ok"] is True
        assert bob.received("call.accepted")


def test_no_answer(connect: Connector, host: Host) -> None:
    ada, bob1, bob2 = connect("ada"), connect("bob"), connect("bob")
    call_id = invite(ada, "bob")
    rang_at = time.monotonic()
    host.sleep(0.2)
    assert ada.received("call.ended") == []  # still ringing

    ended = {"call_id": call_id, "reason": "no_answer"}
    assert ada.wait_for("call.ended") == ended
    assert time.monotonic() - rang_at >= 0.9  # the 1 s ring timeout, not at once
    assert bob1.wait_for("call.ended") == ended
    assert bob2.wait_for("call.ended") == ended
    # The timer frees them just after telling them (under threading, from its thread).
    deadline = time.monotonic() + 1.0
    while statuses(host) != {"ada": "available", "bob": "available"}:
        assert time.monotonic() < deadline, statuses(host)
        host.sleep(0.01)
    assert_error(bob1.emit("call.accept", {"call_id": call_id}), "ERR_CALL_NOT_FOUND")


def test_the_ring_timeout_does_not_end_an_answered_call(connect: Connector, host: Host) -> None:
    ada, bob = connect("ada"), connect("bob")
    call_id = answered(ada, bob)
    clear(ada, bob)

    host.sleep(1.3)  # past the 1 s ring timeout

    assert ada.received("call.ended") == bob.received("call.ended") == []
    assert statuses(host) == {"ada": "in_call", "bob": "in_call"}
    assert ada.emit("signal", {"call_id": call_id, "candidate": CANDIDATE}) == {"ok": True}


@pytest.mark.parametrize("who", ["caller", "callee"])
def test_hang_up(connect: Connector, host: Host, who: str) -> None:
    ada, bob, cy = connect("ada"), connect("bob"), connect("cy")
    call_id = answered(ada, bob)
    clear(ada, bob, cy)

    hanger = ada if who == "caller" else bob
    assert hanger.emit("call.hangup", {"call_id": call_id}) == {"ok": True, "call_id": call_id}

    ended = [{"call_id": call_id, "reason": "hangup"}]
    assert ada.received("call.ended") == ended
    assert bob.received("call.ended") == ended
    assert cy.received("call.ended") == []
    assert statuses(host) == {"ada": "available", "bob": "available", "cy": "available"}
    assert_error(
        bob.emit("signal", {"call_id": call_id, "description": OFFER}), "ERR_CALL_NOT_FOUND"
    )


@pytest.mark.parametrize("who", ["caller", "callee"])
def test_a_call_whose_browsers_could_not_connect_ends_with_that_reason(
    connect: Connector, host: Host, who: str
) -> None:
    """A widget that gave up connecting hangs up with ``reason: connect_failed``:
    both parties and the host's ``call_ended`` receiver get that reason."""
    ada, bob = connect("ada"), connect("bob")
    call_id = answered(ada, bob)
    clear(ada, bob)
    hanger = ada if who == "caller" else bob

    with recording(host, {"ended": call_ended}) as sent:
        ack = hanger.emit("call.hangup", {"call_id": call_id, "reason": "connect_failed"})

    assert ack == {"ok": True, "call_id": call_id}
    ended = [{"call_id": call_id, "reason": "connect_failed"}]
    assert ada.received("call.ended") == ended
    assert bob.received("call.ended") == ended
    assert [(name, kwargs["reason"]) for name, kwargs in sent] == [("ended", "connect_failed")]
    assert statuses(host)["ada"] == statuses(host)["bob"] == "available"


@pytest.mark.parametrize("reason", ["hangup", "failed", "", 1, True, ["connect_failed"]])
def test_a_hang_up_with_another_reason_is_refused(
    connect: Connector, host: Host, reason: Any
) -> None:
    ada, bob = connect("ada"), connect("bob")
    call_id = answered(ada, bob)
    clear(ada, bob)
    ack = ada.emit("call.hangup", {"call_id": call_id, "reason": reason})
    assert_error(ack, "ERR_INVALID_PAYLOAD")
    assert ada.received("call.ended") == bob.received("call.ended") == []
    assert statuses(host)["ada"] == "in_call"


@pytest.mark.parametrize("who", ["caller", "callee"])
def test_hanging_up_a_ringing_call(connect: Connector, who: str) -> None:
    ada, bob = connect("ada"), connect("bob")
    call_id = invite(ada, "bob")
    clear(ada, bob)

    (ada if who == "caller" else bob).emit("call.hangup", {"call_id": call_id})

    reason = "cancelled" if who == "caller" else "declined"
    assert ada.received("call.ended") == [{"call_id": call_id, "reason": reason}]
    assert bob.received("call.ended") == [{"call_id": call_id, "reason": reason}]


# -- disconnects ---------------------------------------------------------------------


@pytest.mark.parametrize("who", ["caller", "callee"])
def test_a_party_disconnecting_mid_call_ends_it(connect: Connector, host: Host, who: str) -> None:
    ada, bob = connect("ada"), connect("bob")
    call_id = answered(ada, bob)
    clear(ada, bob)
    gone, stays = (ada, bob) if who == "caller" else (bob, ada)

    gone.close()

    assert stays.received("call.ended") == [{"call_id": call_id, "reason": "peer_disconnected"}]
    assert stays.offline() == [gone.user_id]
    assert statuses(host) == {stays.user_id: "available"}
    assert len(host.book) == 0


def test_the_caller_disconnecting_stops_the_ringing(connect: Connector) -> None:
    ada, bob1, bob2 = connect("ada"), connect("bob"), connect("bob")
    call_id = invite(ada, "bob")
    clear(bob1, bob2)

    ada.close()

    for tab in (bob1, bob2):
        assert tab.received("call.ended") == [{"call_id": call_id, "reason": "peer_disconnected"}]


def test_the_callee_closing_their_last_ringing_tab_ends_the_call(connect: Connector) -> None:
    ada, bob1, bob2 = connect("ada"), connect("bob"), connect("bob")
    call_id = invite(ada, "bob")
    clear(ada)

    bob1.close()
    assert ada.received("call.ended") == []  # Bob can still answer on his other tab

    bob2.close()
    assert ada.received("call.ended") == [{"call_id": call_id, "reason": "peer_disconnected"}]


def test_the_callees_other_tab_closing_does_not_end_the_call(connect: Connector) -> None:
    ada, bob1, bob2 = connect("ada"), connect("bob"), connect("bob")
    call_id = answered(ada, bob1)
    clear(ada, bob1)

    bob2.close()

    assert_nothing(ada, bob1)
    assert ada.emit("signal", {"call_id": call_id, "description": OFFER}) == {"ok": True}


def test_with_a_reconnect_grace_the_call_ends_only_after_it(
    make_host: MakeHost, connector_for: Callable[[Host], Connector]
) -> None:
    grace = 0.4
    host = make_host(config={"VIDEOCHAT_RECONNECT_GRACE": grace})
    connect = connector_for(host)
    ada, bob = connect("ada"), connect("bob")
    call_id = answered(ada, bob)
    clear(ada, bob)

    closed_at = time.monotonic()  # (the grace starts inside close())
    bob.close()

    assert ada.offline() == ["bob"]
    assert ada.received("call.ended") == []
    host.sleep(grace / 4)
    assert ada.received("call.ended") == []
    assert ada.wait_for("call.ended") == {"call_id": call_id, "reason": "peer_disconnected"}
    assert time.monotonic() - closed_at >= grace * 0.9
    assert host.state.calls.live_call_of("ada") is None
    # The grace timer publishes the statuses right after telling the parties (on
    # its own thread under threading, after a Redis round trip with that store).
    deadline = time.monotonic() + 5
    while not ada.statuses() and time.monotonic() < deadline:
        host.sleep(0.01)
    assert ada.statuses() == [("ada", "available")]
