"""The host app's side of calls through ``/videochat`` under both async modes: the
blinker signals it gets, and its hooks or receivers failing (``ERR_INTERNAL``, the
server keeps working)."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, Callable

import pytest

from flask_videochat import CallBook, User, call_answered, call_ended, call_started
from tests.support import assert_error, assert_nothing, clear, invite, statuses

#: Every test here runs on both stores: in memory, and on Redis (one process).
pytestmark = pytest.mark.parametrize("host_store", ("memory", "redis"), indirect=True)

if TYPE_CHECKING:
    from tests.harness import Connector, FakeClock, Host, MakeHost


# -- signals for the host --------------------------------------------------------------


#: What the ``host_signals`` fixture records: every blinker signal of a call.
HOST_SIGNALS = {"started": call_started, "answered": call_answered, "ended": call_ended}


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
