"""The :class:`VideoChat` Flask extension: the one init call."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Tuple

from flask import Flask, current_app
from flask_socketio import SocketIO
from markupsafe import Markup

from .blueprint import assets_markup, blueprint, widget_markup
from .call_resume import MIN_CLAIM_WINDOW, MIN_ENDED_MEMORY
from .calls import CallBook
from .config import DEFAULTS, Settings
from .namespace import VideoChatNamespace
from .presence import MemoryPresence, PresenceStore, User
from .rooms import RoomBook

log = logging.getLogger("flask_videochat")

#: ``identity_loader`` callables return ``(user_id, display_name)`` or ``None``.
Identity = Optional[Tuple[Any, str]]
IdentityLoader = Callable[[], Identity]
#: ``can_call(caller, callee) -> bool``.
CanCall = Callable[[User, User], bool]
#: ``can_join(user, room_name) -> bool``.
CanJoin = Callable[[User, str], bool]

#: Longest display name shown, in characters; longer names are cut.
MAX_NAME_LENGTH = 80


@dataclass
class VideoChatState:
    """Everything the extension keeps for one app, in ``app.extensions["videochat"]``."""

    extension: VideoChat
    settings: Settings
    socketio: SocketIO
    presence: PresenceStore = field(default_factory=MemoryPresence)
    #: The live 1:1 calls.
    calls: CallBook = field(init=False)
    #: The rooms, with their members, invitations and chat.
    rooms: RoomBook = field(init=False)

    def __post_init__(self) -> None:
        history = self.settings.chat_history
        grace = self.settings.reconnect_grace
        self.calls = CallBook(
            chat_history=history,
            claim_window=max(MIN_CLAIM_WINDOW, grace),
            ended_memory=max(MIN_ENDED_MEMORY, 2 * grace),
        )
        self.rooms = RoomBook(capacity=self.settings.room_capacity, chat_history=history)

    def identify(self) -> User | None:
        """The person behind the current request, or ``None`` when nobody is signed
        in (a guest when ``VIDEOCHAT_ALLOW_ANONYMOUS`` is on)."""
        identity = self.extension._load_identity()
        if identity is None:
            if not self.settings.allow_anonymous:
                return None
            token = secrets.token_hex(4)
            return User(id=f"guest-{token}", name=f"Guest {token[:4]}")
        user_id, name = identity
        user_id = str(user_id)
        name = " ".join(str(name).split())[:MAX_NAME_LENGTH] or user_id
        return User(id=user_id, name=name)

    def can_call(self, caller: User, callee: User) -> bool:
        hook = self.extension._can_call
        return True if hook is None else bool(hook(caller, callee))

    def can_join(self, user: User, room: str) -> bool:
        hook = self.extension._can_join
        return True if hook is None else bool(hook(user, room))


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
        self._identity_loader: IdentityLoader | None = None
        self._can_call: CanCall | None = None
        self._can_join: CanJoin | None = None
        if app is not None:
            self.init_app(app, socketio)

    def init_app(self, app: Flask, socketio: SocketIO | None = None) -> None:
        """Register the extension on ``app``.

        Reads ``VIDEOCHAT_RING_TIMEOUT``, ``VIDEOCHAT_ICE_SERVERS``,
        ``VIDEOCHAT_RECONNECT_GRACE``, ``VIDEOCHAT_ALLOW_ANONYMOUS``,
        ``VIDEOCHAT_SIGN_IN_URL``, ``VIDEOCHAT_ROOM_CAPACITY`` and
        ``VIDEOCHAT_CHAT_HISTORY`` (see ``docs/configuration.md``); registers the
        blueprint under ``/videochat`` (static files and the room page
        ``/videochat/rooms/<name>``), the Socket.IO namespace ``/videochat`` and the
        Jinja global ``videochat``.

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
        for key, value in self._defaults.items():
            app.config.setdefault(key, value)
        settings = Settings.from_config(app.config)
        if not settings.ice_servers and not (app.debug or app.testing):
            log.warning(
                "VIDEOCHAT_ICE_SERVERS is empty: calls connect only between browsers "
                "that reach each other directly. Configure STUN/TURN for the internet."
            )
        state = VideoChatState(extension=self, settings=settings, socketio=socketio)
        app.extensions["videochat"] = state
        socketio.on_namespace(VideoChatNamespace(state))
        app.register_blueprint(blueprint)
        app.jinja_env.globals["videochat"] = self

    # -- hooks ------------------------------------------------------------------

    def identity_loader(self, fn: IdentityLoader) -> IdentityLoader:
        """Decorator: tell the extension who is signed in, for hosts that do not use
        Flask-Login. ``fn()`` runs in the request context of a Socket.IO connection
        (and of a page showing the widget) and returns ``(user_id, display_name)``,
        or ``None`` when nobody is signed in."""
        self._identity_loader = fn
        return fn

    def can_call(self, fn: CanCall) -> CanCall:
        """Decorator: ``fn(caller, callee) -> bool`` decides whether a call may be
        placed (default: every signed-in user may call every other). Both arguments
        are :class:`~flask_videochat.presence.User`; a refusal gets ``ERR_FORBIDDEN``."""
        self._can_call = fn
        return fn

    def can_join(self, fn: CanJoin) -> CanJoin:
        """Decorator: ``fn(user, room) -> bool`` decides whether ``user`` (a
        :class:`~flask_videochat.presence.User`) may join the room named ``room``,
        or be invited into it (default: everyone may join every room). Asked on
        every ``room.join``, for the invitee of ``room.invite`` and ``call.add``, and
        for both parties of a call growing into a room; a refusal gets
        ``ERR_FORBIDDEN``.

        Example::

            @videochat.can_join
            def can_join(user, room):
                return room != "board" or user.id in BOARD_MEMBERS
        """
        self._can_join = fn
        return fn

    def _load_identity(self) -> Identity:
        if self._identity_loader is not None:
            return self._identity_loader()
        if not hasattr(current_app, "login_manager"):
            log.error(
                "videochat: no identity: use Flask-Login or register "
                "@videochat.identity_loader; refusing the connection"
            )
            return None
        from flask_login import current_user

        if not current_user or not current_user.is_authenticated:
            return None
        for attr in ("display_name", "name", "username"):
            name = getattr(current_user, attr, None)
            if name:
                break
        return current_user.get_id(), str(name or current_user.get_id())

    # -- template helpers ---------------------------------------------------------

    @staticmethod
    def state(app: Flask | None = None) -> VideoChatState:
        """The :class:`VideoChatState` of ``app`` (default: the current app)."""
        return (app or current_app).extensions["videochat"]  # type: ignore[no-any-return]

    def assets(self, nonce: str | None = None) -> Markup:
        """``<script type="module">`` tags loading the widget; ``nonce`` for a strict
        Content-Security-Policy. Put once in the page ``<head>``."""
        return assets_markup(nonce)

    def widget(self, **options: Any) -> Markup:
        """The ``<video-chat>`` element: online list and call UI, or with
        ``room="standup"`` the video room of that name. Includes :meth:`assets`
        (with ``nonce=``, for a strict Content-Security-Policy) unless
        ``assets=False`` (when the page head has them already).

        :raises TypeError: an unknown option.
        :raises ValueError: ``room`` is not a room name
            (:data:`~flask_videochat.protocol.ROOM_NAME_PATTERN`).
        """
        return widget_markup(self.state(), **options)
