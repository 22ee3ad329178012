"""The example site's Flask app: sign-in with Flask-Login, a team directory, and the
video-call widget on every page."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import tempfile
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, redirect, render_template, request, session, url_for
from flask_login import (
    LoginManager,
    UserMixin,
    login_required,
    login_user,
    logout_user,
)
from flask_socketio import SocketIO
from flask_wtf.csrf import CSRFError, CSRFProtect

from example_site import csp
from flask_videochat import VideoChat
from flask_videochat.core.text import clean_name

#: The extension, created once; each app made by :func:`create_app` registers it.
videochat = VideoChat()

#: Flask-WTF's CSRF protection: every POST to the site (sign-in, sign-out) must carry
#: the token its form holds, which a page of another site cannot read. ``/socket.io/``
#: never reaches it: python-engineio's middleware answers those requests before Flask.
csrf = CSRFProtect()

#: Longest name accepted on the sign-in form.
MAX_NAME = 80

#: Largest Socket.IO message the site reads, in bytes.
MAX_HTTP_BUFFER_SIZE = 65_536

#: What the sign-in page says when its form came back without a valid token.
FORM_EXPIRED = "Your sign-in form expired; please try again."

TEAMS = {
    "Platform": "Keeps the lights on: servers, deploys, on-call.",
    "Design": "Makes everything look and feel right.",
    "Support": "Talks to customers every day.",
}


class Member(UserMixin):
    """A person of the demo directory; in memory, keyed by the name they sign in with."""

    def __init__(self, member_id: str, name: str) -> None:
        self.id = member_id
        self.display_name = name
        digest = hashlib.sha256(member_id.encode()).digest()
        self.team = list(TEAMS)[digest[0] % len(TEAMS)]


class Directory:
    """In-memory members: signing in with a new name adds a member. A member's id is
    derived from their name, so that every process of a site on Redis (each with its
    own directory) gives one name the same id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[str, Member] = {}
        self._by_name: dict[str, Member] = {}

    def sign_in(self, name: str) -> Member:
        with self._lock:
            member = self._by_name.get(name)
            if member is None:
                member_id = hashlib.sha256(name.encode()).hexdigest()[:12]
                member = Member(member_id, name)
                self._by_id[member.id] = member
                self._by_name[name] = member
            return member

    def get(self, member_id: str) -> Member | None:
        return self._by_id.get(member_id)

    def restore(self, member_id: str, name: str | None) -> Member | None:
        """Take back a member the session names after the site restarted (the
        directory lives in memory); ``None`` when the id or name went to someone else."""
        if not name:
            return None
        with self._lock:
            member = self._by_id.get(member_id)
            if member is not None:
                return member if member.display_name == name else None
            if name in self._by_name:
                return None
            member = Member(member_id, name)
            self._by_id[member_id] = self._by_name[name] = member
            return member

    def members(self) -> list[Member]:
        return sorted(self._by_id.values(), key=lambda m: m.display_name.lower())


#: Settings whose environment value is always taken as a plain string (a secret may
#: look like a JSON number).
_ENV_STRINGS = {"VIDEOCHAT_TURN_SECRET"}


def _env_config() -> dict[str, Any]:
    """``VIDEOCHAT_*`` settings from the environment (JSON values, or plain strings).
    ``VIDEOCHAT_TURN_URLS`` may also be comma-separated URLs."""
    config: dict[str, Any] = {}
    for key, raw in os.environ.items():
        if key in _ENV_STRINGS:
            config[key] = raw
        elif key.startswith("VIDEOCHAT_"):
            try:
                config[key] = json.loads(raw)
            except ValueError:
                config[key] = raw
    if isinstance(config.get("VIDEOCHAT_TURN_URLS"), str):
        urls = config["VIDEOCHAT_TURN_URLS"].split(",")
        config["VIDEOCHAT_TURN_URLS"] = [u.strip() for u in urls if u.strip()]
    return config


def local_target(target: str) -> str | None:
    """``target`` when it is a path of this site, else ``None``: never redirect to
    another site. Browsers drop tabs and line feeds from a URL and read ``\\`` as
    ``/``, so ``/\\t/evil.example`` or ``/\\evil.example`` would leave the site."""
    if any(c in target for c in "\\\t\r\n") or not target.startswith("/"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return None
    return target


def instance_secret_key(instance_path: str) -> str:
    """The site's secret key kept in ``<instance folder>/secret_key``, made (random,
    readable by its owner only) on first use, as a real site keeps its key: a
    restart then keeps everyone signed in and their calls' controls, and every
    process started from this folder shares it. Safe when two processes start at
    once: the first file written wins, and both use it."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, scratch = tempfile.mkstemp(dir=path.parent, prefix=".secret_key-")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
            with contextlib.suppress(FileExistsError):
                os.link(scratch, path)  # creates it only if it does not exist yet
        finally:
            os.unlink(scratch)
    return path.read_text().strip()


def _may_call(caller: Any, callee: Any) -> bool:
    """The demo's ``can_call``: no call between a pair the app's ``EXAMPLE_NO_CALLS``
    names (caller name, callee name)."""
    return [caller.name, callee.name] not in current_app.config.get("EXAMPLE_NO_CALLS", [])


def page_locale() -> str | None:
    """The widget's locale chosen with ``?lang=de`` (a demo of ``VIDEOCHAT_LOCALE``
    as a callable); without it, ``None``: the browser's ``Accept-Language``."""
    return request.args.get("lang") or None


