"""The Socket.IO namespace ``/videochat``: the thin adapter between Socket.IO and the
plain-Python state in :mod:`~flask_videochat.presence`, :mod:`~flask_videochat.calls`
and :mod:`~flask_videochat.rooms`.

This module has the connection lifecycle, event dispatch and the 1:1 call events;
the room, call growth and chat events are in :mod:`~flask_videochat.namespace_rooms`.
Every client event is answered with an acknowledgement (``docs/protocol.md``); no
exception escapes a handler.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from flask_socketio import ConnectionRefusedError, join_room

from . import signals
from .call_resume import CallEndedError, Claim
from .calls import ANSWERED_ELSEWHERE, Call, CallState, EndReason
from .namespace_base import (
    MAX_REFUSALS,
    NAMESPACE,
    REFUSAL_WINDOW,
    UNAUTHENTICATED_MESSAGE,
    Connection,
    acknowledged,
    admit,
    check_origin,
    current_sid,
    screened,
    user_room,
)
from .namespace_rooms import RoomEvents
from .ordering import MAX_SEQ, ConnectionClosed, ConnectionQueue, parse_seq
from .presence import Status, User
from .protocol import (
    MAX_CANDIDATE_LENGTH,
    MAX_CHAT_LENGTH,
    MAX_SDP_LENGTH,
    PROTOCOL_VERSION,
    CallIdPayload,
    CallMediaPayload,
    CallResumePayload,
    ErrorCode,
    HangupPayload,
    InvitePayload,
    PingPayload,
    ProtocolError,
    SignalPayload,
)
from .ratelimit import CONNECT, RateLimitedError
from .signals import notify
from .transport import OncePerMinuteLog, harden

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["EVENTS", "NAMESPACE", "VideoChatNamespace", "current_sid", "user_room"]

log = logging.getLogger("flask_videochat")

#: At most one line a minute about closing connections that flood (one client
#: must not be able to fill the host's logs).
_abusive_log = OncePerMinuteLog(log)

#: Protocol event names and the handler methods serving them.
EVENTS: dict[str, str] = {
    "call.invite": "call_invite",
    "call.accept": "call_accept",
    "call.decline": "call_decline",
    "call.cancel": "call_cancel",
    "call.hangup": "call_hangup",
    "call.media": "call_media",
    "call.resume": "call_resume",
    "call.add": "call_add",
    "signal": "signal",
    "room.join": "room_join",
    "room.leave": "room_leave",
    "room.resume": "room_resume",
    "room.signal": "room_signal",
    "room.media": "room_media",
    "room.invite": "room_invite",
    "room.decline": "room_decline",
    "chat.send": "chat_send",
    "ping": "ping",
}


class VideoChatNamespace(RoomEvents):
    """Presence, call control, rooms, chat and signaling relay for one app.

    :param state: the app's :class:`~flask_videochat.extension.VideoChatState`.
    """

    _heartbeat_started = False

    # -- dispatch ---------------------------------------------------------------

    def trigger_event(self, event: str, *args: Any) -> Any:
        """Route protocol events (``call.invite``...) to ``on_call_invite``...;
        unknown events get ``ERR_UNKNOWN_EVENT``.

        python-socketio also hands over *client* events named ``connect`` or
        ``disconnect``; they must not run the lifecycle handlers (a client could fake
        leaving). The real ones are told apart by the connection's state: a real
        ``connect`` comes for a connection not yet in presence, a real ``disconnect``
        while python-socketio marks the connection as disconnecting."""
        if event in ("connect", "disconnect") and args and self._lifecycle(event, args[0]):
            try:
                return super().trigger_event(event, *args)
            finally:
                if event == "disconnect":
                    self._forget_connection_record(args[0])
        # A hostile client may name its event with any JSON value, [] or {} too.
        name = EVENTS.get(event, "unknown_event") if isinstance(event, str) else "unknown_event"
        if not args:
            return super().trigger_event(name, *args)
        sid, rest = args[0], args[1:]
        connection = self.connections.get(sid)
        if connection is None:  # closed while this event was on its way
            return ConnectionClosed().ack()
        try:
            admit(self.state.settings, connection, name, rest)
        except ProtocolError as exc:  # over a rate limit, or too large
            self._refused(connection, rest)
            return exc.ack()
        return self._in_order(connection, name, rest)

    # -- order ------------------------------------------------------------------

    def _in_order(self, connection: Connection, name: str, args: tuple[Any, ...]) -> Any:
        """Handle event ``name`` of ``connection`` after every event the client
        numbered before it (its payload's ``seq``, taken out here), one handler at a
        time per connection (:mod:`~flask_videochat.ordering`)."""
        seq = None
        sid = connection.sid
        handle = super().trigger_event
        try:
            if args and isinstance(args[0], dict) and "seq" in args[0]:
                payload = dict(args[0])
                seq = parse_seq(payload.pop("seq"))
                args = (payload, *args[1:])
            elif name == "ping":
                # A liveness probe without a number is answered at once, outside the
                # order: it changes nothing, and must not wait behind a slow handler.
                return handle(name, sid, *args)
            return connection.queue.run(seq, lambda: handle(name, sid, *args))
        except ProtocolError as exc:
            return exc.ack()

    def _refused(self, connection: Connection, args: tuple[Any, ...]) -> None:
        """An event of ``connection`` was refused on arrival: its number is passed
        over (nothing waits for it), and a connection that keeps sending past its
        limits is closed."""
        payload = args[0] if args else None
        if isinstance(payload, dict):
            seq = payload.get("seq")
            if type(seq) is int and 1 <= seq <= MAX_SEQ:
                connection.queue.pass_over(seq)
        if connection.refused(time.monotonic()) and self.connections.pop(connection.sid, None):
            self._close_abusive(connection)

    def _close_abusive(self, connection: Connection) -> None:
        """Close the whole connection (its Engine.IO transport too, so that what it
        still sends is not read), logged at most once a minute."""
        _abusive_log.warning(
            "videochat: closed a connection of user %.80r that kept sending past its "
            "rate limits (%d refused events in %d s)",
            connection.user.id, MAX_REFUSALS, REFUSAL_WINDOW,
        )
        connection.queue.close()
        server = self.server
        eio_sid = server.manager.eio_sid_from_sid(connection.sid, self.namespace)
        try:
            server.disconnect(connection.sid, namespace=self.namespace)
            if eio_sid is not None and eio_sid in server.eio.sockets:
                server.eio.disconnect(eio_sid)
        except Exception:  # already closing
            log.debug("videochat: closing %s failed", connection.sid, exc_info=True)

    def _forget_connection_record(self, sid: str) -> None:
        """The connection closed: its waiting events are dropped (unhandled)."""
        connection = self.connections.pop(sid, None)
        if connection is not None:
            connection.queue.close()

    def _lifecycle(self, event: str, sid: str) -> bool:
        if event == "connect":
            return sid not in self.connections
        return not self.server.manager.is_connected(sid, self.namespace)

    @screened
    def on_unknown_event(self, user: User, args: tuple[Any, ...]) -> dict[str, Any]:
        """Refuse an event that is not in :data:`EVENTS`, after the same rate limits
        (all unknown events share one budget) and size cap as the others."""
        raise ProtocolError(ErrorCode.UNKNOWN_EVENT, "This event is not part of the protocol.")

    # -- connection ---------------------------------------------------------------

    def on_connect(self, auth: Any = None) -> None:
        """Identify the person from the host's session; refuse strangers, and pages
        of other sites (before asking who it is).

        :raises ConnectionRefusedError: with data ``{"code": "ERR_FORBIDDEN_ORIGIN"}``
            or ``{"code": "ERR_UNAUTHENTICATED"}``.
        """
        state = self.state
        if state.settings.harden_transport:
            harden(self.socketio)  # once; in case SocketIO.init_app came after init_app
        check_origin(state.settings)
        try:
            user = state.identify()
        except Exception:
            log.exception("videochat: the identity loader failed")
            user = None
        if user is None:
            raise ConnectionRefusedError(
                UNAUTHENTICATED_MESSAGE,
                {"code": ErrorCode.UNAUTHENTICATED.value, "message": UNAUTHENTICATED_MESSAGE},
            )
        sid = current_sid()
        settings = state.settings
        limiter = settings.rate_limiter
        if limiter is not None:
            try:
                # Each connect costs a presence snapshot (all the people online).
                limiter.hit_user(CONNECT, user.id)
            except RateLimitedError as refused:
                raise ConnectionRefusedError(
                    refused.message,
                    {**refused.ack()["error"]},
                ) from None
        self.connections[sid] = Connection(
            sid,
            user,
            ConnectionQueue(self.server.eio.create_event),
            limiter.budget() if limiter is not None else None,
        )
        try:
            first = state.presence.connect(sid, user)
        except BaseException:
            self._forget_connection_record(sid)
            raise
        join_room(user_room(user.id))
        self._emit(
            "hello",
            {
                "protocol": PROTOCOL_VERSION,
                "self": user.public(),
                # TURN credentials are minted for this connection: a reconnect gets
                # fresh ones.
                "ice_servers": settings.ice_servers_for(user.id),
                "ice_transport_policy": settings.ice_transport_policy,
                "ring_timeout": settings.ring_timeout,
                "reconnect_grace": settings.reconnect_grace,
                "room_capacity": settings.room_capacity,
                "limits": {
                    "sdp": MAX_SDP_LENGTH,
                    "candidate": MAX_CANDIDATE_LENGTH,
                    "chat": MAX_CHAT_LENGTH,
                },
            },
            to=sid,
        )
        if state.settings.presence:
            others = [
                {**u.public(), "status": status.value}
                for u, status in state.presence.users()
                if u.id != user.id and self._sees(user, u)
            ]
            self._emit("presence.snapshot", {"users": others}, to=sid)
        # A call still ringing for this user rings on this connection too (a tab
        # opened, or one reconnected, while it rings).
        ringing = state.calls.live_call_of(user.id)
        if ringing is not None and ringing.state is CallState.RINGING and (
            ringing.callee_id == user.id
        ):
            self._emit("call.incoming", {
                "call_id": ringing.id,
                "from": self._public(ringing.caller_id),
                "ring_timeout": state.settings.ring_timeout,
            }, to=sid)
        if first:
            state.presence.set_status(user.id, self._status_of(user.id))
            self.presence_feed.changed(self._app(), user.id)

    def on_disconnect(self, reason: Any = None) -> None:
        """Forget the connection: calls it held end and its room seat is lost after
        the reconnect grace unless taken back (``call.resume``, ``room.resume``);
        with the user's last connection their pending room invitation ends at once.
        A claim it made after a server restart is forgotten."""
        sid = current_sid()
        user, last = self.state.presence.disconnect(sid)
        if user is not None:
            self._forget_connection(sid, user, last=last)

    def _forget_connection(self, sid: str, user: User, *, last: bool) -> None:
        """Connection ``sid`` of ``user`` is gone (closed here, or owned by a process
        that died): what :meth:`on_disconnect` says."""
        state = self.state
        self._drop_connection(sid, user.id, last=last)
        if state.calls.drop_claim(user.id, sid) is not None:
            self._refresh_status(user.id)
        held = state.calls.calls_on_connection(sid)
        ringing = state.calls.live_call_of(user.id)
        if last and ringing is not None and ringing.state is CallState.RINGING:
            held.append(ringing)
        for call in {c.id: c for c in held}.values():
            self._later(state.settings.reconnect_grace, self._grace_over, call.id, user.id, sid)
        if last:
            self.presence_feed.changed(self._app(), user.id, user)

    # -- shared store ---------------------------------------------------------------

    def start_heartbeat(self, app: Flask) -> None:
        """With a shared store, renew this process's lease and reap dead processes
        every ``heartbeat_interval`` seconds, in a Socket.IO background task (called
        by :meth:`~flask_videochat.VideoChat.init_app`; nothing for memory)."""
        store = self.state.store
        interval = store.heartbeat_interval
        if interval is None or self._heartbeat_started:
            return
        self._heartbeat_started = True

        def beat() -> None:
            down = False
            while not store.closed:
                self.socketio.sleep(interval)
                if store.closed:
                    break
                try:
                    with app.app_context():
                        reaped, revived = store.heartbeat()
                        for sid, user, last in reaped:
                            self._forget_connection(sid, user, last=last)
                        for user_id in revived:
                            self.presence_feed.changed(app, user_id)
                    if down:
                        log.warning("videochat: the store answers again")
                    down = False
                except Exception:
                    if not down:
                        log.exception("videochat: heartbeat failed (is the store down?)")
                    down = True

        self.socketio.start_background_task(beat)

    # -- call control ---------------------------------------------------------------

    @acknowledged(InvitePayload)
    def on_call_invite(self, user: User, payload: InvitePayload) -> dict[str, Any]:
        state = self.state
        if payload.to == user.id:
            raise ProtocolError(ErrorCode.SELF_CALL, "You cannot call yourself.")
        callee = state.presence.get(payload.to)
        if callee is None or not self._sees(user, callee):
            raise ProtocolError(ErrorCode.USER_OFFLINE, "That person is not online.")
        if not state.can_call(user, callee):
            raise ProtocolError(ErrorCode.FORBIDDEN, "You are not allowed to call this person.")
        if state.rooms.status_of(user.id) is not Status.AVAILABLE:
            raise ProtocolError(
                ErrorCode.ALREADY_IN_CALL,
                "Leave your room (or answer its invitation) before calling someone.",
            )
        callee_busy = state.rooms.status_of(callee.id) is not Status.AVAILABLE
        call = state.calls.invite(user.id, current_sid(), callee.id, callee_busy=callee_busy)
        app = self._app()
        notify(signals.call_started, app, call=call)
        if call.state is CallState.ENDED:
            assert call.reason is not None
            notify(signals.call_ended, app, call=call, reason=call.reason.value, duration=0.0)
            return {"call_id": call.id, "state": "ended", "reason": call.reason.value}
        self._emit(
            "call.incoming",
            {
                "call_id": call.id,
                "from": user.public(),
                "ring_timeout": state.settings.ring_timeout,
            },
            to=user_room(callee.id),
        )
        self._refresh_status(user.id, callee.id)
        self._later(state.settings.ring_timeout, self._ring_over, call.id)
        return {"call_id": call.id, "state": "ringing"}

    @acknowledged(CallIdPayload)
    def on_call_accept(self, user: User, payload: CallIdPayload) -> dict[str, Any]:
        sid = current_sid()
        call = self.state.calls.accept(payload.call_id, user.id, sid)
        self._emit(
            "call.ended",
            {"call_id": call.id, "reason": ANSWERED_ELSEWHERE},
            to=user_room(user.id),
            skip_sid=sid,
        )
        self._emit(
            "call.accepted",
            {"call_id": call.id, "peer": user.public(), "polite": False},
            to=call.caller_sid,
        )
        self._refresh_status(call.caller_id, call.callee_id)
        notify(signals.call_answered, self._app(), call=call)
        return {"call_id": call.id, "peer": self._public(call.caller_id), "polite": True}

    @acknowledged(CallIdPayload)
    def on_call_decline(self, user: User, payload: CallIdPayload) -> dict[str, Any]:
        self._ended(self.state.calls.decline(payload.call_id, user.id))
        return {"call_id": payload.call_id}

    @acknowledged(CallIdPayload)
    def on_call_cancel(self, user: User, payload: CallIdPayload) -> dict[str, Any]:
        self._ended(self.state.calls.cancel(payload.call_id, user.id))
        return {"call_id": payload.call_id}

    @acknowledged(HangupPayload)
    def on_call_hangup(self, user: User, payload: HangupPayload) -> dict[str, Any]:
        reason = EndReason.from_hangup(payload.reason)
        self._ended(self.state.calls.hangup(payload.call_id, user.id, current_sid(), reason=reason))
        return {"call_id": payload.call_id}

    @acknowledged(SignalPayload)
    def on_signal(self, user: User, payload: SignalPayload) -> dict[str, Any]:
        _, peer_sid = self.state.calls.relay_target(payload.call_id, user.id, current_sid())
        self._emit("signal", payload.relayed(user.id), to=peer_sid)
        return {}

    @acknowledged(PingPayload)
    def on_ping(self, user: User, payload: PingPayload) -> dict[str, Any]:
        """Answer a liveness check: the browser probes its connection when its media
        path breaks (the network may have changed under both)."""
        return {}

    @acknowledged(CallMediaPayload)
    def on_call_media(self, user: User, payload: CallMediaPayload) -> dict[str, Any]:
        _, peer_sid = self.state.calls.relay_target(payload.call_id, user.id, current_sid())
        self._emit("call.media", payload.relayed(user.id), to=peer_sid)
        return {}

    # -- resuming ---------------------------------------------------------------------

    @acknowledged(CallResumePayload)
    def on_call_resume(self, user: User, payload: CallResumePayload) -> dict[str, Any]:
        """Take a call back on this connection: rebind a live call, or (after a
        server restart) claim it until the peer claims it too.

        To anyone but its two parties a call id is unknown, and the answer depends
        on the sender's own state only, never on the peer's (online, hidden by
        ``can_see``, ringing, in a call or a room): see
        :meth:`~flask_videochat.calls.CallBook.resume`."""
        state = self.state
        sid = current_sid()
        busy = state.rooms.status_of(user.id) is not Status.AVAILABLE
        try:
            resumed = state.calls.resume(
                payload.call_id,
                user.id,
                sid,
                payload.peer,
                busy=busy,
                may_see=self._may_see,
                may_pair=self._may_pair,
            )
        except CallEndedError as gone:
            ended = {"call_id": payload.call_id, "reason": gone.reason.value}
            self._emit("call.ended", ended, to=sid)
            raise
        call = resumed.call
        if call is None:
            assert resumed.claim is not None
            self._later(state.calls.claim_window, self._claim_over, resumed.claim)
            self._refresh_status(user.id)
            return {"call_id": payload.call_id, "state": "pending"}
        if resumed.matched is not None:
            message = {"call_id": call.id, "peer": user.public()}
            self._emit("call.resumed", message, to=resumed.matched.sid)
            self._refresh_status(call.caller_id, call.callee_id)
        else:
            previous = resumed.previous_sid
            if previous not in (None, sid) and state.presence.user_of(previous) is not None:
                # The connection that held the call is still open for the server (a
                # dead network it has not noticed yet, or another tab): it is told.
                taken = {"call_id": call.id, "reason": ANSWERED_ELSEWHERE}
                self._emit("call.ended", taken, to=previous)
        return {"call_id": call.id, "state": "active", "peer": self._public(payload.peer)}

    # -- helpers ---------------------------------------------------------------

    def _ended(self, call: Call) -> None:
        """Tell every connection involved that ``call`` ended, and the host."""
        assert call.reason is not None
        message = {"call_id": call.id, "reason": call.reason.value}
        self._emit("call.ended", message, to=call.caller_sid)
        self._emit("call.ended", message, to=call.callee_sid or user_room(call.callee_id))
        self._refresh_status(call.caller_id, call.callee_id)
        notify(
            signals.call_ended,
            self._app(),
            call=call,
            reason=call.reason.value,
            duration=call.duration,
        )

    def _may_see(self, viewer_id: str, user_id: str) -> bool:
        """Whether ``user_id`` is online and the host's ``can_see`` shows them to
        ``viewer_id`` (also online): what ``call.invite`` asks before anything else."""
        state = self.state
        viewer, user = state.presence.get(viewer_id), state.presence.get(user_id)
        return viewer is not None and user is not None and self._sees(viewer, user)

    def _may_pair(self, caller_id: str, callee_id: str) -> bool:
        """Whether two claimants may have their call re-created: both online and the
        host's ``can_call`` allows a call between them, either way round (who
        called whom is lost with the server's memory)."""
        state = self.state
        caller, callee = state.presence.get(caller_id), state.presence.get(callee_id)
        if caller is None or callee is None:
            return False
        return state.can_call(caller, callee) or state.can_call(callee, caller)

    def _claim_over(self, claim: Claim) -> None:
        """The peer of ``claim`` never claimed the call: it ends for the claimant."""
        if self.state.calls.expire_claim(claim.user_id, claim.token) is None:
            return
        reason = EndReason.PEER_DISCONNECTED.value
        self._emit("call.ended", {"call_id": claim.call_id, "reason": reason}, to=claim.sid)
        self._refresh_status(claim.user_id)

    def _ring_over(self, call_id: str) -> None:
        call = self.state.calls.expire(call_id)
        if call is not None:
            self._ended(call)

    def _grace_over(self, call_id: str, user_id: str, sid: str) -> None:
        """End the call if ``user_id`` did not come back for it within the grace."""
        state = self.state
        call = state.calls.live_call_of(user_id)
        if call is None or call.id != call_id:
            return
        held_by = call.sid_of(user_id)
        gone = held_by == sid or (held_by is None and not state.presence.sids_of(user_id))
        if gone:
            ended = state.calls.party_gone(call_id, user_id)
            if ended is not None:
                self._ended(ended)
