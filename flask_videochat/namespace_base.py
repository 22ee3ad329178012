"""What every handler of the ``/videochat`` namespace shares: the
:func:`acknowledged` decorator (validation, identity, error acknowledgements), the
Socket.IO room of a user, emitting, timers and presence status.

:class:`~flask_videochat.namespace.VideoChatNamespace` is built on
:class:`NamespaceBase` (through :class:`~flask_videochat.namespace_rooms.RoomEvents`).
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any, Callable

from flask import current_app, request
from flask_socketio import Namespace

from .presence import Status, User
from .protocol import ErrorCode, Payload, ProtocolError, error_ack, parse

if TYPE_CHECKING:
    from flask import Flask

    from .extension import VideoChatState

log = logging.getLogger("flask_videochat")

#: The Socket.IO namespace the extension serves.
NAMESPACE = "/videochat"

UNAUTHENTICATED_MESSAGE = "Sign in to make video calls."

#: Presence statuses from the least to the most engaged: a user's status is the
#: most engaged of what their calls and rooms give them.
_ENGAGEMENT = (Status.AVAILABLE, Status.RINGING, Status.IN_CALL)


def current_sid() -> str:
    """The Socket.IO session id of the connection being handled (Flask-SocketIO
    sets ``request.sid``, which Flask's type hints do not know)."""
    return request.sid  # type: ignore[attr-defined,no-any-return]


def user_room(user_id: str) -> str:
    """The Socket.IO room holding every connection of one user."""
    return f"videochat:user:{user_id}"


Handler = Callable[[Any, User, Any], "dict[str, Any]"]


def acknowledged(schema: type[Payload]) -> Callable[[Handler], Callable[..., dict[str, Any]]]:
    """Wrap a handler: validate its one payload against ``schema``, run it as the
    connection's user, and turn its result or any error into an acknowledgement."""

    def decorate(handler: Handler) -> Callable[..., dict[str, Any]]:
        @functools.wraps(handler)
        def wrapper(self: NamespaceBase, *args: Any) -> dict[str, Any]:
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


class NamespaceBase(Namespace):
    """The namespace ``/videochat`` of one app, without its handlers.

    :param state: the app's :class:`~flask_videochat.extension.VideoChatState`.
    """

    def __init__(self, state: VideoChatState) -> None:
        super().__init__(NAMESPACE)
        self.state = state

    def _emit(
        self,
        event: str,
        data: dict[str, Any],
        *,
        to: str | None = None,
        skip_sid: str | None = None,
    ) -> None:
        self.socketio.emit(event, data, to=to, namespace=NAMESPACE, skip_sid=skip_sid)

    @staticmethod
    def _app() -> Flask:
        """The app being served (the sender of host signals)."""
        return current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]

    def _public(self, user_id: str) -> dict[str, str]:
        user = self.state.presence.get(user_id)
        return user.public() if user is not None else {"id": user_id, "name": user_id}

    def _status_of(self, user_id: str) -> Status:
        """A user's presence status from their calls and rooms together: ``in_call``
        in an answered call or a room, ``ringing`` while a call or room invitation
        rings, else ``available``."""
        state = self.state
        statuses = (state.calls.status_of(user_id), state.rooms.status_of(user_id))
        return max(statuses, key=_ENGAGEMENT.index)

    def _refresh_status(self, *user_ids: str) -> None:
        """Publish the status of each user, broadcasting ``presence.status`` when it
        changed."""
        for user_id in user_ids:
            status = self._status_of(user_id)
            if self.state.presence.set_status(user_id, status):
                self._emit("presence.status", {"id": user_id, "status": status.value})

    def _later(self, delay: float, fn: Callable[..., None], *args: Any) -> None:
        """Run ``fn(*args)`` in the app context after ``delay`` seconds, in a
        Socket.IO background task (a green thread under eventlet, a thread under
        threading)."""
        app = self._app()

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
