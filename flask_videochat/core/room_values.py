"""The frozen snapshots that :class:`~flask_videochat.core.rooms.RoomBook` returns: a seat
(:class:`Member`), a room (:class:`Room`), an invitation, and what a change did
(:class:`JoinResult`, :class:`ResumedSeat`, :class:`Departure`, :class:`InviteEnded`),
with the reasons sent to browsers. They are values: reading them needs no lock, and
:mod:`~flask_videochat.events.rooms` turns them into events.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from .chat import ChatMessage
from .presence import User


class LeaveReason(str, Enum):
    """Why a member lost their seat; sent to the others in ``room.member_left``."""

    LEFT = "left"
    DISCONNECTED = "disconnected"
    #: The same user joined again from another tab (``room.member_joined`` follows).
    REPLACED = "replaced"


class InviteEnd(str, Enum):
    """Why a room invite stopped ringing; sent in ``room.invite_ended``."""

    DECLINED = "declined"
    NO_ANSWER = "no_answer"
    #: The invitee joined (their other tabs stop ringing).
    JOINED = "joined"
    #: The room emptied and was deleted.
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Member:
    """A seat in a room.

    :param user: who sits there.
    :param sid: the connection holding the seat.
    :param sid: the connection holding the seat. A seat whose connection closed is
        kept on that sid for the reconnect grace, until it is resumed on a new one
        (:meth:`~flask_videochat.core.rooms.RoomBook.resume`) or dropped.
    :param mic: whether their microphone is on, as they last announced.
    :param cam: whether their camera is on, as they last announced.
    :param joined_at: the book's clock (seconds, monotonic) when they took the seat;
        kept when the seat is resumed on another connection.
    :param screen: whether they share their screen, as they last announced.
    :param seat: an opaque id of this seat: new when the user takes a seat again (a
        reload, another tab), kept when the seat is resumed; browsers compare it to
        tell a member who came back from one whose connection they still hold.
    :param rev: the revision of ``mic``, ``cam`` and ``screen`` their browser gave
        (``room.media``'s ``rev``; 0 as they joined): browsers ignore an older state.
    """

    user: User
    sid: str
    mic: bool = True
    cam: bool = True
    joined_at: float = 0.0
    screen: bool = False
    seat: str = ""
    rev: int = 0

    @property
    def id(self) -> str:
        """The member's user id."""
        return self.user.id

    def public(self) -> dict[str, Any]:
        """``{"id", "name", "mic", "cam", "screen", "seat", "rev"}`` as sent to browsers."""
        return {
            **self.user.public(),
            "mic": self.mic,
            "cam": self.cam,
            "screen": self.screen,
            "seat": self.seat,
            "rev": self.rev,
        }


@dataclass(frozen=True)
class Invite:
    """A pending invitation of ``user`` into ``room`` by ``by``, since ``since``
    (the book's clock). ``id`` tells one invitation from a later one to the same
    person, so that a stale ring timer ends nothing."""

    id: str
    room: str
    user: User
    by: User
    since: float


@dataclass(frozen=True)
class Room:
    """A snapshot of a room.

    :param members: in join order.
    :param invites: the pending invitations.
    :param history: the kept chat messages, oldest first.
    """

    name: str
    capacity: int
    private: bool
    members: tuple[Member, ...]
    invites: tuple[Invite, ...]
    history: tuple[ChatMessage, ...]

    def member(self, user_id: str) -> Member | None:
        """The seat of ``user_id``, or ``None``."""
        return next((m for m in self.members if m.id == user_id), None)

    def others(self, user_id: str) -> tuple[Member, ...]:
        """Every member but ``user_id``, in join order."""
        return tuple(m for m in self.members if m.id != user_id)


@dataclass(frozen=True)
class Departure:
    """A member lost their seat.

    :param room: the room afterwards (``members``: those still there); empty when
        it was deleted.
    :param member: the seat that was lost.
    :param cancelled: invitations ended (``CANCELLED``) because the room emptied.
    """

    room: Room
    member: Member
    reason: LeaveReason
    cancelled: tuple[Invite, ...] = ()

    @property
    def deleted(self) -> bool:
        """Whether the room emptied and is gone."""
        return not self.room.members


@dataclass(frozen=True)
class InviteEnded:
    """An invitation stopped ringing; ``members`` are the room's members then (who
    are told, besides every connection of the invitee)."""

    invite: Invite
    reason: InviteEnd
    members: tuple[Member, ...]


@dataclass(frozen=True)
class JoinResult:
    """What a join changed.

    :param room: the room afterwards.
    :param member: the joiner's new seat.
    :param replaced: the joiner's previous seat in this same room (another tab, or
        this one joining again): the others see it leave with reason ``replaced``.
    :param previous: the seat given up in another room (reason ``left``).
    :param answered: the invitation into this room that the join accepted.
    :param dropped: an invitation into another room, declined by joining this one.
    """

    room: Room
    member: Member
    replaced: Member | None = None
    previous: Departure | None = None
    answered: InviteEnded | None = None
    dropped: InviteEnded | None = None

    @property
    def others(self) -> tuple[Member, ...]:
        """The other members, in join order."""
        return self.room.others(self.member.id)

    @property
    def displaced(self) -> tuple[str, str] | None:
        """``(room name, sid)`` of the connection that lost its seat without asking
        (it gets ``room.left`` reason ``joined_elsewhere``), or ``None``."""
        if self.replaced is not None:
            old, room = self.replaced, self.room.name
        elif self.previous is not None:
            old, room = self.previous.member, self.previous.room.name
        else:
            return None
        return None if old.sid == self.member.sid else (room, old.sid)


@dataclass(frozen=True)
class ResumedSeat:
    """A kept seat moved to the connection its user came back on.

    :param room: the room afterwards.
    :param member: the seat, on its new connection (join time and place kept).
    :param previous: the seat as it was, on the connection that closed (or, when the
        server has not yet noticed it closed, that is still open).
    """

    room: Room
    member: Member
    previous: Member

    @property
    def others(self) -> tuple[Member, ...]:
        """The other members, in join order."""
        return self.room.others(self.member.id)

    def polite_toward(self, other: Member) -> bool:
        """Whether the resumer is the polite peer toward ``other``: the later of the
        two to have joined is (as for a joiner, who is polite toward everyone)."""
        order = [m.id for m in self.room.members]
        return order.index(self.member.id) > order.index(other.id)
