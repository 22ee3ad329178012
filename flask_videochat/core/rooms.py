"""Rooms: named video calls of several people, in plain Python (no Socket.IO here).

A room is a mesh: every member has one peer connection to every other member, so
each browser sends one uplink per other member and a room holds at most
``capacity`` people. A user holds at most one **seat**, on one connection (a
Socket.IO sid): joining from another tab moves the seat there, joining another room
leaves the previous one. A room that empties is deleted, with its chat history and
pending invites.

A seat whose connection closes may be **kept** for the reconnect grace: the book
leaves it where it is (on the closed connection) until its user comes back on a new
connection and :meth:`RoomBook.resume` moves it there, or the namespace's grace
timer drops it (:meth:`RoomBook.drop_seat`). The other members are told nothing
meanwhile: their peer connections to the absent member keep going.

A **private** room (a 1:1 call grown with ``call.add``) admits only the call's
parties, the people invited to it and everyone who has been a member; a public room
admits everyone the host's ``can_join`` hook lets in (the namespace asks it).

:class:`RoomBook` holds the rooms and applies changes; each method returns what
changed, as frozen snapshots (:class:`JoinResult`, :class:`Departure`,
:class:`InviteEnded`..., in :mod:`~flask_videochat.core.room_values`) that
:mod:`~flask_videochat.events.rooms` turns into events, or raises
:class:`~flask_videochat.core.protocol.ProtocolError` and changes nothing.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Sequence

from .chat import ChatLog, ChatMessage, new_message
from .presence import Status, User
from .protocol import ErrorCode, ProtocolError
from .room_values import (
    Departure,
    Invite,
    InviteEnd,
    InviteEnded,
    JoinResult,
    LeaveReason,
    Member,
    ResumedSeat,
    Room,
)

__all__ = [
    "DEFAULT_CAPACITY",
    "DEFAULT_CHAT_HISTORY",
    "JOINED_ELSEWHERE",
    "PRIVATE_PREFIX",
    "Departure",
    "Invite",
    "InviteEnd",
    "InviteEnded",
    "JoinResult",
    "LeaveReason",
    "Member",
    "ResumedSeat",
    "Room",
    "RoomBook",
]

#: Members a room holds unless the book is told otherwise (``VIDEOCHAT_ROOM_CAPACITY``).
DEFAULT_CAPACITY = 4
#: Chat messages a room keeps unless told otherwise (``VIDEOCHAT_CHAT_HISTORY``).
DEFAULT_CHAT_HISTORY = 50
#: Name prefix of the private rooms that grown calls become.
PRIVATE_PREFIX = "call-"

#: Reason sent in ``room.left`` to a connection whose seat another join of the same
#: user took (another tab, or another room joined from another tab).
JOINED_ELSEWHERE = "joined_elsewhere"


@dataclass
class _Room:
    name: str
    capacity: int
    private: bool
    chat: ChatLog
    members: dict[str, Member] = field(default_factory=dict)
    invites: dict[str, Invite] = field(default_factory=dict)
    #: Who may join a private room besides its invitees: the parties of the grown
    #: call and everyone who has been a member.
    admitted: set[str] = field(default_factory=set)

    def view(self) -> Room:
        return Room(
            self.name,
            self.capacity,
            self.private,
            tuple(self.members.values()),
            tuple(self.invites.values()),
            self.chat.messages(),
        )

    def seated(self, user_id: str, sid: str) -> Member:
        member = self.members.get(user_id)
        if member is None or member.sid != sid:
            raise _not_in_room()
        return member


def _not_in_room() -> ProtocolError:
    return ProtocolError(ErrorCode.NOT_IN_ROOM, "You are not in that room (on this tab).")


def _peer_not_in_room() -> ProtocolError:
    return ProtocolError(ErrorCode.NOT_IN_ROOM, "That person is not in this room.")


class RoomBook:
    """The rooms of one app, safe across threads.

    :param capacity: most members per room (``VIDEOCHAT_ROOM_CAPACITY``), at least 2.
    :param chat_history: chat messages each room keeps (``VIDEOCHAT_CHAT_HISTORY``).
    :param clock: seconds, for join and invitation times; :func:`time.monotonic`.
    :param wall_clock: seconds since the Unix epoch, for chat timestamps.
    :param new_id: makes private room names (after ``call-``) and invitation ids.

    Example::

        book = RoomBook(capacity=3)
        book.join("standup", User("ada", "Ada"), "sid-a")
        joined = book.join("standup", User("bob", "Bob"), "sid-b")
        assert [m.id for m in joined.others] == ["ada"]
        gone = book.leave("standup", "ada", "sid-a")
        assert [m.id for m in gone.room.members] == ["bob"]
    """

    def __init__(
        self,
        *,
        capacity: int = DEFAULT_CAPACITY,
        chat_history: int = DEFAULT_CHAT_HISTORY,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        new_id: Callable[[], str] = lambda: secrets.token_urlsafe(8),
    ) -> None:
        if capacity < 2:
            raise ValueError(f"a room holds at least 2 people, not {capacity}")
        self.capacity = capacity
        self._chat_history = chat_history
        self._clock = clock
        self._wall_clock = wall_clock
        self._new_id = new_id
        self._lock = threading.RLock()
        self._rooms: dict[str, _Room] = {}
        #: user id -> name of the room where they hold their seat.
        self._seats: dict[str, str] = {}
        #: connection -> user id of the seat it holds.
        self._sids: dict[str, str] = {}
        #: user id -> name of the room they are invited to (at most one at a time).
        self._invited: dict[str, str] = {}

    # -- queries --------------------------------------------------------------------

    def get(self, name: str) -> Room | None:
        """A snapshot of room ``name``, or ``None`` when there is no such room."""
        with self._lock:
            room = self._rooms.get(name)
            return None if room is None else room.view()

    def seat_of(self, user_id: str) -> tuple[str, Member] | None:
        """``(room name, seat)`` of ``user_id``, or ``None`` when in no room."""
        with self._lock:
            name = self._seats.get(user_id)
            return None if name is None else (name, self._rooms[name].members[user_id])

    def seat_on(self, sid: str) -> tuple[str, Member] | None:
        """``(room name, seat)`` held by connection ``sid``, or ``None``."""
        with self._lock:
            user_id = self._sids.get(sid)
            return None if user_id is None else self.seat_of(user_id)

    def invite_of(self, user_id: str) -> Invite | None:
        """The pending invitation of ``user_id``, or ``None``."""
        with self._lock:
            name = self._invited.get(user_id)
            return None if name is None else self._rooms[name].invites[user_id]

    def status_of(self, user_id: str) -> Status:
        """The presence status rooms give ``user_id``: ``IN_ROOM`` for a member,
        ``RINGING`` for an invitee, else ``AVAILABLE``."""
        with self._lock:
            if user_id in self._seats:
                return Status.IN_ROOM
            return Status.RINGING if user_id in self._invited else Status.AVAILABLE

    def __len__(self) -> int:
        """The number of rooms (every room has at least one member)."""
        with self._lock:
            return len(self._rooms)

    def __contains__(self, name: object) -> bool:
        with self._lock:
            return name in self._rooms

    # -- membership -------------------------------------------------------------------

    def join(
        self, name: str, user: User, sid: str, *, mic: bool = True, cam: bool = True
    ) -> JoinResult:
        """``user`` takes a seat in room ``name`` on connection ``sid`` (the room is
        created, public, when it does not exist). Their seat elsewhere is given up,
        and a pending invitation answered (into this room) or declined (another).

        :raises ProtocolError: ``ERR_FORBIDDEN`` for a private room that did not
            admit or invite ``user``; ``ERR_ROOM_FULL`` when the room has
            ``capacity`` other members.
        """
        with self._lock:
            room = self._rooms.get(name)
            if room is not None:
                if room.private and not (user.id in room.admitted or user.id in room.invites):
                    raise ProtocolError(
                        ErrorCode.FORBIDDEN, "This room is private: you need an invitation."
                    )
                others = len(room.members) - (1 if user.id in room.members else 0)
                if others >= room.capacity:
                    raise ProtocolError(
                        ErrorCode.ROOM_FULL, f"This room is full ({room.capacity} people)."
                    )
            elif name.startswith(PRIVATE_PREFIX):
                # A grown call's room ends with its last seat; its name must not
                # come back as a public room that anyone knowing it could join.
                raise ProtocolError(ErrorCode.NOT_IN_ROOM, "That call has ended.")
            else:
                room = self._new_room(name, private=False)
            return self._seat(room, user, sid, mic=mic, cam=cam)

    def leave(self, name: str, user_id: str, sid: str) -> Departure:
        """The member leaves (only from the connection holding the seat).

        :raises ProtocolError: ``ERR_NOT_IN_ROOM``.
        """
        with self._lock:
            room = self._rooms.get(name)
            if room is None:
                raise _not_in_room()
            room.seated(user_id, sid)
            return self._unseat(room, user_id, LeaveReason.LEFT)

    def drop_connection(self, sid: str) -> Departure | None:
        """Connection ``sid`` closed: its seat, if any, is lost at once
        (``disconnected``). With a reconnect grace the namespace keeps the seat
        instead and calls :meth:`drop_seat` when the grace is over."""
        with self._lock:
            user_id = self._sids.get(sid)
            if user_id is None:
                return None
            return self._unseat(
                self._rooms[self._seats[user_id]], user_id, LeaveReason.DISCONNECTED
            )

    def drop_seat(self, name: str, user_id: str, sid: str) -> Departure | None:
        """The reconnect grace of a seat kept on closed connection ``sid`` is over:
        the seat is lost (``disconnected``) unless it moved meanwhile (resumed on a
        new connection, or taken by a join).

        :returns: ``None`` when ``user_id`` no longer sits in ``name`` on ``sid``.
        """
        with self._lock:
            room = self._rooms.get(name)
            member = None if room is None else room.members.get(user_id)
            if room is None or member is None or member.sid != sid:
                return None
            return self._unseat(room, user_id, LeaveReason.DISCONNECTED)

    def resume(self, name: str, user_id: str, sid: str) -> ResumedSeat:
        """``user_id`` came back on connection ``sid``: their seat in ``name`` moves
        there, keeping its join time, place, media state and the room's mesh (no
        one leaves or joins). Meant for a seat kept after its connection closed;
        a seat on a connection the server still thinks open moves all the same (the
        browser may notice a dead network before the server does).

        :raises ProtocolError: ``ERR_NOT_IN_ROOM`` when ``user_id`` holds no seat in
            ``name`` (never joined, or the seat was dropped).
        """
        with self._lock:
            room = self._rooms.get(name)
            previous = None if room is None else room.members.get(user_id)
            if room is None or previous is None:
                raise ProtocolError(
                    ErrorCode.NOT_IN_ROOM, "You have no seat to take back in that room."
                )
            member = room.members[user_id] = replace(previous, sid=sid)
            del self._sids[previous.sid]
            self._sids[sid] = user_id
            return ResumedSeat(room.view(), member, previous)

    def private_name(self) -> str:
        """A fresh name for a private room: ``call-`` and random characters."""
        with self._lock:
            name = PRIVATE_PREFIX + self._new_id()
            while name in self._rooms:
                name = PRIVATE_PREFIX + self._new_id()
            return name

    def create_private(
        self,
        parties: Sequence[tuple[User, str]],
        history: Iterable[ChatMessage] = (),
        *,
        name: str | None = None,
    ) -> tuple[JoinResult, ...]:
        """A new private room seating ``parties`` (each ``(user, sid)``, microphone
        and camera on) with ``history`` as its chat: a 1:1 call grown into a room.
        Seats the parties held elsewhere are given up.

        :param name: the room's name, from :meth:`private_name` (default: a new one).
        :returns: one :class:`JoinResult` per party, in order; the last one's
            :attr:`~JoinResult.room` has every party.
        :raises ValueError: a room called ``name`` exists.
        """
        with self._lock:
            name = self.private_name() if name is None else name
            if name in self._rooms:
                raise ValueError(f"room {name!r} exists already")
            room = self._new_room(name, private=True, history=history)
            room.admitted.update(user.id for user, _ in parties)
            return tuple(self._seat(room, user, sid, mic=True, cam=True) for user, sid in parties)

    # -- relaying -----------------------------------------------------------------------

    def relay_target(self, name: str, user_id: str, sid: str, to: str) -> Member:
        """Check that connection ``sid`` of ``user_id`` holds a seat in ``name`` and
        that ``to`` is another member; return ``to``'s seat (relay to its ``sid``).

        :raises ProtocolError: ``ERR_NOT_IN_ROOM`` (the sender or ``to``).
        """
        with self._lock:
            room = self._seated_room(name, user_id, sid)
            target = room.members.get(to)
            if target is None or to == user_id:
                raise _peer_not_in_room()
            return target

    def set_media(
        self,
        name: str,
        user_id: str,
        sid: str,
        *,
        mic: bool,
        cam: bool,
        screen: bool = False,
        rev: int | None = None,
    ) -> tuple[Member, tuple[Member, ...]]:
        """The member's microphone / camera / screen sharing are now on or off, as of
        revision ``rev`` (``None``: the next one). A state older than the seat's is
        ignored: the seat keeps the newer one.

        :returns: the seat as it is now and the other members (to tell).
        :raises ProtocolError: ``ERR_NOT_IN_ROOM``.
        """
        with self._lock:
            room = self._seated_room(name, user_id, sid)
            member = room.members[user_id]
            if rev is None:
                rev = member.rev + 1
            if rev >= member.rev:
                member = replace(member, mic=mic, cam=cam, screen=screen, rev=rev)
                room.members[user_id] = member
            return member, room.view().others(user_id)

    def chat(
        self, name: str, sender: User, sid: str, text: str
    ) -> tuple[ChatMessage, tuple[Member, ...]]:
        """The member says ``text``; the room keeps it in its history.

        :returns: the message and every member (the sender too), to relay it to.
        :raises ProtocolError: ``ERR_NOT_IN_ROOM``; ``ERR_INVALID_PAYLOAD`` or
            ``ERR_TOO_LARGE`` for a blank or too long text.
        """
        with self._lock:
            room = self._seated_room(name, sender.id, sid)
            message = new_message(sender, text, clock=self._wall_clock)
            message = room.chat.add(message)
            return message, tuple(room.members.values())

    # -- invitations -----------------------------------------------------------------------

    def check_invite(self, name: str, inviter_id: str, sid: str, invitee_id: str) -> Room:
        """Check, without changing anything, that the member on ``sid`` may invite
        ``invitee_id``; return the room.

        :raises ProtocolError: ``ERR_NOT_IN_ROOM`` (the inviter); ``ERR_SELF_CALL``;
            ``ERR_INVALID_STATE`` when the invitee is a member already;
            ``ERR_ROOM_FULL`` when members and pending invitations fill the room.
        """
        with self._lock:
            room = self._seated_room(name, inviter_id, sid)
            if invitee_id == inviter_id:
                raise ProtocolError(ErrorCode.SELF_CALL, "You cannot invite yourself.")
            if invitee_id in room.members:
                raise ProtocolError(ErrorCode.INVALID_STATE, "That person is in this room already.")
            # People still being rung count: each of them may accept.
            if len(room.members) + len(room.invites) >= room.capacity:
                raise ProtocolError(
                    ErrorCode.ROOM_FULL,
                    f"This room is full ({room.capacity} people, counting those being invited).",
                )
            return room.view()

    def invite(
        self, name: str, inviter: User, sid: str, invitee: User, *, busy: bool = False
    ) -> Invite | None:
        """The member on ``sid`` invites ``invitee``, who rings until they join,
        decline or :meth:`expire_invite`.

        :param busy: the invitee is busy elsewhere (in a 1:1 call).
        :returns: the invitation; ``None`` (and nothing recorded) when the invitee is
            busy: in a call, in a room, or already invited somewhere.
        :raises ProtocolError: as :meth:`check_invite`.
        """
        with self._lock:
            self.check_invite(name, inviter.id, sid, invitee.id)
            if busy or invitee.id in self._seats or invitee.id in self._invited:
                return None
            invite = Invite(self._new_id(), name, invitee, inviter, self._clock())
            self._rooms[name].invites[invitee.id] = invite
            self._invited[invitee.id] = name
            return invite

    def decline(self, name: str, user_id: str) -> InviteEnded:
        """The invitee refuses the invitation into ``name``.

        :raises ProtocolError: ``ERR_NOT_IN_ROOM`` when ``user_id`` has no pending
            invitation into ``name``.
        """
        with self._lock:
            if self._invited.get(user_id) != name:
                raise ProtocolError(
                    ErrorCode.NOT_IN_ROOM, "You have no pending invitation into that room."
                )
            return self._end_invite(user_id, InviteEnd.DECLINED)

    def expire_invite(self, invite_id: str, user_id: str) -> InviteEnded | None:
        """The ring timeout of invitation ``invite_id`` ran out (``no_answer``).

        :returns: ``None`` when it was answered or ended meanwhile.
        """
        with self._lock:
            invite = self.invite_of(user_id)
            if invite is None or invite.id != invite_id:
                return None
            return self._end_invite(user_id, InviteEnd.NO_ANSWER)

    def drop_invite(self, user_id: str) -> InviteEnded | None:
        """The invitee went offline: their invitation ends (``no_answer``)."""
        with self._lock:
            if user_id not in self._invited:
                return None
            return self._end_invite(user_id, InviteEnd.NO_ANSWER)

    # -- internals ------------------------------------------------------------------------

    def dump_state(self) -> dict[str, Any]:
        """The book's data (no lock, no clocks), for a shared store
        (:class:`~flask_videochat.stores.redis.SharedBook`) to save."""
        with self._lock:
            return {
                "rooms": self._rooms,
                "seats": self._seats,
                "sids": self._sids,
                "invited": self._invited,
            }

    def load_state(self, data: dict[str, Any]) -> None:
        """Replace the book's data with what :meth:`dump_state` gave."""
        with self._lock:
            self._rooms = data["rooms"]
            self._seats = data["seats"]
            self._sids = data["sids"]
            self._invited = data["invited"]

    def _new_room(self, name: str, *, private: bool, history: Iterable[ChatMessage] = ()) -> _Room:
        room = _Room(name, self.capacity, private, ChatLog(self._chat_history, history))
        self._rooms[name] = room
        return room

    def _seated_room(self, name: str, user_id: str, sid: str) -> _Room:
        room = self._rooms.get(name)
        if room is None:
            raise _not_in_room()
        room.seated(user_id, sid)
        return room

    def _seat(self, room: _Room, user: User, sid: str, *, mic: bool, cam: bool) -> JoinResult:
        """Give ``user`` a seat in ``room`` (checks done); the room is in the book."""
        replaced = previous = None
        old_room = self._seats.get(user.id)
        if old_room == room.name:
            replaced = room.members.pop(user.id)
            del self._sids[replaced.sid]
        elif old_room is not None:
            previous = self._unseat(self._rooms[old_room], user.id, LeaveReason.LEFT)
        answered = dropped = None
        invited_to = self._invited.get(user.id)
        if invited_to == room.name:
            answered = self._end_invite(user.id, InviteEnd.JOINED)
        elif invited_to is not None:
            dropped = self._end_invite(user.id, InviteEnd.DECLINED)
        member = Member(user, sid, mic=mic, cam=cam, joined_at=self._clock(),
                        seat=self._new_id())
        room.members[user.id] = member
        room.admitted.add(user.id)
        self._seats[user.id] = room.name
        self._sids[sid] = user.id
        return JoinResult(room.view(), member, replaced, previous, answered, dropped)

    def _unseat(self, room: _Room, user_id: str, reason: LeaveReason) -> Departure:
        member = room.members.pop(user_id)
        del self._seats[user_id], self._sids[member.sid]
        cancelled: tuple[Invite, ...] = ()
        if not room.members:
            cancelled = tuple(room.invites.values())
            for invite in cancelled:
                del self._invited[invite.user.id]
            room.invites.clear()
            del self._rooms[room.name]
        return Departure(room.view(), member, reason, cancelled)

    def _end_invite(self, user_id: str, reason: InviteEnd) -> InviteEnded:
        room = self._rooms[self._invited.pop(user_id)]
        invite = room.invites.pop(user_id)
        return InviteEnded(invite, reason, tuple(room.members.values()))
