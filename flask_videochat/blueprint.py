"""The ``videochat`` blueprint (static files under ``/videochat/static``) and the
Markup the Jinja helpers render."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, current_app, render_template, url_for
from markupsafe import Markup

from .namespace import NAMESPACE

if TYPE_CHECKING:
    from .extension import VideoChatState

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

_WIDGET_OPTIONS = frozenset({"assets", "nonce"})


def _socket_path(state: VideoChatState) -> str:
    middleware = getattr(state.socketio, "sockio_mw", None)
    path = getattr(middleware, "engineio_path", "/socket.io")
    return "/" + path.strip("/")


def assets_markup(nonce: str | None) -> Markup:
    """The ``<script type="module">`` loading ``js/index.js``."""
    return Markup(render_template(
        "videochat/assets.html",
        src=url_for("videochat.static", filename="js/index.js"),
        nonce=nonce,
    ))


def widget_markup(state: VideoChatState, **options: Any) -> Markup:
    """The ``<video-chat>`` element for the current request's user."""
    unknown = set(options) - _WIDGET_OPTIONS
    if unknown:
        raise TypeError(
            f"Unknown widget option(s): {', '.join(sorted(unknown))}; known: "
            + ", ".join(sorted(_WIDGET_OPTIONS))
        )
    signed_out = state.identify() is None
    return Markup(render_template(
        "videochat/widget.html",
        assets=assets_markup(options.get("nonce")) if options.get("assets", True) else "",
        namespace=NAMESPACE,
        socket_path=_socket_path(state),
        signed_out=signed_out,
        sign_in_url=_sign_in_url(state) if signed_out else None,
    ))


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
