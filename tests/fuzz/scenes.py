"""Scenes: what is going on when Ada sends a fuzzed event (idle, calling, in a
call, in a room, invited...), and one fuzzed event sent in a scene and checked."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator

from tests.fuzz.oracle import ACTORS, BYSTANDER, NO_CALL, check_ack, send
from tests.fuzz.strategies import CALL, ROOM, resolve
from tests.fuzz.world import SERVER_EVENTS, ErrorLog, check_empty, check_world, heard, snapshot

if TYPE_CHECKING:
    from tests.harness import Connector, Host, Tab


# -- scenes: what is going on when ada sends a fuzzed event ------------------------------------


def ok(tab: Tab, event: str, payload: dict[str, Any]) -> dict[str, Any]:
    ack = send(tab, event, payload)
    assert isinstance(ack, dict) and ack["ok"] is True, (event, payload, ack)
    return ack


def set_scene(scene: str, connect: Connector) -> tuple[dict[str, Tab], dict[str, str]]:
    """Open a tab for each actor and the bystander, and set ``scene`` up around
    ada. Returns the tabs and the placeholders' values."""
    tabs = {user_id: connect(user_id) for user_id in (*ACTORS, BYSTANDER)}
    ada, bob, eve = tabs["ada"], tabs["bob"], tabs["eve"]
    refs = {CALL: NO_CALL, ROOM: "lobby"}
    if scene in ("calling", "in_call", "hung_up", "grown"):
        refs[CALL] = ok(ada, "call.invite", {"to": "bob"})["call_id"]
        if scene != "calling":
            ok(bob, "call.accept", {"call_id": refs[CALL]})
        if scene == "hung_up":
            ok(bob, "call.hangup", {"call_id": refs[CALL]})
        if scene == "grown":
            refs[ROOM] = ok(ada, "call.add", {"call_id": refs[CALL], "to": "eve"})["room"]
    elif scene in ("called", "answered"):
        refs[CALL] = ok(bob, "call.invite", {"to": "ada"})["call_id"]
        if scene == "answered":
            ok(ada, "call.accept", {"call_id": refs[CALL]})
    elif scene in ("in_room", "left_room", "full_room"):
        ok(ada, "room.join", {"room": "lobby"})
        ok(bob, "room.join", {"room": "lobby"})
        if scene == "left_room":
            ok(ada, "room.leave", {"room": "lobby"})
        if scene == "full_room":
            ok(eve, "room.join", {"room": "lobby"})
    elif scene == "invited":
        ok(bob, "room.join", {"room": "lobby"})
        ok(bob, "room.invite", {"room": "lobby", "to": "ada"})
    elif scene == "others_busy":
        call_id = ok(eve, "call.invite", {"to": "bob"})["call_id"]
        ok(bob, "call.accept", {"call_id": call_id})
    elif scene == "claiming":
        refs[CALL] = "ghost-call"
        assert ok(ada, "call.resume", {"call_id": refs[CALL], "peer": "bob"})["state"] == "pending"
    else:
        assert scene == "idle"
    return tabs, refs


SCENES = (
    "idle",
    "calling",
    "called",
    "in_call",
    "answered",
    "hung_up",
    "grown",
    "in_room",
    "left_room",
    "full_room",
    "invited",
    "others_busy",
    "claiming",
)


@contextmanager
def one_example(connect: Connector) -> Iterator[None]:
    """Close the tabs opened meanwhile, afterwards."""
    opened = len(connect.tabs)
    try:
        yield
    finally:
        for tab in connect.tabs[opened:]:
            tab.close()


def open_tabs(connect: Connector, since: int) -> dict[str, list[Tab]]:
    """user id -> their tabs opened since ``connect.tabs[since]`` and still open."""
    tabs: dict[str, list[Tab]] = {u: [] for u in (*ACTORS, BYSTANDER)}
    for tab in connect.tabs[since:]:
        if tab.connected and tab.user_id is not None:
            tabs[tab.user_id].append(tab)
    return tabs


def fuzz_one(
    host: Host,
    connect: Connector,
    errors: ErrorLog,
    event: Any,
    scene: str,
    second_tab: bool,
    args: list[Any],
) -> None:
    """Set ``scene`` up, send ``event`` from one of ada's tabs and check everything."""
    since = len(connect.tabs)
    with one_example(connect):
        tabs, refs = set_scene(scene, connect)
        sender = connect("ada") if second_tab else tabs["ada"]
        args = resolve(args, refs)
        for tab in connect.tabs[since:]:
            tab.clear()
        everyone = (*ACTORS, BYSTANDER)
        before = snapshot(host, everyone)

        ack = send(sender, event, *args)

        check_ack(event, args, ack)
        if not ack["ok"]:
            assert snapshot(host, everyone) == before, f"refused {event!r} changed the state"
            for tab in connect.tabs[since:]:
                if tab is not sender:
                    assert heard(tab) == [], f"{tab.user_id} heard of a refused {event!r}"
        assert heard(tabs[BYSTANDER]) == []
        for tab in connect.tabs[since:]:
            unknown = set(heard(tab)) - SERVER_EVENTS
            assert not unknown, f"{tab.user_id} received undocumented {unknown}"
        check_world(host, open_tabs(connect, since))
        errors.check()
    check_empty(host, everyone)
    errors.check()
