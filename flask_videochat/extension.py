"""The :class:`VideoChat` Flask extension: the one init call."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app
from flask_socketio import SocketIO
from markupsafe import Markup

from .config import DEFAULTS, Settings
from .core.protocol import NAMESPACE
from .core.text import MAX_NAME_LENGTH
from .events.namespace import VideoChatNamespace
from .events.transport import harden
from .state import CanCall, CanJoin, CanSee, Hooks, Identity, IdentityLoader, VideoChatState
from .web import i18n
from .web.blueprint import assets_markup, blueprint, widget_markup

__all__ = ["MAX_NAME_LENGTH", "VideoChat", "VideoChatState"]

log = logging.getLogger("flask_videochat")

class VideoChat:
    """Browser-to-browser video calls for a Flask app.

    :param app: the Flask app; when given, :meth:`init_app` is called at once.
    :param socketio: the host's :class:`flask_socketio.SocketIO`; by default the one
        in ``app.extensions["socketio"]``.
    :param options: defaults for the ``VIDEOCHAT_*`` config keys, in lower case
        without the prefix (``ring_timeout=20``); the app's config wins.
    :raises TypeError: an unknown option.

    Example::

        app = Flask(__name__)
        socketio = SocketIO(app)
        videochat = VideoChat(app, socketio)

        @videochat.identity_loader
        def load_identity():
            user = get_signed_in_user()
            return None if user is None else (user.id, user.full_name)
    """

    def __init__(
        self, app: Flask | None = None, socketio: SocketIO | None = None, **options: Any
    ) -> None:
        unknown = {f"VIDEOCHAT_{k.upper()}" for k in options} - DEFAULTS.keys()
        if unknown:
            raise TypeError(
                f"Unknown VideoChat option(s): {', '.join(sorted(unknown))}; known: "
                + ", ".join(k[len("VIDEOCHAT_") :].lower() for k in DEFAULTS)
            )
        self._defaults = {**DEFAULTS, **{f"VIDEOCHAT_{k.upper()}": v for k, v in options.items()}}
        self._ice_chosen = "ice_servers" in options
        self._hooks = Hooks()
        if app is not None:
            self.init_app(app, socketio)

    def init_app(self, app: Flask, socketio: SocketIO | None = None) -> None:
        """Register the extension on ``app``.

        Reads ``VIDEOCHAT_RING_TIMEOUT``, ``VIDEOCHAT_ICE_SERVERS`` (logs a warning
        when it is left unset outside debug and testing and there is no TURN; a
        list the host sets, even ``[]``, is on purpose),
        ``VIDEOCHAT_RECONNECT_GRACE``, ``VIDEOCHAT_ALLOW_ANONYMOUS``,
        ``VIDEOCHAT_SIGN_IN_URL``, ``VIDEOCHAT_ROOM_CAPACITY`` and
        ``VIDEOCHAT_CHAT_HISTORY``, and the abuse limits ``VIDEOCHAT_ALLOWED_ORIGINS``,
        ``VIDEOCHAT_RATE_LIMITS``, ``VIDEOCHAT_RATE_LIMITS_PER_USER``,
        ``VIDEOCHAT_RATE_LIMIT_STORAGE``, ``VIDEOCHAT_MAX_MESSAGE_SIZE`` and
        ``VIDEOCHAT_HARDEN_TRANSPORT``, ``VIDEOCHAT_CSP_NONCE``, and the widget's words
        ``VIDEOCHAT_LOCALE`` and ``VIDEOCHAT_TRANSLATIONS`` (see
        ``docs/configuration.md``); registers the blueprint under ``/videochat``
        (static files and the room page ``/videochat/rooms/<name>``), the Socket.IO
        namespace ``/videochat`` and the Jinja global ``videochat``. When Flask-Login
        is installed, its ``user_logged_out`` signal disconnects the user who signs
        out (:meth:`disconnect_user`).

        :raises RuntimeError: the app already has VideoChat, or there is no SocketIO
            (pass it, or create ``SocketIO(app)`` first).
        :raises ValueError: a ``VIDEOCHAT_*`` key has a bad value.
        """
        if "videochat" in app.extensions:
            raise RuntimeError(
                "VideoChat is already registered on this app; call init_app once per app."
            )
        socketio = socketio or app.extensions.get("socketio")
        if socketio is None:
            raise RuntimeError(
                "VideoChat needs Flask-SocketIO: create `socketio = SocketIO(app)` and "
                "pass it, as in `VideoChat(app, socketio)`."
            )
        # An empty list the host set (in the config or the constructor) is on
        # purpose; only the default's empty list is warned about.
        ice_chosen = "VIDEOCHAT_ICE_SERVERS" in app.config or self._ice_chosen
        for key, value in self._defaults.items():
            app.config.setdefault(key, value)
        settings = Settings.from_config(app.config)
        i18n.init_app(app)
        if not (settings.ice_servers or settings.turn_urls or ice_chosen) and not (
            app.debug or app.testing
        ):
            log.warning(
                "VIDEOCHAT_ICE_SERVERS is not set: calls connect only between browsers "
                "that reach each other directly. Configure STUN/TURN for the internet, "
                "or set VIDEOCHAT_ICE_SERVERS = [] to say that this is on purpose."
            )
        # (A testing app may use the store from one process without a queue:
        # Flask-SocketIO's test client refuses message queues.)
        if settings.store_url and not (app.testing or _has_message_queue(socketio)):
            raise RuntimeError(
                "VIDEOCHAT_STORE_URL shares calls between processes, so their emits must "
                "cross processes too: create SocketIO(app, message_queue=<the same "
                "Redis URL>)."
            )
        state = VideoChatState(
            settings=settings,
            socketio=socketio,
            hooks=self._hooks,
            secret_key=app.config.get("SECRET_KEY"),
            disconnect_user=lambda user_id: self.disconnect_user(user_id, app=app),
        )
        app.extensions["videochat"] = state
        namespace = VideoChatNamespace(state)
        socketio.on_namespace(namespace)
        if settings.harden_transport:
            # Without a server yet (SocketIO.init_app comes later), on first connect.
            harden(socketio)
        namespace.start_heartbeat(app)
        app.register_blueprint(blueprint)
        app.jinja_env.globals["videochat"] = self
        _follow_sign_outs()

    def disconnect_user(self, user_id: Any, *, app: Flask | None = None) -> int:
        """Disconnect every ``/videochat`` connection of a user, as when they close
        their tabs: their calls and room seats go as for a lost connection (after
        the reconnect grace, unless taken back), and with the last one they leave
        presence. Call it when a user signs out, is banned or loses access; with
        Flask-Login (and no :meth:`identity_loader`), ``logout_user()`` calls it.

        A Socket.IO connection keeps the session it was opened with, so without
        this a signed-out user's open tabs would stay connected as them. With a
        message queue (``VIDEOCHAT_STORE_URL``), connections served by other
        processes are disconnected through the queue.

        :param user_id: the user's id, as the identity loader gives it (compared as
            a string).
        :param app: the app (default: the current app).
        :returns: how many connections were disconnected.

        Example::

            @app.post("/members/<member_id>/ban")
            def ban(member_id):
                ...
                videochat.disconnect_user(member_id)
        """
        state = self.state(app)
        sids = state.presence.sids_of(str(user_id))
        server = state.socketio.server
        for sid in sids:
            try:
                server.disconnect(sid, namespace=NAMESPACE)
            except Exception:
                # The caller is often a sign-out view: it must not fail for this.
                log.exception("videochat: disconnecting %s failed", sid)
        return len(sids)

    # -- hooks ------------------------------------------------------------------

    def identity_loader(self, fn: IdentityLoader) -> IdentityLoader:
        """Decorator: tell the extension who is signed in, for hosts that do not use
        Flask-Login. ``fn()`` runs in the request context of a Socket.IO connection
        (and of a page showing the widget) and returns ``(user_id, display_name)``,
        or ``None`` when nobody is signed in."""
        self._hooks.identity_loader = fn
        return fn

    def can_call(self, fn: CanCall) -> CanCall:
        """Decorator: ``fn(caller, callee) -> bool`` decides whether a call may be
        placed (default: every signed-in user may call every other). Both arguments
        are :class:`~flask_videochat.core.presence.User`; a refusal gets ``ERR_FORBIDDEN``."""
        self._hooks.can_call = fn
        return fn

    def can_join(self, fn: CanJoin) -> CanJoin:
        """Decorator: ``fn(user, room) -> bool`` decides whether ``user`` (a
        :class:`~flask_videochat.core.presence.User`) may join the room named ``room``,
        or be invited into it (default: everyone may join every room). Asked on
        every ``room.join``, for the invitee of ``room.invite`` and ``call.add``, and
        for both parties of a call growing into a room; a refusal gets
        ``ERR_FORBIDDEN``.

        Example::

            @videochat.can_join
            def can_join(user, room):
                return room != "board" or user.id in BOARD_MEMBERS
        """
        self._hooks.can_join = fn
        return fn

    def can_see(self, fn: CanSee) -> CanSee:
        """Decorator: ``fn(viewer, user) -> bool`` decides whether ``viewer`` is told
        that ``user`` is online (default: everyone sees everyone). Both are
        :class:`~flask_videochat.core.presence.User`. Asked for the
        ``presence.snapshot`` of each new connection and for every
        ``presence.changes`` (which is then sent per viewer, not broadcast); a user
        the caller may not see is "not online" to ``call.invite`` and
        ``room.invite`` (``ERR_USER_OFFLINE``), so the hook cannot be probed.

        Example::

            @videochat.can_see
            def same_team(viewer, user):
                return team_of(viewer.id) == team_of(user.id)
        """
        self._hooks.can_see = fn
        return fn

    def _load_identity(self) -> Identity:
        """``(user_id, name)`` of the current request's person (the hooks' rule)."""
        return self._hooks.load_identity()

    # -- template helpers ---------------------------------------------------------

    @staticmethod
    def state(app: Flask | None = None) -> VideoChatState:
        """The :class:`VideoChatState` of ``app`` (default: the current app)."""
        return (app or current_app).extensions["videochat"]  # type: ignore[no-any-return]

    def assets(self, nonce: str | None = None) -> Markup:
        """``<script type="module">`` tags loading the widget. Put once in the page
        ``<head>``. For a strict Content-Security-Policy they carry ``nonce``, or
        without it the request's nonce from ``VIDEOCHAT_CSP_NONCE`` or the Jinja
        global ``csp_nonce`` (Flask-Talisman's), when there is one (``docs/csp.md``).

        :raises TypeError: the nonce callable returned neither a string nor ``None``.
        """
        return assets_markup(nonce, self.state())

    def widget(self, **options: Any) -> Markup:
        """The ``<video-chat>`` element: online list and call UI, or with
        ``room="standup"`` the video room of that name. Includes :meth:`assets`
        (with ``nonce=``, or the request's nonce as :meth:`assets` finds it, for a
        strict Content-Security-Policy) unless ``assets=False`` (when the page head
        has them already).

        :raises TypeError: an unknown option.
        :raises ValueError: ``room`` is not a room name
            (:data:`~flask_videochat.core.protocol.ROOM_NAME_PATTERN`).
        """
        return widget_markup(self.state(), **options)

    def locale(self) -> str:
        """The locale of the widget's words for the current request, a BCP 47 tag
        such as ``"de"`` or ``"en"`` (``VIDEOCHAT_LOCALE``, else Flask-Babel's
        ``get_locale()``, else the best match of ``Accept-Language`` among the
        catalogues, else ``"en"``; ``docs/i18n.md``): for the page's ``<html lang>``.
        """
        return current_app.extensions[i18n.EXTENSION_KEY].current()


def _has_message_queue(socketio: SocketIO) -> bool:
    """Whether ``socketio`` sends its emits through a message queue (a python-socketio
    pub/sub client manager)."""
    from socketio import PubSubManager

    manager = getattr(getattr(socketio, "server", None), "manager", None)
    return isinstance(manager, PubSubManager)


def _follow_sign_outs() -> None:
    """Disconnect users who sign out with Flask-Login's ``logout_user()``, when
    Flask-Login is installed. One receiver serves every app (connecting it again
    does nothing)."""
    try:
        from flask_login import user_logged_out
    except ImportError:
        return
    user_logged_out.connect(_signed_out, weak=False)


def _signed_out(app: Flask, user: Any = None, **extra: Any) -> None:
    """Flask-Login's ``user_logged_out``: disconnect that user's connections.

    Only for an app whose users the extension knows by their Flask-Login id: with an
    :meth:`~VideoChat.identity_loader`, ids may be something else, and the host
    calls :meth:`~VideoChat.disconnect_user` itself."""
    state = app.extensions.get("videochat") if isinstance(app, Flask) else None
    if state is None or state.hooks.identity_loader is not None:
        return
    user_id = user.get_id() if user is not None and hasattr(user, "get_id") else None
    if user_id is not None and state.disconnect_user is not None:
        state.disconnect_user(user_id)
