"""Calls end to end through ``/videochat`` and Flask-SocketIO's test client, under
both async modes: every flow of ``docs/protocol.md`` as the two browsers see it,
the signaling relay, refusals, the host's hooks and signals."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, Callable, Iterator

import pytest

from flask_videochat import CallBook, User, call_answered, call_ended, call_started
from tests.support import (
    answered,
    assert_error,
    assert_nothing,
    clear,
    fill,
    invite,
    recording,
    statuses,
)

#: Every test here runs on both stores: in memory, and on Redis (one process).
pytestmark = pytest.mark.parametrize("host_store", ("memory", "redis"), indirect=True)

if TYPE_CHECKING:
    from conftest import Connector, FakeClock, Host, MakeHost

    Peer = Callable[[str], dict[str, str]]

OFFER = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"}
CANDIDATE = {
    "candidate": "candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
    "usernameFragment": "abcd",
}


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

    bob.close()
    closed_at = time.monotonic()

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


# -- signaling relay ----------------------------------------------------------------


def test_signals_reach_only_the_other_partys_connection(connect: Connector) -> None:
    ada1, ada2 = connect("ada"), connect("ada")
    bob1, bob2 = connect("bob"), connect("bob")
    cy = connect("cy")
    call_id = answered(ada1, bob1)
    clear(ada1, ada2, bob1, bob2, cy)

    assert bob1.emit("signal", {"call_id": call_id, "description": OFFER}) == {"ok": True}
    assert ada1.received("signal") == [{"call_id": call_id, "from": "bob", "description": OFFER}]
    assert_nothing(ada2, bob1, bob2, cy)
    ada1.clear()

    assert ada1.emit("signal", {"call_id": call_id, "candidate": CANDIDATE}) == {"ok": True}
    assert bob1.received("signal") == [{"call_id": call_id, "from": "ada", "candidate": CANDIDATE}]
    assert_nothing(ada1, ada2, bob2, cy)


@pytest.mark.parametrize("intruder", ["stranger", "callee-other-tab", "caller-other-tab"])
def test_only_the_two_connections_in_the_call_can_signal(connect: Connector, intruder: str) -> None:
    ada1, ada2 = connect("ada"), connect("ada")
    bob1, bob2 = connect("bob"), connect("bob")
    cy = connect("cy")
    call_id = answered(ada1, bob1)
    tabs = (ada1, ada2, bob1, bob2, cy)
    clear(*tabs)
    sender = {"stranger": cy, "callee-other-tab": bob2, "caller-other-tab": ada2}[intruder]

    for payload in (
        {"call_id": call_id, "description": OFFER},
        {"call_id": call_id, "candidate": CANDIDATE},
    ):
        assert_error(sender.emit("signal", payload), "ERR_CALL_NOT_FOUND")

    assert_nothing(*tabs)


def test_a_stranger_cannot_answer_or_end_someone_elses_call(connect: Connector, host: Host) -> None:
    ada, bob, cy = connect("ada"), connect("bob"), connect("cy")
    call_id = invite(ada, "bob")
    clear(ada, bob, cy)

    for event in ("call.accept", "call.decline", "call.cancel", "call.hangup"):
        assert_error(cy.emit(event, {"call_id": call_id}), "ERR_CALL_NOT_FOUND")

    assert_nothing(ada, bob, cy)
    assert statuses(host) == {"ada": "ringing", "bob": "ringing", "cy": "available"}


def test_no_signals_before_the_answer(connect: Connector) -> None:
    ada, bob = connect("ada"), connect("bob")
    call_id = invite(ada, "bob")
    clear(ada, bob)

    assert_error(
        ada.emit("signal", {"call_id": call_id, "description": OFFER}), "ERR_INVALID_STATE"
    )
    assert_nothing(ada, bob)


# -- refused invites -----------------------------------------------------------------


@pytest.mark.parametrize("to", ["bob", "nobody"], ids=["signed-out", "unknown"])
def test_calling_someone_offline(connect: Connector, host: Host, to: str) -> None:
    ada, cy = connect("ada"), connect("cy")
    connect("bob").close()
    clear(ada, cy)

    assert_error(ada.emit("call.invite", {"to": to}), "ERR_USER_OFFLINE")
    assert_nothing(ada, cy)
    assert len(host.book) == 0


def test_calling_yourself(connect: Connector, host: Host) -> None:
    ada1, ada2 = connect("ada"), connect("ada")
    clear(ada1, ada2)

    assert_error(ada1.emit("call.invite", {"to": "ada"}), "ERR_SELF_CALL")
    assert_nothing(ada1, ada2)
    assert len(host.book) == 0


def test_one_call_at_a_time(connect: Connector) -> None:
    ada, bob, cy = connect("ada"), connect("bob"), connect("cy")
    invite(ada, "bob")
    clear(ada, bob, cy)

    assert_error(ada.emit("call.invite", {"to": "cy"}), "ERR_ALREADY_IN_CALL")
    assert_error(bob.emit("call.invite", {"to": "cy"}), "ERR_ALREADY_IN_CALL")
    assert_nothing(ada, bob, cy)


def test_can_call_hook_refusal(
    make_host: MakeHost, connector_for: Callable[[Host], Connector]
) -> None:
    asked: list[tuple[User, User]] = []

    def can_call(caller: User, callee: User) -> bool:
        asked.append((caller, callee))
        return callee.id != "bob"

    host = make_host(can_call=can_call)
    connect = connector_for(host)
    ada, bob, cy = connect("ada"), connect("bob"), connect("cy")
    clear(ada, bob, cy)

    assert_error(ada.emit("call.invite", {"to": "bob"}), "ERR_FORBIDDEN")

    assert asked == [(User("ada", "Ada Lovelace"), User("bob", "Bob"))]
    assert_nothing(ada, bob, cy)
    assert statuses(host) == {"ada": "available", "bob": "available", "cy": "available"}
    assert invite(ada, "cy")


# -- signals for the host --------------------------------------------------------------


@pytest.fixture
def host_signals(host: Host) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every blinker signal the host app sends, in order, as ``(name, kwargs)``."""
    signals = {"started": call_started, "answered": call_answered, "ended": call_ended}
    with recording(host, signals) as sent:
        yield sent


