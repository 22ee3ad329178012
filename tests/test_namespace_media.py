"""Media state end to end through ``/videochat`` under both async modes
(``docs/protocol.md``, "Media state"): ``call.media`` and ``room.media`` with
``screen`` and revisions, who may send them; and malformed media and resume events,
refused without changing anything."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.support import (
    OFFER,
    answered,
    assert_error,
    assert_nothing,
    clear,
    fill,
    join,
    member,
    statuses,
)

#: Every test here runs on both stores: in memory, and on Redis (one process).
pytestmark = pytest.mark.parametrize("host_store", ("memory", "redis"), indirect=True)

if TYPE_CHECKING:
    from tests.harness import Connector, Host


# -- media state ----------------------------------------------------------------------


def test_call_media_reaches_only_the_other_partys_connection(connect: Connector) -> None:
    ada1, ada2, bob1, bob2, cy = (connect(u) for u in ("ada", "ada", "bob", "bob", "cy"))
    call_id = answered(ada1, bob1)
    clear(ada1, ada2, bob1, bob2, cy)

    ack = bob1.emit("call.media", {"call_id": call_id, "mic": False, "cam": True, "screen": True})

    assert ack == {"ok": True}
    assert ada1.received("call.media") == [
        {"call_id": call_id, "from": "bob", "mic": False, "cam": True, "screen": True}
    ]
    assert_nothing(ada2, bob1, bob2, cy)
    ada1.clear()

    assert ada1.emit("call.media", {"call_id": call_id, "mic": True, "cam": False}) == {"ok": True}

    assert bob1.received("call.media") == [
        {"call_id": call_id, "from": "ada", "mic": True, "cam": False, "screen": False}
    ]
    assert_nothing(ada1, ada2, bob2, cy)


@pytest.mark.parametrize(
    ("sender", "code"),
    [
        ("cy", "ERR_CALL_NOT_FOUND"),
        ("bob2", "ERR_CALL_NOT_FOUND"),
        ("ringing", "ERR_INVALID_STATE"),
    ],
    ids=["stranger", "callee-other-tab", "ringing"],
)
def test_call_media_from_outside_the_call_is_refused(
    connect: Connector, sender: str, code: str
) -> None:
    ada, bob, bob2, cy = connect("ada"), connect("bob"), connect("bob"), connect("cy")
    if sender == "ringing":
        call_id = ada.emit("call.invite", {"to": "bob"})["call_id"]
    else:
        call_id = answered(ada, bob)
    tabs = {"ada": ada, "bob": bob, "bob2": bob2, "cy": cy, "ringing": ada}
    clear(ada, bob, bob2, cy)

    ack = tabs[sender].emit("call.media", {"call_id": call_id, "mic": False, "cam": False})

    assert_error(ack, code)
    assert_nothing(ada, bob, bob2, cy)


def test_screen_sharing_in_a_room_reaches_the_others_and_late_joiners(
    connect: Connector, host: Host
) -> None:
    ada, bob, cy = connect("ada"), connect("bob"), connect("cy")
    join(ada)
    join(bob)
    clear(ada, bob, cy)

    ack = bob.emit("room.media", {"room": "standup", "mic": True, "cam": False, "screen": True})

    assert ack == {"ok": True}
    assert ada.received("room.media") == [
        {"room": "standup", "id": "bob", "mic": True, "cam": False, "screen": True, "rev": 1}
    ]
    assert bob.received("room.media") == cy.received("room.media") == []
    assert join(cy)["members"] == [
        {**member(host, "ada"), "polite": True},
        {**member(host, "bob", cam=False, screen=True), "polite": True},
    ]


def test_media_states_carry_their_revision_and_an_older_one_loses(
    connect: Connector, host: Host
) -> None:
    """The widget numbers its media states (``rev``): a call relays the number for
    the other side to compare; a room keeps the newest and relays that."""
    ada, bob, cy = connect("ada"), connect("bob"), connect("cy")
    call_id = answered(ada, bob)
    clear(ada, bob)
    media = {"call_id": call_id, "mic": False, "cam": True, "rev": 41}
    assert bob.emit("call.media", media) == {"ok": True}
    assert ada.received("call.media") == [
        {"call_id": call_id, "from": "bob", "mic": False, "cam": True, "screen": False, "rev": 41}
    ]
    for bad in (-1, 2**53, 1.5, "2", True):
        assert_error(bob.emit("call.media", {**media, "rev": bad}), "ERR_INVALID_PAYLOAD")
    bob.emit("call.hangup", {"call_id": call_id})

    join(bob)
    join(cy)
    clear(bob, cy)
    ok = {"ok": True}
    assert bob.emit("room.media", {"room": "standup", "mic": False, "cam": False, "rev": 9}) == ok
    assert bob.emit("room.media", {"room": "standup", "mic": True, "cam": True, "rev": 8}) == ok
    newest = {"room": "standup", "id": "bob", "mic": False, "cam": False, "screen": False, "rev": 9}
    assert cy.received("room.media") == [newest, newest]


# -- malformed events ------------------------------------------------------------------

#: (event, payload, error code); "{call}" is replaced by the id of Cy and Dan's call.
MALFORMED: dict[str, tuple[str, Any, str]] = {
    "media-no-cam": ("call.media", {"call_id": "{call}", "mic": False}, "ERR_INVALID_PAYLOAD"),
    "media-int-mic": (
        "call.media",
        {"call_id": "{call}", "mic": 0, "cam": 1},
        "ERR_INVALID_PAYLOAD",
    ),
    "media-string-screen": (
        "call.media",
        {"call_id": "{call}", "mic": True, "cam": True, "screen": "yes"},
        "ERR_INVALID_PAYLOAD",
    ),
    "media-unknown-field": (
        "call.media",
        {"call_id": "{call}", "mic": True, "cam": True, "to": "ada"},
        "ERR_INVALID_PAYLOAD",
    ),
    "media-list": ("call.media", ["{call}", True, True], "ERR_INVALID_PAYLOAD"),
    "resume-no-peer": ("call.resume", {"call_id": "{call}"}, "ERR_INVALID_PAYLOAD"),
    "resume-int-peer": ("call.resume", {"call_id": "{call}", "peer": 7}, "ERR_INVALID_PAYLOAD"),
    "resume-empty-call-id": ("call.resume", {"call_id": "", "peer": "dan"}, "ERR_INVALID_PAYLOAD"),
    "resume-unknown-field": (
        "call.resume",
        {"call_id": "{call}", "peer": "dan", "sid": "x"},
        "ERR_INVALID_PAYLOAD",
    ),
    "resume-string": ("call.resume", "{call}", "ERR_INVALID_PAYLOAD"),
    "room-resume-bad-name": ("room.resume", {"room": "<b>"}, "ERR_INVALID_PAYLOAD"),
    "room-resume-unknown-field": (
        "room.resume",
        {"room": "standup", "members": []},
        "ERR_INVALID_PAYLOAD",
    ),
    "room-resume-none": ("room.resume", None, "ERR_INVALID_PAYLOAD"),
    "room-media-string-screen": (
        "room.media",
        {"room": "standup", "mic": True, "cam": True, "screen": 1},
        "ERR_INVALID_PAYLOAD",
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_events_are_refused_and_change_nothing(
    connect: Connector, host: Host, case: str
) -> None:
    """Cy is in a call with Dan; Ada and Bob are in "standup". Each payload would
    change something (or relay something) if it were well formed."""
    event, payload, code = MALFORMED[case]
    ada, bob, cy, dan = (connect(u) for u in ("ada", "bob", "cy", "dan"))
    join(ada)
    join(bob)
    call_id = answered(cy, dan)
    tabs = (ada, bob, cy, dan)
    clear(*tabs)
    before = (statuses(host), host.rooms.get("standup"), host.book.live_call_of("cy"))
    sender = ada if event.startswith("room.") else cy

    assert_error(sender.emit(event, fill(payload, call_id)), code)

    assert_nothing(*tabs)
    assert (statuses(host), host.rooms.get("standup"), host.book.live_call_of("cy")) == before
    assert host.book.claim_of("cy") is None
    assert cy.emit("signal", {"call_id": call_id, "description": OFFER}) == {"ok": True}
