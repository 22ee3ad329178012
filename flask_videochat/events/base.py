"""What every handler of the ``/videochat`` namespace shares: the
:func:`acknowledged` decorator (validation, identity, error acknowledgements), the
Socket.IO room of a user, emitting, timers and presence status.

:class:`~flask_videochat.events.namespace.VideoChatNamespace` is built on
:class:`NamespaceBase` (through :class:`~flask_videochat.events.rooms.RoomEvents`).
"""

from __future__ import annotations

import functools
import logging
from collections import deque
from typing import TYPE_CHECKING, Any, Callable

from flask import current_app, request
from flask_socketio import ConnectionRefusedError, Namespace

from ..core.presence import Status, User
from ..core.protocol import NAMESPACE, ErrorCode, Payload, ProtocolError, error_ack, parse
from ..core.ratelimit import check_size
from ..core.text import display_name
from .presence_feed import PresenceFeed
from .transport import OncePerMinuteLog

if TYPE_CHECKING:
    from flask import Flask

    from ..config import Settings
    from ..core.ordering import ConnectionQueue
    from ..core.ratelimit import Budget
    from ..state import VideoChatState

log = logging.getLogger("flask_videochat")


UNAUTHENTICATED_MESSAGE = "Sign in to make video calls."

#: Presence statuses from the least to the most engaged: a user's status is the
#: most engaged of what their calls and rooms give them.
_ENGAGEMENT = (Status.AVAILABLE, Status.RINGING, Status.IN_ROOM, Status.IN_CALL)


def current_sid() -> str:
    """The Socket.IO session id of the connection being handled (Flask-SocketIO
    sets ``request.sid``, which Flask's type hints do not know)."""
    return request.sid  # type: ignore[attr-defined,no-any-return]


def user_room(user_id: str) -> str:
    """The Socket.IO room holding every connection of one user."""
    return f"videochat:user:{user_id}"


Handler = Callable[[Any, User, Any], "dict[str, Any]"]
#: A handler of an event's raw arguments: ``handler(namespace, user, args)``.
RawHandler = Callable[[Any, User, "tuple[Any, ...]"], "dict[str, Any]"]

FORBIDDEN_ORIGIN_MESSAGE = "Video calls cannot be opened from a page of another site."

#: At most one line a minute about refused origins (a client may try at will).
_origin_log = OncePerMinuteLog(log)


def check_origin(settings: Settings) -> None:
    """Refuse a connection opened by a page of a site that may not connect
    (``VIDEOCHAT_ALLOWED_ORIGINS``): another site's page could otherwise connect with
    the browser's cookies, as the signed-in user (cross-site WebSocket hijacking).
    A connection without an ``Origin`` header is not a browser's, and passes.

    :raises ConnectionRefusedError: with data ``{"code": "ERR_FORBIDDEN_ORIGIN",
        "message"}``.
    """
    origin = request.headers.get("Origin")
    if settings.origin_allowed(origin, request.host_url):
        return
    _origin_log.warning("videochat: refused a connection from origin %.200r", origin)
    raise ConnectionRefusedError(
        FORBIDDEN_ORIGIN_MESSAGE,
        {"code": ErrorCode.FORBIDDEN_ORIGIN.value, "message": FORBIDDEN_ORIGIN_MESSAGE},
    )


#: A connection refused more than this many events within
#: :data:`REFUSAL_WINDOW` seconds is closed: it keeps sending past its limits (the
#: widget waits for ``retry_after`` and sends a few refused events at most).
MAX_REFUSALS = 100
#: Seconds over which :data:`MAX_REFUSALS` counts.
REFUSAL_WINDOW = 10.0


class Connection:
    """What the namespace keeps of one open connection, in the process serving it:
    its user, identified once when it connected (a sign-out disconnects it), the
    queue that runs its events in order, its rate-limit budget, and the times of
    its recent refusals.

    :param budget: ``None`` without rate limits.
    """

    __slots__ = ("budget", "queue", "refusals", "sid", "user")

    def __init__(
        self, sid: str, user: User, queue: ConnectionQueue, budget: Budget | None
    ) -> None:
        self.sid = sid
        self.user = user
        self.queue = queue
        self.budget = budget
        self.refusals: deque[float] = deque()

    def refused(self, now: float) -> bool:
        """Note a refused event at ``now`` (seconds, monotonic); whether the
        connection has now been refused more than :data:`MAX_REFUSALS` events within
        :data:`REFUSAL_WINDOW` seconds."""
        refusals = self.refusals
        refusals.append(now)
        while refusals[0] <= now - REFUSAL_WINDOW:
            refusals.popleft()
        return len(refusals) > MAX_REFUSALS