def test_signals_for_an_answered_call(
    connect: Connector,
    host: Host,
    host_signals: list[tuple[str, dict[str, Any]]],
    clock: FakeClock,
) -> None:
    host.state.calls = CallBook(clock=clock)
    ada, bob = connect("ada"), connect("bob")

    call_id = invite(ada, "bob")
    clock.advance(3)
    bob.emit("call.accept", {"call_id": call_id})
    clock.advance(42.5)
    bob.emit("call.hangup", {"call_id": call_id})

    assert [name for name, _ in host_signals] == ["started", "answered", "ended"]
    calls = {kwargs["call"].id for _, kwargs in host_signals}
    assert calls == {call_id}
    call = host_signals[0][1]["call"]
    assert (call.caller_id, call.callee_id) == ("ada", "bob")
    ended = host_signals[2][1]
    assert ended["reason"] == "hangup"
    assert ended["duration"] == 42.5
    assert isinstance(ended["duration"], float)


@pytest.mark.parametrize("ending", ["declined", "cancelled", "busy"])
def test_signals_for_a_call_never_answered(
    connect: Connector, host: Host, host_signals: list[tuple[str, dict[str, Any]]], ending: str
) -> None:
    ada, bob = connect("ada"), connect("bob")
    connect("cy")
    if ending == "busy":
        invite(bob, "cy")
        host_signals.clear()
        ada.emit("call.invite", {"to": "bob"})
    else:
        call_id = invite(ada, "bob")
        if ending == "declined":
            bob.emit("call.decline", {"call_id": call_id})
        else:
            ada.emit("call.cancel", {"call_id": call_id})

    assert [name for name, _ in host_signals] == ["started", "ended"]
    assert host_signals[1][1]["reason"] == ending
    assert host_signals[1][1]["duration"] == 0.0
    assert isinstance(host_signals[1][1]["duration"], float)