def create_app(
    config: dict[str, Any] | None = None,
    *,
    async_mode: str | None = None,
    instance_path: str | None = None,
) -> Flask:
    """Build the site. ``config`` overrides the defaults and the environment.

    The secret key is ``SECRET_KEY`` from the environment, else the one kept in the
    instance folder (``instance/secret_key`` beside the package by default; see
    :func:`instance_secret_key`).
    """
    app = Flask(__name__, instance_path=instance_path)
    app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY") or instance_secret_key(
        app.instance_path
    )
    # A form's CSRF token lasts as long as the session (Flask-WTF's default is one
    # hour): this site's pages stay open for hours, waiting for calls, and their Sign
    # out must still work then. A token is worth nothing without its session cookie.
    app.config["WTF_CSRF_TIME_LIMIT"] = None
    app.config["VIDEOCHAT_LOCALE"] = page_locale
    app.config.update(_env_config())
    app.config.update(config or {})
    csrf.init_app(app)
    # A strict Content-Security-Policy with a nonce per response (example_site/csp.py);
    # the extension finds the nonce through the Jinja global csp_nonce.
    csp.install(app, csrf)
    directory = Directory()
    app.extensions["directory"] = directory

    login_manager = LoginManager(app)
    login_manager.login_view = "login"
    # The session keeps the name too, so that a restarted site (a new in-memory
    # directory) still knows who is signed in: calls survive a server restart.
    login_manager.user_loader(lambda member_id: directory.get(member_id) or directory.restore(
        member_id, session.get("member_name")))
    # With VIDEOCHAT_STORE_URL (Redis), several processes form one site: their emits
    # cross through the same Redis.
    # Engine.IO's cap on one message (a WebSocket message as a whole, fragments
    # included, with the extension's transport hardening): the extension's largest
    # event is about 41,600 bytes on the wire (docs/deployment.md); python-engineio's
    # default would be 1,000,000.
    socketio = SocketIO(
        app,
        async_mode=async_mode,
        message_queue=app.config.get("VIDEOCHAT_STORE_URL"),
        max_http_buffer_size=MAX_HTTP_BUFFER_SIZE,
    )
    videochat.init_app(app, socketio)
    # A demo of the can_call hook: EXAMPLE_NO_CALLS (config, or JSON in the
    # environment) lists [caller name, callee name] pairs that may not call. Without
    # it no hook is registered (presence stays one broadcast).
    no_calls = app.config.get("EXAMPLE_NO_CALLS") or json.loads(os.environ.get("EXAMPLE_NO_CALLS", "[]"))
    if no_calls:
        app.config["EXAMPLE_NO_CALLS"] = [list(pair) for pair in no_calls]
        videochat.can_call(_may_call)

    @app.get("/")
    def home() -> str:
        return render_template("home.html", teams=TEAMS)

    @app.get("/people")
    @login_required
    def people() -> str:
        return render_template("people.html", members=directory.members())

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        error = None
        if request.method == "POST":
            typed = " ".join(request.form.get("name", "").split())
            # The extension's rule for names: no control or bidi characters, NFC,
            # something visible (a name of zero-width spaces shows as nothing).
            name = clean_name(typed, max_length=len(typed) or 1)
            if not name:
                error = "Please enter your name."
            elif len(name) > MAX_NAME:
                error = f"Names are at most {MAX_NAME} characters."
            else:
                member = directory.sign_in(name)
                login_user(member)
                session["member_name"] = member.display_name
                return redirect(local_target(request.args.get("next", "")) or url_for("home"))
        return render_template("login.html", error=error), 400 if error else 200

    @app.post("/logout")
    def logout() -> Any:
        logout_user()
        return redirect(url_for("home"))

    @app.get("/healthz")
    def health() -> dict[str, Any]:
        return {"ok": True}

    @app.errorhandler(404)
    def not_found(_: Exception) -> Any:
        return render_template("base.html", title="Not found"), 404

    @app.errorhandler(CSRFError)
    def form_refused(_: CSRFError) -> Any:
        """A POST without its form's valid token (sent from another site, expired, or
        its session cookie gone): nothing was done; say so, with a fresh form."""
        if request.endpoint == "login":
            return render_template("login.html", error=FORM_EXPIRED), 400
        return render_template("form_refused.html", title="Nothing was done"), 400

    return app