def admit(settings: Settings, connection: Connection, key: str, args: tuple[Any, ...]) -> None:
    """The checks every event passes as soon as it arrives, before any other work
    (no Flask context, no session, no store): the rate limit of its connection, then
    of its user, then the size of its payload. A refused event has done nothing else.

    :param key: what the event is counted as (``call_invite``, ``unknown_event``).
    :raises ProtocolError: ``ERR_RATE_LIMITED`` (a
        :class:`~flask_videochat.core.ratelimit.RateLimitedError`), ``ERR_TOO_LARGE``.
    """
    limiter = settings.rate_limiter
    if limiter is not None and connection.budget is not None:
        connection.budget.hit(key)
        limiter.hit_user(key, connection.user.id)
    check_size(args, max_bytes=settings.max_message_size)


def _answering(name: str, run: RawHandler) -> Callable[..., dict[str, Any]]:
    """``run`` as the connection's user (the events were admitted on arrival:
    :func:`admit`), its result or any error turned into an acknowledgement."""

    def wrapper(self: NamespaceBase, *args: Any) -> dict[str, Any]:
        try:
            connection = self.connections.get(current_sid())
            if connection is None:
                raise ProtocolError(ErrorCode.UNAUTHENTICATED, UNAUTHENTICATED_MESSAGE)
            return {"ok": True, **run(self, connection.user, args)}
        except ProtocolError as exc:
            return exc.ack()
        except Exception:
            log.exception("videochat: %s handler failed", name)
            return error_ack(ErrorCode.INTERNAL, "Something went wrong on the server.")

    return wrapper


def acknowledged(schema: type[Payload]) -> Callable[[Handler], Callable[..., dict[str, Any]]]:
    """Wrap a handler: validate the event's one payload against ``schema``, run it as
    the connection's user, and turn its result or any error into an acknowledgement
    (rate limits and size were checked when it arrived: :func:`admit`)."""

    def decorate(handler: Handler) -> Callable[..., dict[str, Any]]:
        def run(self: NamespaceBase, user: User, args: tuple[Any, ...]) -> dict[str, Any]:
            if len(args) != 1:
                raise ProtocolError(ErrorCode.INVALID_PAYLOAD, "Send exactly one payload object.")
            return handler(self, user, parse(schema, args[0]))

        return functools.wraps(handler)(_answering(handler.__name__, run))

    return decorate


def screened(handler: RawHandler) -> Callable[..., dict[str, Any]]:
    """Like :func:`acknowledged` for a handler of any arguments, unvalidated:
    ``handler(self, user, args)`` (the unknown events)."""
    return functools.wraps(handler)(_answering(handler.__name__, handler))


class NamespaceBase(Namespace):
    """The namespace ``/videochat`` of one app, without its handlers.

    :param state: the app's :class:`~flask_videochat.extension.VideoChatState`.
    """

    def __init__(self, state: VideoChatState) -> None:
        super().__init__(NAMESPACE)
        self.state = state
        #: The open connections this process serves, by sid.
        self.connections: dict[str, Connection] = {}
        self.presence_feed = PresenceFeed(state, self._emit, user_room)

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
        if user is not None:
            return user.public()
        # Offline: the id stands for the name, cleaned as names are.
        return {"id": user_id, "name": display_name(None, user_id)}

    def _sees(self, viewer: User, user: User) -> bool:
        """The host's ``can_see(viewer, user)``; a hook that raises hides ``user``
        (logged), so a broken hook shows less, never more, and breaks nothing."""
        try:
            return self.state.can_see(viewer, user)
        except Exception:
            log.exception("videochat: the can_see hook failed")
            return False

    def _status_of(self, user_id: str) -> Status:
        """A user's presence status from their calls and rooms together: ``in_call``
        in an answered call, ``in_room`` in a room, ``ringing`` while a call or room invitation
        rings, else ``available``."""
        state = self.state
        statuses = (state.calls.status_of(user_id), state.rooms.status_of(user_id))
        return max(statuses, key=_ENGAGEMENT.index)

    def _refresh_status(self, *user_ids: str) -> None:
        """Publish the status of each user; a change goes out in the next
        ``presence.changes``."""
        for user_id in user_ids:
            status = self._status_of(user_id)
            if self.state.presence.set_status(user_id, status):
                self.presence_feed.changed(self._app(), user_id)

    def _later(self, delay: float, fn: Callable[..., None], *args: Any) -> None:
        """Run ``fn(*args)`` in the app context after ``delay`` seconds, in a
        Socket.IO background task (a green thread under eventlet, a thread under
        threading)."""
        app = self._app()

        def run() -> None:
            if delay > 0:
                self.socketio.sleep(delay)
            if self.state.store.closed:
                return
            try:
                with app.app_context():
                    fn(*args)
            except Exception:
                log.exception("videochat: timer %s failed", fn.__name__)

        if delay > 0:
            self.socketio.start_background_task(run)
        else:
            run()
