"""What the state must look like after every fuzzed event: the books and presence
as values, their agreement with each other and with the open tabs, what a tab
heard, and errors logged."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from flask_videochat.core.calls import CallState
from flask_videochat.core.presence import Status

if TYPE_CHECKING:
    from tests.harness import Host, Tab


# -- what the state must look like -------------------------------------------------------


def snapshot(host: Host, users: tuple[str, ...]) -> Any:
    """Everything the books and presence say about ``users``, as values."""
    state = host.state
    per_user = {}
    rooms = set()
    for user_id in users:
        call = state.calls.live_call_of(user_id)
        seat = state.rooms.seat_of(user_id)
        invite = state.rooms.invite_of(user_id)
        for held in (seat and seat[0], invite and invite.room):
            if held:
                rooms.add(held)
        per_user[user_id] = (
            call and (call.id, call.state, call.caller_id, call.caller_sid, call.callee_sid),
            state.calls.claim_of(user_id),
            seat,
            invite,
        )
    presence = sorted((user.id, status.value) for user, status in state.presence.users())
    return (
        per_user,
        {name: state.rooms.get(name) for name in sorted(rooms)},
        presence,
        len(state.calls),
        len(state.rooms),
    )


def expected_status(host: Host, user_id: str) -> Status:
    """A user's presence status as docs/protocol.md defines it from their calls and
    rooms (independently of the namespace's own computation)."""
    state = host.state
    call = state.calls.live_call_of(user_id)
    if (call is not None and call.state is CallState.ACTIVE) or state.calls.claim_of(
        user_id
    ) is not None:
        return Status.IN_CALL
    if state.rooms.seat_of(user_id) is not None:
        return Status.IN_ROOM
    if call is not None or state.rooms.invite_of(user_id) is not None:
        return Status.RINGING
    return Status.AVAILABLE


def check_world(host: Host, tabs: dict[str, list[Tab]], *, grace: bool = False) -> None:
    """Presence, calls and rooms agree with each other and with the open ``tabs``
    (user id -> their open tabs).

    :param grace: the host has a reconnect grace longer than the test: a call or a
        seat may be kept on a closed connection (not an invitation nor a claim)."""
    state = host.state
    presence = state.presence
    for user_tabs in tabs.values():
        for tab in user_tabs:
            assert tab.connected, f"the server dropped a tab of {tab.user_id}"
    online = {user_id: {t.sid for t in ts} for user_id, ts in tabs.items() if ts}
    statuses = {user.id: status for user, status in presence.users()}
    assert set(statuses) == set(online)

    def held_by(sid: str | None, user_id: str) -> bool:
        """``sid`` is an open connection of ``user_id`` (or, with a grace, a closed one)."""
        if sid is None:
            return False
        owner = presence.user_of(sid)
        return owner.id == user_id if owner is not None else grace

    calls, rooms = set(), set()
    for user_id in tabs:
        assert presence.sids_of(user_id) == online.get(user_id, set())
        call = state.calls.live_call_of(user_id)
        claim = state.calls.claim_of(user_id)
        seat = state.rooms.seat_of(user_id)
        invite = state.rooms.invite_of(user_id)
        held = [x for x in (call, claim, seat, invite) if x is not None]
        # One engagement at a time: a live call, a claim, a seat or an invitation.
        assert len(held) <= 1, f"{user_id} holds {held}"
        if user_id in online:
            assert statuses[user_id] is expected_status(host, user_id), user_id
        else:
            kept = [x for x in (call, seat) if x is not None] if grace else []
            assert held == kept, f"{user_id} is offline but holds {held}"
        if call is not None:
            calls.add(call.id)
            other = call.other(user_id)
            assert call.has_party(user_id) and other != user_id
            assert call.state in (CallState.RINGING, CallState.ACTIVE)
            theirs = state.calls.live_call_of(other)
            assert theirs is not None and theirs.id == call.id
            assert held_by(call.caller_sid, call.caller_id)
            if call.state is CallState.ACTIVE:
                assert held_by(call.callee_sid, call.callee_id)
            else:
                assert call.callee_sid is None
                assert grace or presence.sids_of(call.callee_id)
        if claim is not None:
            assert claim.user_id == user_id != claim.peer_id
            assert claim.sid in online[user_id]
        if seat is not None:
            name, member = seat
            rooms.add(name)
            room = state.rooms.get(name)
            assert room is not None and room.member(user_id) == member
            assert held_by(member.sid, user_id)
            assert state.rooms.seat_on(member.sid) == seat
        if invite is not None:
            room = state.rooms.get(invite.room)
            assert room is not None and room.member(user_id) is None
            assert invite in room.invites
    # No call or room without a party or member among these users.
    assert len(state.calls) == len(calls)
    assert len(state.rooms) == len(rooms)
    for name in rooms:
        room = state.rooms.get(name)
        assert room is not None
        assert 1 <= len(room.members) <= room.capacity == state.rooms.capacity
        for member in room.members:
            assert state.rooms.seat_of(member.id) == (name, member)
        for invite in room.invites:
            assert state.rooms.invite_of(invite.user.id) == invite


def check_empty(host: Host, users: tuple[str, ...]) -> None:
    """Everyone closed every tab: nothing is left (there is no reconnect grace)."""
    state = host.state
    assert state.presence.users() == []
    assert len(state.calls) == 0
    assert len(state.rooms) == 0
    for user_id in users:
        assert state.calls.claim_of(user_id) is None
        assert state.rooms.invite_of(user_id) is None


#: Events the server sends to browsers (docs/protocol.md), presence aside.
SERVER_EVENTS = {
    "hello",
    "call.incoming",
    "call.accepted",
    "call.ended",
    "call.resumed",
    "call.upgraded",
    "call.media",
    "signal",
    "room.left",
    "room.member_joined",
    "room.member_left",
    "room.signal",
    "room.media",
    "room.invite",
    "room.invite_ended",
    "chat.message",
}


def heard(tab: Tab) -> list[str]:
    """Names of what ``tab`` received since it was last cleared, presence aside."""
    return [name for name in tab.names() if not name.startswith("presence.")]


class ErrorLog(logging.Handler):
    """The ``flask_videochat`` logger's records at ``ERROR`` and above."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def check(self) -> None:
        assert self.records == [], [self.format(r) for r in self.records]


def presence_view(log: list[tuple[str, Any]]) -> dict[str, str] | None:
    """Who is online with which status, as presence events in ``log`` told a
    browser: ``presence.snapshot`` then ``presence.changes`` (or the older
    ``presence.join`` / ``leave`` / ``status``). ``None`` for a presence event this
    does not know."""
    view: dict[str, str] = {}
    for name, data in log:
        if name == "presence.snapshot":
            view = {user["id"]: user["status"] for user in data["users"]}
        elif name == "presence.changes":
            view.update((user["id"], user["status"]) for user in data["users"])
            for user_id in data["left"]:
                view.pop(user_id, None)
        elif name == "presence.join":
            view[data["user"]["id"]] = data["user"]["status"]
        elif name == "presence.leave":
            view.pop(data["id"], None)
        elif name == "presence.status":
            view[data["id"]] = data["status"]
        elif name.startswith("presence."):
            return None
    return view
