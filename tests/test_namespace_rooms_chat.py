"""Chat end to end through ``/videochat`` under both async modes
(``docs/protocol.md``, "Chat"): in a room and in a call, who may write, the text
limits, the history late joiners get, and the host's ``chat_message`` signal."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable

import pytest

from flask_videochat.core.protocol import MAX_CHAT_LENGTH
from tests.support import (
    ROOM_SIGNALS,
    Sent,
    answered,
    assert_error,
    assert_nothing,
    clear,
    join,
    say,
)

#: Every test here runs on both stores: in memory, and on Redis (one process).
pytestmark = pytest.mark.parametrize("host_store", ("memory", "redis"), indirect=True)

if TYPE_CHECKING:
    from tests.harness import Connector, Host, MakeHost


#: What the ``host_signals`` fixture records: room, chat and ``call_ended`` signals.
HOST_SIGNALS = ROOM_SIGNALS


# -- chat ----------------------------------------------------------------------------------


def test_chat_in_a_room(connect: Connector, host: Host, host_signals: Sent) -> None:
    ada, bob, cy = connect("ada"), connect("bob"), connect("cy")
    join(ada)
    join(bob)
    clear(ada, bob, cy)
    host_signals.clear()
    before = int(time.time() * 1000)

    message = say(bob, "<b>hi</b> all", room="standup")

    assert message == {
        "id": message["id"],
        "from": host.public("bob"),
        "text": "<b>hi</b> all",
        "ts": message["ts"],
        "seq": 1,
    }
    assert isinstance(message["id"], str) and message["id"]
    assert before <= message["ts"] <= int(time.time() * 1000)
    relayed = [{"room": "standup", "message": message}]
    assert ada.received("chat.message") == relayed
    assert bob.received("chat.message") == relayed  # the sender's other views stay in sync
    assert cy.received("chat.message") == []
    [(name, kwargs)] = host_signals
    assert name == "chat"
    assert (kwargs["room"], kwargs["call"], kwargs["message"].text) == (
        "standup",
        None,
        "<b>hi</b> all",
    )
    # Outsiders can neither write nor read.
    clear(ada, bob)
    assert_error(cy.emit("chat.send", {"room": "standup", "text": "hello?"}), "ERR_NOT_IN_ROOM")
    assert_nothing(ada, bob, cy)


def test_chat_in_a_call(connect: Connector, host_signals: Sent) -> None:
    ada1, ada2, bob, cy = connect("ada"), connect("ada"), connect("bob"), connect("cy")
    call_id = answered(ada1, bob)
    clear(ada1, ada2, bob, cy)
    host_signals.clear()

    message = say(ada1, "can you hear me?", call_id=call_id)

    relayed = [{"call_id": call_id, "message": message}]
    assert ada1.received("chat.message") == relayed
    assert bob.received("chat.message") == relayed
    assert_nothing(ada2, cy)
    [(name, kwargs)] = host_signals
    assert (name, kwargs["room"], kwargs["call"].id) == ("chat", None, call_id)
    clear(ada1, bob)
    for tab in (ada2, cy):
        payload = {"call_id": call_id, "text": "me too"}
        assert_error(tab.emit("chat.send", payload), "ERR_CALL_NOT_FOUND")
    assert_nothing(ada1, ada2, bob, cy)


def test_no_chat_in_a_call_before_the_answer(connect: Connector) -> None:
    ada, bob = connect("ada"), connect("bob")
    call_id = ada.emit("call.invite", {"to": "bob"})["call_id"]
    clear(ada, bob)

    assert_error(ada.emit("chat.send", {"call_id": call_id, "text": "hi"}), "ERR_INVALID_STATE")
    assert_nothing(ada, bob)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("x" * (MAX_CHAT_LENGTH + 1), "ERR_TOO_LARGE"),
        ("", "ERR_INVALID_PAYLOAD"),
        ("  \n\t ", "ERR_INVALID_PAYLOAD"),
    ],
    ids=["too-long", "empty", "blank"],
)
@pytest.mark.parametrize("where", ["room", "call"])
def test_chat_text_limits(connect: Connector, host: Host, text: str, code: str, where: str) -> None:
    ada, bob = connect("ada"), connect("bob")
    if where == "room":
        join(ada)
        join(bob)
        target: dict[str, str] = {"room": "standup"}
    else:
        target = {"call_id": answered(ada, bob)}
    clear(ada, bob)

    assert_error(ada.emit("chat.send", {**target, "text": text}), code)

    assert_nothing(ada, bob)
    assert say(ada, "x" * MAX_CHAT_LENGTH, **target)["text"] == "x" * MAX_CHAT_LENGTH
    if where == "room":
        assert len(host.rooms.get("standup").history) == 1  # type: ignore[union-attr]


def test_late_joiners_get_the_last_messages(
    make_host: MakeHost, connector_for: Callable[[Host], Connector]
) -> None:
    host = make_host(config={"VIDEOCHAT_CHAT_HISTORY": 3})
    connect = connector_for(host)
    ada, bob = connect("ada"), connect("bob")
    join(ada)
    join(bob)
    sent = [say(tab, f"message {n}", room="standup") for n, tab in enumerate([ada, bob] * 3)]

    history = join(connect("cy"))["history"]

    assert history == sent[-3:]  # oldest first


def test_no_history_when_it_is_off(
    make_host: MakeHost, connector_for: Callable[[Host], Connector]
) -> None:
    host = make_host(config={"VIDEOCHAT_CHAT_HISTORY": 0})
    connect = connector_for(host)
    ada, bob = connect("ada"), connect("bob")
    join(ada)
    say(ada, "hello", room="standup")

    assert join(bob)["history"] == []
    assert bob.received("chat.message") == []
