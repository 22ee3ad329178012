"""The 1:1 call events of ``/videochat``: invite, accept, decline, cancel, hang up,
signal, media state, ping and resume, and the timers that end calls (ring timeout,
reconnect grace, a claim's window). Composed into
:class:`~flask_videochat.events.namespace.VideoChatNamespace`.
"""

from __future__ import annotations

from typing import Any

from ..core.call_values import CallEndedError, Claim
from ..core.calls import ANSWERED_ELSEWHERE, Call, CallState, EndReason
from ..core.presence import Status, User
from ..core.protocol import (
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
from ..signals import call_answered, call_ended, call_started, notify
from .base import NamespaceBase, acknowledged, current_sid, user_room


class CallEvents(NamespaceBase):
    """The handlers of the 1:1 call events."""

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
        notify(call_started, app, call=call)
        if call.state is CallState.ENDED:
            assert call.reason is not None
            notify(call_ended, app, call=call, reason=call.reason.value, duration=0.0)
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
        notify(call_answered, self._app(), call=call)
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
        :meth:`~flask_videochat.core.calls.CallBook.resume`."""
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
        """Tell every connection involved that ``call`` ended, and the host. The
        parties' statuses are published first: whoever hears of the end finds
        presence already saying so."""
        assert call.reason is not None
        message = {"call_id": call.id, "reason": call.reason.value}
        self._refresh_status(call.caller_id, call.callee_id)
        self._emit("call.ended", message, to=call.caller_sid)
        self._emit("call.ended", message, to=call.callee_sid or user_room(call.callee_id))
        notify(
            call_ended,
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
        self._refresh_status(claim.user_id)
        self._emit("call.ended", {"call_id": claim.call_id, "reason": reason}, to=claim.sid)

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
