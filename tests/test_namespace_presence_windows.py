"""``presence.changes`` gathered in windows (``VIDEOCHAT_PRESENCE_WINDOW``),
through ``/videochat`` under both async modes: what goes out together, the state at
send time, and people coming and going within a window."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable

import pytest

from tests.support import others_of, seen_by

#: Every test here runs on both stores: in memory, and on Redis (one process).
pytestmark = pytest.mark.parametrize("host_store", ("memory", "redis"), indirect=True)

if TYPE_CHECKING:
    from tests.harness import Connector, Host, MakeHost, Tab


# -- presence.changes: windows ------------------------------------------------------------

#: The window of the hosts that gather changes, in seconds.
WINDOW = 0.2


def named_host(make_host: MakeHost, **config: Any) -> Host:
    """A host whose users are whoever signs in (``connect("u1")`` is user ``u1``,
    named ``U1``): more people than :data:`~tests.harness.USERS`."""
    from flask import session

    def load() -> Any:
        uid = session.get("uid")
        return (uid, uid.upper()) if uid else None

    return make_host(login=False, identity_loader=load, config=config)


def poll(host: Host, predicate: Callable[[], bool], *, what: str, timeout: float = 1.0) -> None:
    """Let the server's timers run until ``predicate`` holds; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        host.sleep(0.01)


def settled(host: Host, tab: Tab) -> int:
    """Let every pending window pass; returns how many ``presence.changes`` ``tab``
    has received so far (the changes after it are ``tab.changes()[mark:]``)."""
    host.sleep(WINDOW * 2)
    return len(tab.changes())


def test_joins_within_a_window_go_out_together(
    make_host: MakeHost, connector_for: Callable[[Host], Connector]
) -> None:
    host = named_host(make_host, VIDEOCHAT_PRESENCE_WINDOW=WINDOW)
    connect = connector_for(host)
    watcher = connect("watcher")
    mark = settled(host, watcher)
    crowd = [f"u{n}" for n in range(1, 6)]

    started = time.monotonic()
    for uid in crowd:
        assert connect(uid).connected
    poll(host, lambda: set(seen_by(watcher)) == set(crowd), what="the five joins")

    assert time.monotonic() - started < 0.5
    changes = watcher.changes()[mark:]
    assert 1 <= len(changes) <= 2, changes  # not one per join
    listed = [user for change in changes for user in change["users"]]
    assert sorted(u["id"] for u in listed) == crowd  # each of them once
    assert all(u == {"id": u["id"], "name": u["id"].upper(), "status": "available"} for u in listed)
    assert [uid for change in changes for uid in change["left"]] == []
    assert settled(host, watcher) == mark + len(changes)  # nothing more: nothing changed
    assert seen_by(watcher) == others_of(host, "watcher")


def test_a_change_carries_the_state_at_send_time(
    make_host: MakeHost, connector_for: Callable[[Host], Connector]
) -> None:
    host = named_host(make_host, VIDEOCHAT_PRESENCE_WINDOW=WINDOW)
    connect = connector_for(host)
    watcher = connect("watcher")
    mark = settled(host, watcher)

    caller, callee = connect("caller"), connect("callee")
    assert caller.emit("call.invite", {"to": "callee"})["state"] == "ringing"
    poll(host, lambda: len(watcher.changes()) > mark, what="the changes")

    # One message: the two joined and started ringing within one window, so each is
    # listed once, as they were when it went out.
    assert settled(host, watcher) == mark + 1
    assert watcher.changes()[mark:] == [
        {
            "users": [
                {"id": "caller", "name": "CALLER", "status": "ringing"},
                {"id": "callee", "name": "CALLEE", "status": "ringing"},
            ],
            "left": [],
        }
    ]
    assert seen_by(watcher) == others_of(host, "watcher")
    call_id = callee.received("call.incoming")[0]["call_id"]
    assert caller.emit("call.cancel", {"call_id": call_id})["ok"] is True


def test_coming_and_going_within_a_window_is_never_left_online(
    make_host: MakeHost, connector_for: Callable[[Host], Connector]
) -> None:
    host = named_host(make_host, VIDEOCHAT_PRESENCE_WINDOW=WINDOW)
    connect = connector_for(host)
    watcher = connect("watcher")
    connect("stays")
    mark = settled(host, watcher)

    flash = connect("flash")
    flash.close()
    connect("late")  # a change after it, in the same window
    poll(host, lambda: "late" in seen_by(watcher), what="late's join")
    settled(host, watcher)

    changes = watcher.changes()[mark:]
    assert "flash" not in [u["id"] for change in changes for u in change["users"]]
    assert {uid for change in changes for uid in change["left"]} <= {"flash"}
    expected = {"stays": "available", "late": "available"}
    assert seen_by(watcher) == others_of(host, "watcher") == expected


def test_leaving_and_coming_back_within_a_window_is_online(
    make_host: MakeHost, connector_for: Callable[[Host], Connector]
) -> None:
    host = named_host(make_host, VIDEOCHAT_PRESENCE_WINDOW=WINDOW)
    connect = connector_for(host)
    watcher = connect("watcher")
    first = connect("back")
    mark = settled(host, watcher)
    assert seen_by(watcher) == {"back": "available"}

    first.close()
    connect("back")
    poll(host, lambda: len(watcher.changes()) > mark, what="the changes")
    settled(host, watcher)

    assert seen_by(watcher) == others_of(host, "watcher") == {"back": "available"}
