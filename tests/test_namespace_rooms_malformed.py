"""Malformed room, ``call.add`` and chat events through ``/videochat`` under both
async modes: each is refused and changes nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from flask_videochat.core.protocol import MAX_CHAT_LENGTH
from tests.support import (
    CANDIDATE,
    OFFER,
    answered,
    assert_error,
    assert_nothing,
    clear,
    fill,
    join,
    statuses,
)

#: Every test here runs on both stores: in memory, and on Redis (one process).
pytestmark = pytest.mark.parametrize("host_store", ("memory", "redis"), indirect=True)

if TYPE_CHECKING:
    from tests.harness import Connector, Host


# -- malformed events ------------------------------------------------------------------------

#: (event, payloads, error code) for every new event; "{call}" is replaced by the id
#: of Cy and Dan's call. Each would change something if it were well formed.
MALFORMED: dict[str, tuple[str, tuple[Any, ...], str]] = {
    "join-string": ("room.join", ("standup",), "ERR_INVALID_PAYLOAD"),
    "join-no-payload": ("room.join", (), "ERR_INVALID_PAYLOAD"),
    "join-two-payloads": ("room.join", ({"room": "x"}, {"room": "x"}), "ERR_INVALID_PAYLOAD"),
    "join-bad-name": ("room.join", ({"room": "<script>"},), "ERR_INVALID_PAYLOAD"),
    "join-long-name": ("room.join", ({"room": "r" * 65},), "ERR_INVALID_PAYLOAD"),
    "join-unknown-field": ("room.join", ({"room": "x", "capacity": 9},), "ERR_INVALID_PAYLOAD"),
    "join-mic-string": ("room.join", ({"room": "x", "mic": "yes"},), "ERR_INVALID_PAYLOAD"),
    "leave-list": ("room.leave", (["standup"],), "ERR_INVALID_PAYLOAD"),
    "leave-unknown-field": (
        "room.leave",
        ({"room": "standup", "why": "bored"},),
        "ERR_INVALID_PAYLOAD",
    ),
    "signal-neither": ("room.signal", ({"room": "standup", "to": "bob"},), "ERR_INVALID_PAYLOAD"),
    "signal-both": (
        "room.signal",
        ({"room": "standup", "to": "bob", "description": OFFER, "candidate": CANDIDATE},),
        "ERR_INVALID_PAYLOAD",
    ),
    "signal-oversize-sdp": (
        "room.signal",
        ({"room": "standup", "to": "bob", "description": {"type": "offer", "sdp": "a" * 65_537}},),
        "ERR_TOO_LARGE",
    ),
    "signal-unknown-nested-field": (
        "room.signal",
        ({"room": "standup", "to": "bob", "candidate": {**CANDIDATE, "x": 1}},),
        "ERR_INVALID_PAYLOAD",
    ),
    "media-missing-cam": (
        "room.media",
        ({"room": "standup", "mic": False},),
        "ERR_INVALID_PAYLOAD",
    ),
    "media-int": (
        "room.media",
        ({"room": "standup", "mic": 0, "cam": 0},),
        "ERR_INVALID_PAYLOAD",
    ),
    "invite-no-to": ("room.invite", ({"room": "standup"},), "ERR_INVALID_PAYLOAD"),
    "invite-int-to": ("room.invite", ({"room": "standup", "to": 7},), "ERR_INVALID_PAYLOAD"),
    "decline-none": ("room.decline", (None,), "ERR_INVALID_PAYLOAD"),
    "add-no-to": ("call.add", ({"call_id": "{call}"},), "ERR_INVALID_PAYLOAD"),
    "add-unknown-field": (
        "call.add",
        ({"call_id": "{call}", "to": "bob", "room": "standup"},),
        "ERR_INVALID_PAYLOAD",
    ),
    "chat-neither": ("chat.send", ({"text": "hi"},), "ERR_INVALID_PAYLOAD"),
    "chat-both": (
        "chat.send",
        ({"room": "standup", "call_id": "{call}", "text": "hi"},),
        "ERR_INVALID_PAYLOAD",
    ),
    "chat-no-text": ("chat.send", ({"room": "standup"},), "ERR_INVALID_PAYLOAD"),
    "chat-too-long": (
        "chat.send",
        ({"call_id": "{call}", "text": "a" * (MAX_CHAT_LENGTH + 1)},),
        "ERR_TOO_LARGE",
    ),
    "chat-unknown-field": (
        "chat.send",
        ({"room": "standup", "text": "hi", "html": True},),
        "ERR_INVALID_PAYLOAD",
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_events_are_refused_and_change_nothing(
    connect: Connector, host: Host, case: str
) -> None:
    """Ada and Bob are in "standup" (Bob invited by nobody yet); Cy is in a call
    with Dan; Eve is invited into "standup". Malformed, nothing may happen."""
    event, payloads, code = MALFORMED[case]
    ada, bob, cy, dan, eve = (connect(u) for u in ("ada", "bob", "cy", "dan", "eve"))
    join(ada)
    join(bob)
    ada.emit("room.invite", {"room": "standup", "to": "eve"})
    call_id = answered(cy, dan)
    tabs = (ada, bob, cy, dan, eve)
    clear(*tabs)
    before = (statuses(host), host.rooms.get("standup"), host.book.live_call_of("cy"))
    sender = {"call.add": cy, "room.decline": eve}.get(event, ada)
    if event == "chat.send" and "{call}" in repr(payloads):
        sender = cy

    ack = sender.emit(event, *(fill(p, call_id) for p in payloads))

    assert_error(ack, code)
    assert_nothing(*tabs)
    assert (statuses(host), host.rooms.get("standup"), host.book.live_call_of("cy")) == before
    # and the connections still work
    assert ada.emit("room.signal", {"room": "standup", "to": "bob", "description": OFFER}) == {
        "ok": True
    }
    assert cy.emit("signal", {"call_id": call_id, "description": OFFER}) == {"ok": True}
