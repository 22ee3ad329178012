"""The ``videochat`` blueprint (static files under ``/videochat/static``, the room
page ``/videochat/rooms/<name>``) and the Markup the Jinja helpers render."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from flask import Blueprint, abort, current_app, render_template, url_for
from markupsafe import Markup

from ..core.protocol import NAMESPACE, ROOM_NAME_PATTERN
from .i18n import page_text, page_words

if TYPE_CHECKING:
    from ..state import VideoChatState

#: URL prefix of the blueprint.
URL_PREFIX = "/videochat"
#: Version of the vendored socket.io client (``static/videochat/vendor``).
SOCKETIO_CLIENT_VERSION = "4.8.1"

blueprint = Blueprint(
    "videochat",
    __name__,
    url_prefix=URL_PREFIX,
    static_folder="static/videochat",
    static_url_path="/static",
    template_folder="templates",
)

_WIDGET_OPTIONS = frozenset({"assets", "nonce", "room"})
_ROOM_NAME = re.compile(ROOM_NAME_PATTERN)


def is_room_name(name: object) -> bool:
    """Whether ``name`` is a valid room name (:data:`ROOM_NAME_PATTERN`)."""
    return isinstance(name, str) and _ROOM_NAME.fullmatch(name) is not None


def _socket_path(state: VideoChatState) -> str:
    middleware = getattr(state.socketio, "sockio_mw", None)
    path = getattr(middleware, "engineio_path", "/socket.io")
    return "/" + path.strip("/")


def current_nonce(state: VideoChatState) -> str | None:
    """The current request's Content-Security-Policy nonce: ``VIDEOCHAT_CSP_NONCE``'s
    callable when set, else the app's Jinja global ``csp_nonce`` (Flask-Talisman's, or
    the host's own: a function, or a string set per request) when it has one, else
    ``None``. An empty nonce counts as none.

    :raises TypeError: the callable returned something other than a string or ``None``.
    """
    source = state.settings.csp_nonce
    if source is None:
        source = current_app.jinja_env.globals.get("csp_nonce")
        if isinstance(source, str):  # a global some hosts set per request
            return source or None
        if not callable(source):
            return None
    nonce = source()
    if nonce is not None and not isinstance(nonce, str):
        raise TypeError(f"the CSP nonce must be a string or None, got {nonce!r}")
    return nonce or None


def assets_markup(nonce: str | None, state: VideoChatState | None = None) -> Markup:
    """The ``<script type="module">`` loading ``js/index.js``, with ``nonce``, or
    else with :func:`current_nonce` of ``state`` when given."""
    if nonce is None and state is not None:
        nonce = current_nonce(state)
    return Markup(
        render_template(
            "videochat/assets.html",
            src=url_for("videochat.static", filename="js/index.js"),
            nonce=nonce,
        )
    )


def widget_markup(state: VideoChatState, **options: Any) -> Markup:
    """The ``<video-chat>`` element for the current request's user."""
    unknown = set(options) - _WIDGET_OPTIONS
    if unknown:
        raise TypeError(
            f"Unknown widget option(s): {', '.join(sorted(unknown))}; known: "
            + ", ".join(sorted(_WIDGET_OPTIONS))
        )
    room = options.get("room")
    if room is not None and not is_room_name(room):
        raise ValueError(
            f"Not a room name: {room!r}; a room name is 1 to 64 letters, digits, '_' "
            "or '-', starting with a letter or digit."
        )
    signed_out = state.identify() is None
    lang, direction, words = page_words()
    return Markup(
        render_template(
            "videochat/widget.html",
            assets=(
                assets_markup(options.get("nonce"), state) if options.get("assets", True) else ""
            ),
            namespace=NAMESPACE,
            socket_path=_socket_path(state),
            signed_out=signed_out,
            sign_in_url=_sign_in_url(state) if signed_out else None,
            room=room,
            lang=lang,
            dir=direction,
            words=Markup(words),
            noscript=page_text("page.noscript"),
        )
    )


@blueprint.get("/rooms/<name>")
def room_page(name: str) -> str:
    """A standalone page for the video room ``name`` (template
    ``videochat/room.html``); 404 for a name that is not a room name."""
    if not is_room_name(name):
        abort(404)
    lang, direction, _ = page_words()
    return render_template(
        "videochat/room.html", room=name, lang=lang, dir=direction,
        title=page_text("page.room_title", room=name), hint=page_text("page.room_hint"),
    )


def _sign_in_url(state: VideoChatState) -> str | None:
    target = state.settings.sign_in_url
    if target is None:
        manager = getattr(current_app, "login_manager", None)
        target = getattr(manager, "login_view", None)
        if not target:
            return None
    if "/" in target:
        return target
    return url_for(target)
