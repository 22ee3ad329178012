"""What a call refuses, end to end through ``/videochat`` under both async modes:
signals from outside the call (the relay reaches only the other party's
connection), invites that cannot ring, malformed events and reserved event
names."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import pytest

from flask_videochat import User
from tests.support import (
    CANDIDATE,
    OFFER,
    answered,
    assert_error,
    assert_nothing,
    clear,
    fill,
    invite,
    statuses,
)

#: Every test here runs on both stores: in memory, and on Redis (one process).
pytestmark = pytest.mark.parametrize("host_store", ("memory", "redis"), indirect=True)

if TYPE_CHECKING:
    from tests.harness import Connector, Host, MakeHost


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
    asked.clear()  # presence asked it for each viewer's "callable" while they connected

    assert_error(ada.emit("call.invite", {"to": "bob"}), "ERR_FORBIDDEN")

    assert asked == [(User("ada", "Ada Lovelace"), User("bob", "Bob"))]
    assert_nothing(ada, bob, cy)
    assert statuses(host) == {"ada": "available", "bob": "available", "cy": "available"}
    assert invite(ada, "cy")


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
