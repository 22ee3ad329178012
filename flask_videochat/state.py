"""What the extension keeps for one app (:class:`VideoChatState`, in
``app.extensions["videochat"]``) and the host's hooks (:class:`Hooks`): the layer the
Socket.IO adapter (:mod:`flask_videochat.events`) and the web part
(:mod:`flask_videochat.web`) read, below :class:`~flask_videochat.VideoChat`, which
registers them.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Tuple

from flask import current_app
from flask_socketio import SocketIO

from .config import Settings
from .core.calls import CallBook
from .core.presence import PresenceStore, User
from .core.rooms import RoomBook
from .core.text import MAX_NAME_LENGTH, display_name, has_visible
from .stores import Store, open_store

log = logging.getLogger("flask_videochat")

#: ``identity_loader`` callables return ``(user_id, display_name)`` or ``None``.
Identity = Optional[Tuple[Any, str]]
IdentityLoader = Callable[[], Identity]
#: ``can_call(caller, callee) -> bool``.
CanCall = Callable[[User, User], bool]
#: ``can_join(user, room_name) -> bool``.
CanJoin = Callable[[User, str], bool]
#: ``can_see(viewer, user) -> bool``.
CanSee = Callable[[User, User], bool]


@dataclass
class Hooks:
    """The host's hooks, as :class:`~flask_videochat.VideoChat`'s decorators register
    them (``None``: the default). One object per extension, shared by every app it is
    registered on: a hook registered after ``init_app`` applies at once."""

    identity_loader: IdentityLoader | None = None
    can_call: CanCall | None = None
    can_join: CanJoin | None = None
    can_see: CanSee | None = None

    def load_identity(self) -> Identity:
        """``(user_id, name)`` of the current request's person, or ``None``: the
        host's ``identity_loader``, else Flask-Login's ``current_user`` (its
        ``display_name``, ``name`` or ``username``, the first that shows something)."""
        if self.identity_loader is not None:
            return self.identity_loader()
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
            if name and has_visible(str(name)):
                break
        else:
            name = None  # identify() shows the id
        return current_user.get_id(), str(name or current_user.get_id())


@dataclass
class VideoChatState:
    """Everything the extension keeps for one app, in ``app.extensions["videochat"]``."""

    settings: Settings
    socketio: SocketIO
    #: The host's hooks (shared with the extension that registered this app).
    hooks: Hooks = field(default_factory=Hooks)
    #: The app's ``SECRET_KEY`` (signs what a Redis store writes).
    secret_key: Any = field(default=None, repr=False)
    #: Disconnects every connection of a user (``VideoChat.disconnect_user``), for
    #: Flask-Login's sign-out; set by the extension.
    disconnect_user: Callable[[Any], int] | None = field(default=None, repr=False)
    #: Where presence, calls and rooms live (memory, or Redis with
    #: ``VIDEOCHAT_STORE_URL``).
    store: Store = field(init=False)
    #: Who is online, on which connections.
    presence: PresenceStore = field(init=False)
    #: The live 1:1 calls.
    calls: CallBook = field(init=False)
    #: The rooms, with their members, invitations and chat.
    rooms: RoomBook = field(init=False)

    def __post_init__(self) -> None:
        self.store = open_store(self.settings, secret_key=self.secret_key)
        self.presence = self.store.presence
        self.calls = self.store.calls
        self.rooms = self.store.rooms

    def identify(self) -> User | None:
        """The person behind the current request, or ``None`` when nobody is signed
        in (a guest when ``VIDEOCHAT_ALLOW_ANONYMOUS`` is on)."""
        identity = self.hooks.load_identity()
        if identity is None:
            if not self.settings.allow_anonymous:
                return None
            token = secrets.token_hex(4)
            return User(id=f"guest-{token}", name=f"Guest {token[:4]}")
        user_id, name = identity
        user_id = str(user_id)
        # Controls and bidi overrides removed, NFC, at most MAX_NAME_LENGTH; the user
        # id when nothing visible remains (flask_videochat.core.text.display_name).
        return User(id=user_id, name=display_name(name, user_id, max_length=MAX_NAME_LENGTH))

    def can_call(self, caller: User, callee: User) -> bool:
        hook = self.hooks.can_call
        return True if hook is None else bool(hook(caller, callee))

    def can_join(self, user: User, room: str) -> bool:
        hook = self.hooks.can_join
        return True if hook is None else bool(hook(user, room))

    @property
    def has_can_call(self) -> bool:
        """Whether the host registered a ``can_call`` hook (presence then says, per
        viewer, whom they may call, and is sent to each viewer separately)."""
        return self.hooks.can_call is not None

    @property
    def has_can_see(self) -> bool:
        """Whether the host registered a ``can_see`` hook (presence is then sent to
        each viewer separately)."""
        return self.hooks.can_see is not None

    def can_see(self, viewer: User, user: User) -> bool:
        hook = self.hooks.can_see
        return True if hook is None or viewer.id == user.id else bool(hook(viewer, user))
