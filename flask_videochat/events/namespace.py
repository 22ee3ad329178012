"""The Socket.IO namespace ``/videochat``: the thin adapter between Socket.IO and the
plain-Python state in :mod:`~flask_videochat.core.presence`, :mod:`~flask_videochat.core.calls`
and :mod:`~flask_videochat.core.rooms`.

This module has the connection lifecycle, event dispatch and the 1:1 call events;
the room, call growth and chat events are in :mod:`~flask_videochat.events.rooms`.
Every client event is answered with an acknowledgement (``docs/protocol.md``); no
exception escapes a handler.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from flask_socketio import ConnectionRefusedError, join_room

from ..core.calls import CallState
from ..core.ordering import MAX_SEQ, ConnectionClosed, ConnectionQueue, parse_seq
from ..core.presence import User
from ..core.protocol import (
    EVENTS,
    MAX_CANDIDATE_LENGTH,
    MAX_CHAT_LENGTH,
    MAX_SDP_LENGTH,
    PROTOCOL_VERSION,
    ErrorCode,
    ProtocolError,
)
from ..core.ratelimit import CONNECT, RateLimitedError
from .base import (
    MAX_REFUSALS,
    REFUSAL_WINDOW,
    UNAUTHENTICATED_MESSAGE,
    Connection,
    admit,
    check_origin,
    current_sid,
    screened,
    user_room,
)
from .calls import CallEvents
from .presence_feed import callable_by
from .rooms import RoomEvents
from .transport import OncePerMinuteLog, harden

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["VideoChatNamespace"]

log = logging.getLogger("flask_videochat")

#: At most one line a minute about closing connections that flood (one client
#: must not be able to fill the host's logs).
_abusive_log = OncePerMinuteLog(log)



class VideoChatNamespace(CallEvents, RoomEvents):
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
        time per connection (:mod:`~flask_videochat.core.ordering`)."""
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
                | ({"callable": callable_by(state, user, u)} if state.has_can_call else {})
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
