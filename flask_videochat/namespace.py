"""The Socket.IO namespace ``/videochat``: the thin adapter between Socket.IO and the
plain-Python state in :mod:`~flask_videochat.presence` and :mod:`~flask_videochat.calls`.

Every client event is answered with an acknowledgement (``docs/protocol.md``); no
exception escapes a handler.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any, Callable

from flask import current_app, request
from flask_socketio import ConnectionRefusedError, Namespace, join_room

from . import signals
from .calls import ANSWERED_ELSEWHERE, Call, CallState
from .presence import User
from .protocol import (
    MAX_CANDIDATE_LENGTH,
    MAX_SDP_LENGTH,
    PROTOCOL_VERSION,
    CallIdPayload,
    ErrorCode,
    InvitePayload,
    Payload,
    ProtocolError,
    SignalPayload,
    error_ack,
    parse,
)
from .signals import notify

if TYPE_CHECKING:
    from flask import Flask

    from .extension import VideoChatState

log = logging.getLogger("flask_videochat")

#: The Socket.IO namespace the extension serves.
NAMESPACE = "/videochat"

#: Protocol event names and the handler methods serving them.
EVENTS: dict[str, str] = {
    "call.invite": "call_invite",
    "call.accept": "call_accept",
    "call.decline": "call_decline",
    "call.cancel": "call_cancel",
    "call.hangup": "call_hangup",
    "signal": "signal",
}

UNAUTHENTICATED_MESSAGE = "Sign in to make video calls."


def current_sid() -> str:
    """The Socket.IO session id of the connection being handled (Flask-SocketIO
    sets ``request.sid``, which Flask's type hints do not know)."""
    return request.sid  # type: ignore[attr-defined,no-any-return]


def user_room(user_id: str) -> str:
    """The Socket.IO room holding every connection of one user."""
    return f"videochat:user:{user_id}"


Handler = Callable[["VideoChatNamespace", User, Any], "dict[str, Any]"]


def acknowledged(schema: type[Payload]) -> Callable[[Handler], Callable[..., dict[str, Any]]]:
    """Wrap a handler: validate its one payload against ``schema``, run it as the
    connection's user, and turn its result or any error into an acknowledgement."""

    def decorate(handler: Handler) -> Callable[..., dict[str, Any]]:
        @functools.wraps(handler)
        def wrapper(self: VideoChatNamespace, *args: Any) -> dict[str, Any]:
            try:
                user = self.state.presence.user_of(current_sid())
                if user is None:
                    raise ProtocolError(ErrorCode.UNAUTHENTICATED, UNAUTHENTICATED_MESSAGE)
                if len(args) != 1:
                    raise ProtocolError(
                        ErrorCode.INVALID_PAYLOAD, "Send exactly one payload object."
                    )
                return {"ok": True, **handler(self, user, parse(schema, args[0]))}
            except ProtocolError as exc:
                return exc.ack()
            except Exception:
                log.exception("videochat: %s handler failed", handler.__name__)
                return error_ack(ErrorCode.INTERNAL, "Something went wrong on the server.")

        return wrapper

    return decorate


class VideoChatNamespace(Namespace):
    """Presence, call control and signaling relay for one app.

    :param state: the app's :class:`~flask_videochat.extension.VideoChatState`.
    """

    def __init__(self, state: VideoChatState) -> None:
        super().__init__(NAMESPACE)
        self.state = state

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
            return super().trigger_event(event, *args)
        return super().trigger_event(EVENTS.get(event, "unknown_event"), *args)

    def _lifecycle(self, event: str, sid: str) -> bool:
        if event == "connect":
            return self.state.presence.user_of(sid) is None
        return not self.server.manager.is_connected(sid, self.namespace)

    def on_unknown_event(self, *args: Any) -> dict[str, Any]:
        return error_ack(ErrorCode.UNKNOWN_EVENT, "This event is not part of the protocol.")

    def _emit(self, event: str, data: dict[str, Any], *, to: str | None = None,
              skip_sid: str | None = None) -> None:
        self.socketio.emit(event, data, to=to, namespace=NAMESPACE, skip_sid=skip_sid)

    # -- connection ---------------------------------------------------------------

    def on_connect(self, auth: Any = None) -> None:
        """Identify the person from the host's session; refuse strangers.

        :raises ConnectionRefusedError: with data ``{"code": "ERR_UNAUTHENTICATED"}``.
        """
        state = self.state
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
        first = state.presence.connect(sid, user)
        join_room(user_room(user.id))
        settings = state.settings
        self._emit("hello", {
            "protocol": PROTOCOL_VERSION,
            "self": user.public(),
            "ice_servers": [dict(s) for s in settings.ice_servers],
            "ring_timeout": settings.ring_timeout,
            "limits": {"sdp": MAX_SDP_LENGTH, "candidate": MAX_CANDIDATE_LENGTH},
        }, to=sid)
        others = [
            {**u.public(), "status": status.value}
            for u, status in state.presence.users()
            if u.id != user.id
        ]
        self._emit("presence.snapshot", {"users": others}, to=sid)
        if first:
            status = state.calls.status_of(user.id)
            state.presence.set_status(user.id, status)
            self._emit("presence.join", {"user": {**user.public(), "status": status.value}},
                       skip_sid=sid)

    def on_disconnect(self, reason: Any = None) -> None:
        """Forget the connection; calls it held end after the reconnect grace."""
        state = self.state
        sid = current_sid()
        user, last = state.presence.disconnect(sid)
        if user is None:
            return
        held = state.calls.calls_on_connection(sid)
        ringing = state.calls.live_call_of(user.id)
        if last and ringing is not None and ringing.state is CallState.RINGING:
            held.append(ringing)
        for call in {c.id: c for c in held}.values():
            self._later(state.settings.reconnect_grace, self._grace_over, call.id, user.id, sid)
        if last:
            self._emit("presence.leave", {"id": user.id})

    # -- call control ---------------------------------------------------------------

    @acknowledged(InvitePayload)
    def on_call_invite(self, user: User, payload: InvitePayload) -> dict[str, Any]:
        state = self.state
        if payload.to == user.id:
            raise ProtocolError(ErrorCode.SELF_CALL, "You cannot call yourself.")
        callee = state.presence.get(payload.to)
        if callee is None:
            raise ProtocolError(ErrorCode.USER_OFFLINE, "That person is not online.")
        if not state.can_call(user, callee):
            raise ProtocolError(ErrorCode.FORBIDDEN, "You are not allowed to call this person.")
        call = state.calls.invite(user.id, current_sid(), callee.id)
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        notify(signals.call_started, app, call=call)
        if call.state is CallState.ENDED:
            assert call.reason is not None
            notify(signals.call_ended, app, call=call, reason=call.reason.value, duration=0.0)
            return {"call_id": call.id, "state": "ended", "reason": call.reason.value}
        self._emit("call.incoming", {
            "call_id": call.id,
            "from": user.public(),
            "ring_timeout": state.settings.ring_timeout,
        }, to=user_room(callee.id))
        self._refresh_status(user.id, callee.id)
        self._later(state.settings.ring_timeout, self._ring_over, call.id)
        return {"call_id": call.id, "state": "ringing"}

    @acknowledged(CallIdPayload)
    def on_call_accept(self, user: User, payload: CallIdPayload) -> dict[str, Any]:
        sid = current_sid()
        call = self.state.calls.accept(payload.call_id, user.id, sid)
        self._emit("call.ended", {"call_id": call.id, "reason": ANSWERED_ELSEWHERE},
                   to=user_room(user.id), skip_sid=sid)
        self._emit("call.accepted", {"call_id": call.id, "peer": user.public(), "polite": False},
                   to=call.caller_sid)
        self._refresh_status(call.caller_id, call.callee_id)
        notify(signals.call_answered, current_app._get_current_object(), call=call)  # type: ignore[attr-defined]
        return {"call_id": call.id, "peer": self._public(call.caller_id), "polite": True}

    @acknowledged(CallIdPayload)
    def on_call_decline(self, user: User, payload: CallIdPayload) -> dict[str, Any]:
        self._ended(self.state.calls.decline(payload.call_id, user.id))
        return {"call_id": payload.call_id}

    @acknowledged(CallIdPayload)
    def on_call_cancel(self, user: User, payload: CallIdPayload) -> dict[str, Any]:
        self._ended(self.state.calls.cancel(payload.call_id, user.id))
        return {"call_id": payload.call_id}

    @acknowledged(CallIdPayload)
    def on_call_hangup(self, user: User, payload: CallIdPayload) -> dict[str, Any]:
        self._ended(self.state.calls.hangup(payload.call_id, user.id, current_sid()))
        return {"call_id": payload.call_id}

    @acknowledged(SignalPayload)
    def on_signal(self, user: User, payload: SignalPayload) -> dict[str, Any]:
        _, peer_sid = self.state.calls.relay_target(payload.call_id, user.id, current_sid())
        self._emit("signal", payload.relayed(user.id), to=peer_sid)
        return {}

    # -- helpers ---------------------------------------------------------------

    def _public(self, user_id: str) -> dict[str, str]:
        user = self.state.presence.get(user_id)
        return user.public() if user is not None else {"id": user_id, "name": user_id}

    def _ended(self, call: Call) -> None:
        """Tell every connection involved that ``call`` ended, and the host."""
        assert call.reason is not None
        message = {"call_id": call.id, "reason": call.reason.value}
        self._emit("call.ended", message, to=call.caller_sid)
        self._emit("call.ended", message, to=call.callee_sid or user_room(call.callee_id))
        self._refresh_status(call.caller_id, call.callee_id)
        notify(
            signals.call_ended, current_app._get_current_object(),  # type: ignore[attr-defined]
            call=call, reason=call.reason.value, duration=call.duration,
        )

    def _refresh_status(self, *user_ids: str) -> None:
        for user_id in user_ids:
            status = self.state.calls.status_of(user_id)
            if self.state.presence.set_status(user_id, status):
                self._emit("presence.status", {"id": user_id, "status": status.value})

    def _later(self, delay: float, fn: Callable[..., None], *args: Any) -> None:
        """Run ``fn(*args)`` in the app context after ``delay`` seconds, in a
        Socket.IO background task (a green thread under eventlet, a thread under
        threading)."""
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]

        def run() -> None:
            if delay > 0:
                self.socketio.sleep(delay)
            try:
                with app.app_context():
                    fn(*args)
            except Exception:
                log.exception("videochat: timer %s failed", fn.__name__)

        if delay > 0:
            self.socketio.start_background_task(run)
        else:
            run()

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
