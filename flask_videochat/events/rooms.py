"""The ``/videochat`` handlers for rooms, growing a call into a room, and chat: the
thin adapter between Socket.IO and :mod:`~flask_videochat.core.rooms` (with
:mod:`~flask_videochat.core.calls` for call growth and 1:1 chat).

Every event is acknowledged (``docs/protocol.md``, sections "Rooms", "Growing a
call into a room" and "Chat"); a refused event changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core.calls import EndReason
from ..core.protocol import (
    CallAddPayload,
    ChatPayload,
    ErrorCode,
    ProtocolError,
    RoomInvitePayload,
    RoomJoinPayload,
    RoomMediaPayload,
    RoomPayload,
    RoomSignalPayload,
)
from ..core.rooms import (
    JOINED_ELSEWHERE,
    Departure,
    InviteEnded,
    JoinResult,
    LeaveReason,
    ResumedSeat,
)
from ..signals import call_ended, chat_message, notify, room_joined, room_left
from .base import NamespaceBase, acknowledged, current_sid, user_room

if TYPE_CHECKING:
    from ..core.presence import User


class RoomEvents(NamespaceBase):
    """Room, call growth and chat events of the namespace."""

    # -- rooms ------------------------------------------------------------------

    @acknowledged(RoomJoinPayload)
    def on_room_join(self, user: User, payload: RoomJoinPayload) -> dict[str, Any]:
        state = self.state
        if state.calls.is_busy(user.id):
            raise ProtocolError(
                ErrorCode.ALREADY_IN_CALL, "Hang up your call before joining a room."
            )
        if not state.can_join(user, payload.room):
            raise ProtocolError(ErrorCode.FORBIDDEN, "You are not allowed to join this room.")
        result = state.rooms.join(
            payload.room, user, current_sid(), mic=payload.mic, cam=payload.cam
        )
        self._gave_up(result)
        self._arrived(result)
        room = result.room
        return {
            "room": room.name,
            "capacity": room.capacity,
            # The joiner is the polite peer and makes the first offer to each.
            "members": [{**m.public(), "polite": True} for m in result.others],
            "history": [m.public() for m in room.history],
        }

    @acknowledged(RoomPayload)
    def on_room_leave(self, user: User, payload: RoomPayload) -> dict[str, Any]:
        self._departed(self.state.rooms.leave(payload.room, user.id, current_sid()))
        return {"room": payload.room}

    @acknowledged(RoomPayload)
    def on_room_resume(self, user: User, payload: RoomPayload) -> dict[str, Any]:
        """Take back a seat kept since this user's connection dropped: it moves to
        this connection and nobody else is told (their peer connections went on)."""
        sid = current_sid()
        resumed = self.state.rooms.resume(payload.room, user.id, sid)
        self._took_back(resumed)
        room = resumed.room
        return {
            "room": room.name,
            "capacity": room.capacity,
            "members": [{**m.public(), "polite": resumed.polite_toward(m)} for m in resumed.others],
            "history": [m.public() for m in room.history],
        }

    @acknowledged(RoomSignalPayload)
    def on_room_signal(self, user: User, payload: RoomSignalPayload) -> dict[str, Any]:
        target = self.state.rooms.relay_target(payload.room, user.id, current_sid(), payload.to)
        self._emit("room.signal", payload.relayed(user.id), to=target.sid)
        return {}

    @acknowledged(RoomMediaPayload)
    def on_room_media(self, user: User, payload: RoomMediaPayload) -> dict[str, Any]:
        member, others = self.state.rooms.set_media(
            payload.room,
            user.id,
            current_sid(),
            mic=payload.mic,
            cam=payload.cam,
            screen=payload.screen,
            rev=payload.rev,
        )
        message = {
            "room": payload.room,
            "id": user.id,
            "mic": member.mic,
            "cam": member.cam,
            "screen": member.screen,
            "rev": member.rev,
        }
        for other in others:
            self._emit("room.media", message, to=other.sid)
        return {}

    @acknowledged(RoomInvitePayload)
    def on_room_invite(self, user: User, payload: RoomInvitePayload) -> dict[str, Any]:
        sid = current_sid()
        self.state.rooms.check_invite(payload.room, user.id, sid, payload.to)
        invitee = self._invitable(user, payload.to, payload.room)
        return {
            "room": payload.room,
            "to": invitee.id,
            **self._ring(user, sid, invitee, payload.room),
        }

    @acknowledged(RoomPayload)
    def on_room_decline(self, user: User, payload: RoomPayload) -> dict[str, Any]:
        self._invite_ended(self.state.rooms.decline(payload.room, user.id))
        return {"room": payload.room}

    # -- growing a call -------------------------------------------------------------

    @acknowledged(CallAddPayload)
    def on_call_add(self, user: User, payload: CallAddPayload) -> dict[str, Any]:
        """Turn the active call into a private room of its two parties, then invite
        ``to``. Everything is checked before the call changes."""
        state = self.state
        sid = current_sid()
        call = state.calls.held_call(payload.call_id, user.id, sid, doing="People can be added")
        if payload.to == user.id:
            raise ProtocolError(ErrorCode.SELF_CALL, "You cannot invite yourself.")
        if call.has_party(payload.to):
            raise ProtocolError(ErrorCode.INVALID_STATE, "That person is in this call already.")
        if state.rooms.capacity <= 2:
            raise ProtocolError(
                ErrorCode.ROOM_FULL, f"This room is full ({state.rooms.capacity} people)."
            )
        peer_sid = call.sid_of(call.other(user.id))
        peer = state.presence.user_of(peer_sid) if peer_sid is not None else None
        if peer is None:
            raise ProtocolError(
                ErrorCode.INVALID_STATE, "The other person is reconnecting; try again soon."
            )
        name = state.rooms.private_name()
        invitee = self._invitable(user, payload.to, name)
        if not (state.can_join(user, name) and state.can_join(peer, name)):
            raise ProtocolError(ErrorCode.FORBIDDEN, "You are not allowed to start a room.")

        ended = state.calls.move_to_room(call.id, user.id, sid)
        caller, callee = (user, peer) if user.id == ended.caller_id else (peer, user)
        assert ended.callee_sid is not None
        parties = ((caller, ended.caller_sid), (callee, ended.callee_sid))
        seated = state.rooms.create_private(parties, list(ended.chat), name=name)
        for result in seated:
            self._gave_up(result)
        room = seated[-1].room
        app = self._app()
        notify(
            call_ended,
            app,
            call=ended,
            reason=EndReason.MOVED_TO_ROOM.value,
            duration=ended.duration,
        )
        for party, party_sid in parties:
            upgraded = {
                "call_id": ended.id,
                "room": room.name,
                "capacity": room.capacity,
                # Like room.join's ack: the other members (the other party).
                "members": [m.public() for m in room.others(party.id)],
                "history": [m.public() for m in room.history],
            }
            self._emit("call.upgraded", upgraded, to=party_sid)
        self._refresh_status(caller.id, callee.id)
        for member in room.members:
            notify(room_joined, app, room=room.name, user=member.user)
        # A party whose connection closed while the room was being made (its
        # disconnect handler ran before the seat existed) must not stay seated.
        for _, party_sid in parties:
            if state.presence.user_of(party_sid) is None:
                departure = state.rooms.drop_connection(party_sid)
                if departure is not None:
                    self._departed(departure)
        if state.presence.user_of(sid) is None:
            return {
                "call_id": ended.id,
                "room": room.name,
                "to": invitee.id,
                "state": "ended",
                "reason": "cancelled",
            }
        ringing = self._ring(user, sid, invitee, room.name)
        return {"call_id": ended.id, "room": room.name, "to": invitee.id, **ringing}

    # -- chat ------------------------------------------------------------------------

    @acknowledged(ChatPayload)
    def on_chat_send(self, user: User, payload: ChatPayload) -> dict[str, Any]:
        sid = current_sid()
        app = self._app()
        if payload.room is not None:
            message, members = self.state.rooms.chat(payload.room, user, sid, payload.text)
            relayed = {"room": payload.room, "message": message.public()}
            for member in members:
                self._emit("chat.message", relayed, to=member.sid)
            notify(chat_message, app, message=message, room=payload.room, call=None)
        else:
            assert payload.call_id is not None
            call, message = self.state.calls.chat(payload.call_id, user, sid, payload.text)
            relayed = {"call_id": call.id, "message": message.public()}
            for party_sid in (call.caller_sid, call.callee_sid):
                self._emit("chat.message", relayed, to=party_sid)
            notify(chat_message, app, message=message, room=None, call=call)
        return {"message": message.public()}

    # -- helpers ---------------------------------------------------------------------

    def _invitable(self, inviter: User, to: str, room: str) -> User:
        """The online user ``to``, when ``inviter`` may invite them into ``room``.

        :raises ProtocolError: ``ERR_USER_OFFLINE``; ``ERR_FORBIDDEN`` when the
            host's ``can_call`` or ``can_join`` refuses.
        """
        state = self.state
        invitee = state.presence.get(to)
        if invitee is None or not self._sees(inviter, invitee):
            raise ProtocolError(ErrorCode.USER_OFFLINE, "That person is not online.")
        if not (state.can_call(inviter, invitee) and state.can_join(invitee, room)):
            raise ProtocolError(ErrorCode.FORBIDDEN, "You are not allowed to invite this person.")
        return invitee

    def _ring(self, inviter: User, sid: str, invitee: User, room: str) -> dict[str, Any]:
        """Invite ``invitee`` into ``room`` (checks done): ring every tab of theirs
        for the ring timeout. Returns the ``state`` (and ``reason``) for the ack."""
        state = self.state
        busy = state.calls.is_busy(invitee.id)
        invite = state.rooms.invite(room, inviter, sid, invitee, busy=busy)
        if invite is None:
            return {"state": "ended", "reason": EndReason.BUSY.value}
        snapshot = state.rooms.get(room)
        timeout = state.settings.ring_timeout
        message = {
            "room": room,
            "from": inviter.public(),
            "members": len(snapshot.members) if snapshot is not None else 0,
            "ring_timeout": timeout,
        }
        self._emit("room.invite", message, to=user_room(invitee.id))
        self._refresh_status(invitee.id)
        self._later(timeout, self._invite_over, invite.id, invitee.id)
        return {"state": "ringing"}

    def _gave_up(self, result: JoinResult) -> None:
        """Announce what a join gave up: a seat on another connection or in another
        room, an invitation into another room."""
        displaced = result.displaced
        if displaced is not None:
            room, sid = displaced
            self._emit("room.left", {"room": room, "reason": JOINED_ELSEWHERE}, to=sid)
        if result.previous is not None:
            self._departed(result.previous)
        if result.dropped is not None:
            self._invite_ended(result.dropped)

    def _arrived(self, result: JoinResult) -> None:
        """Announce a new seat to the other members (and an answered invitation)."""
        room, member = result.room.name, result.member
        if result.replaced is not None:
            left = {"room": room, "id": member.id, "reason": LeaveReason.REPLACED.value}
            for other in result.others:
                self._emit("room.member_left", left, to=other.sid)
        # Each other member is the impolite side and answers the newcomer's offer.
        joined = {"room": room, "member": member.public(), "polite": False}
        for other in result.others:
            self._emit("room.member_joined", joined, to=other.sid)
        if result.answered is not None:
            self._invite_ended(result.answered)
        self._refresh_status(member.id)
        if result.replaced is None:
            notify(room_joined, self._app(), room=room, user=member.user)

    def _departed(self, departure: Departure) -> None:
        """Announce a lost seat to the members left (or, when the room emptied, end
        its invitations)."""
        room, member = departure.room.name, departure.member
        left = {"room": room, "id": member.id, "reason": departure.reason.value}
        # Statuses first: whoever hears of the departure finds presence saying so.
        self._refresh_status(member.id, *(invite.user.id for invite in departure.cancelled))
        for other in departure.room.members:
            self._emit("room.member_left", left, to=other.sid)
        for invite in departure.cancelled:
            ended = {"room": room, "id": invite.user.id, "reason": "cancelled"}
            self._emit("room.invite_ended", ended, to=user_room(invite.user.id))
        notify(room_left, self._app(), room=room, user=member.user, reason=left["reason"])

    def _invite_ended(self, ended: InviteEnded) -> None:
        """Tell the room's members and every tab of the invitee."""
        invitee = ended.invite.user.id
        message = {"room": ended.invite.room, "id": invitee, "reason": ended.reason.value}
        self._refresh_status(invitee)  # first, as in _departed
        for member in ended.members:
            self._emit("room.invite_ended", message, to=member.sid)
        self._emit("room.invite_ended", message, to=user_room(invitee))

    def _seat_over(self, room: str, user_id: str, sid: str) -> None:
        """The reconnect grace of a seat kept on closed connection ``sid`` is over:
        it is lost unless it was taken back meanwhile."""
        departure = self.state.rooms.drop_seat(room, user_id, sid)
        if departure is not None:
            self._departed(departure)

    def _invite_over(self, invite_id: str, user_id: str) -> None:
        """The ring timeout of an invitation ran out."""
        ended = self.state.rooms.expire_invite(invite_id, user_id)
        if ended is not None:
            self._invite_ended(ended)

    def _took_back(self, resumed: ResumedSeat) -> None:
        """A seat was resumed on a new connection: the old one, when the server
        still thinks it open (another tab, or a dead network not noticed yet), is
        told it lost the seat, as a join elsewhere would tell it."""
        old, new = resumed.previous.sid, resumed.member.sid
        if old != new and self.state.presence.user_of(old) is not None:
            left = {"room": resumed.room.name, "reason": JOINED_ELSEWHERE}
            self._emit("room.left", left, to=old)
        self._refresh_status(resumed.member.id)

    def _drop_connection(self, sid: str, user_id: str, *, last: bool) -> None:
        """Connection ``sid`` closed: its seat is kept for the reconnect grace (lost
        at once without one); when it was the user's last connection, their pending
        invitation ends at once."""
        state = self.state
        grace = state.settings.reconnect_grace
        kept = state.rooms.seat_on(sid) if grace > 0 else None
        if kept is not None:
            self._later(grace, self._seat_over, kept[0], user_id, sid)
        else:
            departure = state.rooms.drop_connection(sid)
            if departure is not None:
                self._departed(departure)
        if last:
            ended = self.state.rooms.drop_invite(user_id)
            if ended is not None:
                self._invite_ended(ended)