def test_signal_for_no_answer(
    connect: Connector, host: Host, host_signals: list[tuple[str, dict[str, Any]]]
) -> None:
    ada = connect("ada")
    connect("bob")
    invite(ada, "bob")

    ada.wait_for("call.ended")
    # The timer tells the host after the browsers (under threading, from its thread).
    deadline = time.monotonic() + 1.0
    while len(host_signals) < 2 and time.monotonic() < deadline:
        host.sleep(0.01)

    assert [(name, kw.get("reason")) for name, kw in host_signals] == [
        ("started", None),
        ("ended", "no_answer"),
    ]


# -- malformed events ------------------------------------------------------------------

#: (event, payloads, error code); "{call}" is replaced by the id of Cy and Dan's call.
MALFORMED: dict[str, tuple[str, tuple[Any, ...], str]] = {
    "invite-string": ("call.invite", ("bob",), "ERR_INVALID_PAYLOAD"),
    "invite-list": ("call.invite", (["bob"],), "ERR_INVALID_PAYLOAD"),
    "invite-list-of-object": ("call.invite", ([{"to": "bob"}],), "ERR_INVALID_PAYLOAD"),
    "invite-none": ("call.invite", (None,), "ERR_INVALID_PAYLOAD"),
    "invite-no-payload": ("call.invite", (), "ERR_INVALID_PAYLOAD"),
    "invite-two-payloads": ("call.invite", ({"to": "bob"}, {"to": "bob"}), "ERR_INVALID_PAYLOAD"),
    "invite-unknown-field": ("call.invite", ({"to": "bob", "video": True},), "ERR_INVALID_PAYLOAD"),
    "invite-int-id": ("call.invite", ({"to": 2},), "ERR_INVALID_PAYLOAD"),
    "invite-empty-id": ("call.invite", ({"to": ""},), "ERR_INVALID_PAYLOAD"),
    "unknown-event": ("call.ring", ({"to": "bob"},), "ERR_UNKNOWN_EVENT"),
    "unknown-event-handler-name": ("call_invite", ({"to": "bob"},), "ERR_UNKNOWN_EVENT"),
    "hangup-list": ("call.hangup", (["{call}"],), "ERR_INVALID_PAYLOAD"),
    "hangup-none": ("call.hangup", (None,), "ERR_INVALID_PAYLOAD"),
    "hangup-no-payload": ("call.hangup", (), "ERR_INVALID_PAYLOAD"),
    "hangup-unknown-field": (
        "call.hangup",
        ({"call_id": "{call}", "why": "x"},),
        "ERR_INVALID_PAYLOAD",
    ),
    "signal-oversize-sdp": (
        "signal",
        ({"call_id": "{call}", "description": {"type": "offer", "sdp": "a" * 65_537}},),
        "ERR_TOO_LARGE",
    ),
    "signal-oversize-candidate": (
        "signal",
        ({"call_id": "{call}", "candidate": {"candidate": "a" * 2_049}},),
        "ERR_TOO_LARGE",
    ),
    "signal-unknown-field": (
        "signal",
        ({"call_id": "{call}", "description": OFFER, "to": "dan"},),
        "ERR_INVALID_PAYLOAD",
    ),
    "signal-unknown-nested-field": (
        "signal",
        ({"call_id": "{call}", "candidate": {**CANDIDATE, "relay": "x"}},),
        "ERR_INVALID_PAYLOAD",
    ),
    "signal-both": (
        "signal",
        ({"call_id": "{call}", "description": OFFER, "candidate": CANDIDATE},),
        "ERR_INVALID_PAYLOAD",
    ),
    "signal-two-payloads": (
        "signal",
        ({"call_id": "{call}", "description": OFFER}, {"call_id": "{call}", "description": OFFER}),
        "ERR_INVALID_PAYLOAD",
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_events_are_refused_and_change_nothing(
    connect: Connector, host: Host, case: str
) -> None:
    """Ada (idle) would ring Bob with a valid invite; Cy (in a call with Dan) would
    hang up or signal with a valid one. Malformed, nothing may happen."""
    event, payloads, code = MALFORMED[case]
    ada, bob, cy, dan = connect("ada"), connect("bob"), connect("cy"), connect("dan")
    call_id = answered(cy, dan)
    tabs = (ada, bob, cy, dan)
    clear(*tabs)
    before = statuses(host)
    sender = ada if event.startswith("call_") or event in ("call.invite", "call.ring") else cy

    ack = sender.emit(event, *(fill(p, call_id) for p in payloads))

    assert_error(ack, code)
    assert_nothing(*tabs)
    assert statuses(host) == before
    assert len(host.book) == 1
    assert host.book.live_call_of("cy").id == call_id  # type: ignore[union-attr]
    # and the connection still works
    assert cy.emit("signal", {"call_id": call_id, "description": OFFER}) == {"ok": True}


@pytest.mark.parametrize("event", ["disconnect", "connect"])
def test_reserved_event_names_sent_by_a_client_are_unknown_events(
    connect: Connector, host: Host, event: str
) -> None:
    """A client that sends an event named like a lifecycle event must not run the
    server's connect or disconnect handler (Socket.IO clients refuse to send these
    names; a crafted client can)."""
    ada, bob, cy, dan = connect("ada"), connect("bob"), connect("cy"), connect("dan")
    call_id = answered(cy, dan)
    tabs = (ada, bob, cy, dan)
    clear(*tabs)
    before = statuses(host)

    ack = cy.emit(event, {})

    assert_error(ack, "ERR_UNKNOWN_EVENT")
    assert_nothing(*tabs)
    assert statuses(host) == before
    assert cy.emit("signal", {"call_id": call_id, "description": OFFER}) == {"ok": True}


# -- server errors ------------------------------------------------------------------


def test_a_failing_hook_gets_err_internal_and_the_server_keeps_working(
    make_host: MakeHost,
    connector_for: Callable[[Host], Connector],
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = True

    def can_call(caller: User, callee: User) -> bool:
        if broken:
            raise RuntimeError("policy service down")
        return True

    host = make_host(can_call=can_call)
    connect = connector_for(host)
    ada, bob = connect("ada"), connect("bob")
    clear(ada, bob)

    with caplog.at_level(logging.ERROR, logger="flask_videochat"):
        ack = ada.emit("call.invite", {"to": "bob"})

    assert_error(ack, "ERR_INTERNAL")
    assert "policy service down" not in ack["error"]["message"]  # no internals leak
    assert any(r.exc_info and "policy service down" in str(r.exc_info[1]) for r in caplog.records)
    assert_nothing(ada, bob)
    assert statuses(host) == {"ada": "available", "bob": "available"}
    assert len(host.book) == 0

    broken = False
    call_id = invite(ada, "bob")
    assert bob.received("call.incoming")[0]["call_id"] == call_id
    assert bob.emit("call.accept", {"call_id": call_id})["ok"] is True
    assert connect("cy").received("presence.snapshot")


def test_a_failing_call_started_receiver_leaves_no_phantom_call(
    connect: Connector, host: Host
) -> None:
    """A host's signal receiver that raises must not leave Ada and Bob stuck in a
    call that never rang: either the call rings, or nothing was booked and they can
    call again."""

    def explode(sender: Any, **kwargs: Any) -> None:
        raise RuntimeError("receiver bug")

    ada, bob = connect("ada"), connect("bob")
    clear(ada, bob)

    with call_started.connected_to(explode, sender=host.app):
        ack = ada.emit("call.invite", {"to": "bob"})

    if ack["ok"]:
        assert bob.received("call.incoming"), "the invite succeeded but Bob's tab never rang"
    else:
        assert_error(ack, "ERR_INTERNAL")
        assert len(host.book) == 0, "a call was booked but never rang"
        assert invite(ada, "bob")
