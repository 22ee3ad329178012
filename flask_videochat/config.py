"""Configuration keys read by :class:`flask_videochat.VideoChat`, with their defaults.

Every key is read once, in :meth:`VideoChat.init_app`, and validated there so that a
mistake fails at start-up rather than during a call. ``docs/configuration.md`` has
one entry per key.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence
from urllib.parse import urlsplit

from .core.ice import (
    ICE_TRANSPORT_POLICIES,
    MIN_TURN_TTL,
    TURN_SCHEMES,
    ice_servers_for,
    turn_urls_of,
)
from .core.protocol import EVENTS
from .core.ratelimit import (
    BUILT_IN_RATE_LIMITS,
    CONNECT,
    DEFAULT,
    EventLimiter,
    open_storage,
    parse_limit,
    room_signal_limit,
)

log = logging.getLogger("flask_videochat")

#: Seconds a call rings on the callee's tabs before it ends with reason
#: ``no_answer``. Default: 30.
VIDEOCHAT_RING_TIMEOUT: float = 30

#: ``RTCIceServer`` dictionaries handed to every browser after it connects, for
#: example ``[{"urls": "stun:stun.example.org:3478"}]``. Default: ``[]``: no
#: third-party server is contacted unless the site owner chooses one, so calls
#: connect only between browsers that can reach each other directly. Set a STUN
#: server (and TURN for strict NATs) for calls across the internet.
VIDEOCHAT_ICE_SERVERS: list[dict[str, Any]] = []

#: TURN servers whose credentials the site mints for each connection, as ``turn:``
#: or ``turns:`` URLs (``"turn:turn.example.org:3478?transport=udp"``,
#: ``"turns:turn.example.org:443?transport=tcp"``). Each browser gets them in
#: ``hello`` as one more ``RTCIceServer`` with a username and password valid for
#: :data:`VIDEOCHAT_TURN_TTL` seconds (coturn's ``use-auth-secret``). Needs
#: :data:`VIDEOCHAT_TURN_SECRET`. Default: ``[]``.
VIDEOCHAT_TURN_URLS: list[str] = []

#: The secret shared with the TURN servers of :data:`VIDEOCHAT_TURN_URLS` (coturn's
#: ``static-auth-secret``); it never leaves the server. Default: ``None``.
VIDEOCHAT_TURN_SECRET: str | None = None

#: Seconds the TURN credentials minted for a connection stay valid for new relay
#: allocations, at least 60. Default: 86400 (one day, as the TURN REST API draft
#: suggests): credentials are minted when a tab connects, and a tab may stay open
#: all day before its last call; a relay already allocated lives on past the expiry.
VIDEOCHAT_TURN_TTL: int = 86400

#: Which ICE candidates browsers use (``RTCConfiguration.iceTransportPolicy``):
#: ``"all"`` (default) or ``"relay"``: only TURN relays, so that people in a call
#: never learn each other's IP addresses (needs a TURN server; costs relay bandwidth).
VIDEOCHAT_ICE_TRANSPORT_POLICY: str = "all"

#: Seconds the server waits for a browser whose connection dropped (without a
#: hang-up or a leave) to come back: its call goes on and its room seat is kept, and
#: the browser takes them back on its new connection (``call.resume``,
#: ``room.resume``). After it, the call ends with reason ``peer_disconnected`` and
#: the seat is lost (``disconnected``). Default: 10. ``0`` ends both at once. After
#: a server restart, the two parties of a call have ``max(5, grace)`` seconds to
#: both ask for it back. Sent to browsers in ``hello``.
VIDEOCHAT_RECONNECT_GRACE: float = 10

#: Whether visitors who are not signed in to the host app may connect, as a guest
#: with a random id. Default: ``False`` (their connection is refused and the widget
#: asks them to sign in).
VIDEOCHAT_ALLOW_ANONYMOUS: bool = False

#: Where the widget's "sign in" link points when nobody is signed in: a URL or an
#: endpoint name for :func:`flask.url_for`. Default: ``None``: Flask-Login's
#: ``login_view`` when set, else no link.
VIDEOCHAT_SIGN_IN_URL: str | None = None

#: Most people in one room (``{{ videochat.widget(room="...") }}``), at least 2.
#: Default: 4. Rooms are a mesh: each browser sends its camera and microphone to
#: every other member, so a room of N costs each member N - 1 uplinks; keep it small.
VIDEOCHAT_ROOM_CAPACITY: int = 4

#: Chat messages a room (or 1:1 call) keeps for people who join later; ``0`` keeps
#: none. Default: 50. Kept in memory until the room empties.
VIDEOCHAT_CHAT_HISTORY: int = 50

#: Where presence, calls and rooms are kept: ``None`` (default) keeps them in this
#: process's memory (one process serves the whole site); a Redis URL
#: (``redis://127.0.0.1:6379/0``, ``rediss://`` for TLS, ``unix://``) shares them
#: between processes, which then form one site. With Redis the host's SocketIO must
#: use the same server as its message queue:
#: ``SocketIO(app, message_queue="redis://...")``. Needs ``pip install
#: flask-videochat[redis]``. See ``docs/deployment.md``.
VIDEOCHAT_STORE_URL: str | None = None

#: Whether browsers are told who is online (``presence.snapshot`` and
#: ``presence.changes``). Default: ``True``. Sites with their own directory of people
#: may turn it off: calls by user id still work, and no presence traffic is sent.
VIDEOCHAT_PRESENCE: bool = True

#: Seconds over which presence changes are gathered into one ``presence.changes``
#: message to every watcher (at most 0.25). Default: 0.1. ``0`` sends each change
#: at once. A join costs one send per watcher; gathering keeps a wave of joins from
#: costing joins x watchers sends.
VIDEOCHAT_PRESENCE_WINDOW: float = 0.1

#: With a Redis store: seconds after which the connections of a process that stopped
#: renewing its lease (it crashed, or lost Redis) are forgotten and its users shown
#: offline. Each process renews every third of it. Default: 15, at least 2.
VIDEOCHAT_PRESENCE_TTL: float = 15

#: Other sites whose pages may connect to ``/videochat`` with the browser's cookies,
#: besides the site itself: a list of origins (``["https://app.example.org"]``:
#: scheme, host and port, no path). Default: ``None``: only pages of the site itself
#: (the ``Origin`` header must match the request's own scheme, host and port, as
#: werkzeug gives them: behind a proxy, apply ``ProxyFix``). ``"*"`` lets any site
#: connect as the signed-in user: unsafe (cross-site WebSocket hijacking). A
#: connection without an ``Origin`` header (not a browser) is allowed. Refused
#: connections get ``ERR_FORBIDDEN_ORIGIN``. See ``docs/security.md``.
VIDEOCHAT_ALLOWED_ORIGINS: list[str] | str | None = None

#: Rate limits per connection, in limits' notation (``"20/second;300/minute"``: every
#: part applies), by event name (``"call.invite"``), with ``"default"`` for every
#: event not named (and for unknown events); ``None`` for an event means no limit.
#: Applied over the built-in limits
#: (:data:`~flask_videochat.core.ratelimit.BUILT_IN_RATE_LIMITS`), so name only what you
#: change. Default: ``{}``. ``None`` turns rate limiting off (load tests only). An
#: event over a limit gets ``ERR_RATE_LIMITED`` with ``retry_after`` and does nothing.
VIDEOCHAT_RATE_LIMITS: dict[str, str | None] | None = {}

#: The budget of one user over all their connections, in connections' worth: each
#: per-connection limit times this, rounded up. Default: 2. At least 1. Opening more
#: tabs (or reconnecting) does not give a user more than this.
VIDEOCHAT_RATE_LIMITS_PER_USER: float = 2

#: Where rate limit counters live: a limits storage URI (``"memory://"``,
#: ``"redis://host:6379/1"``). Default: ``None``: the :data:`VIDEOCHAT_STORE_URL`
#: Redis when there is one (so that every process counts in one budget), else
#: ``"memory://"`` (this process's memory).
VIDEOCHAT_RATE_LIMIT_STORAGE: str | None = None

#: Largest event payload accepted, in bytes (as JSON, counted on the parsed payload,
#: without escapes). Default: 40960: the largest SDP
#: (:data:`~flask_videochat.core.protocol.MAX_SDP_LENGTH`, 40,000 characters) and its
#: envelope. Larger ones, and payloads nested more than 32 levels deep, get
#: ``ERR_TOO_LARGE`` before they are validated. At least 4096. Cap the transport too:
#: ``SocketIO(app, max_http_buffer_size=65_536)`` (python-engineio's default is
#: 1,000,000 bytes; a 40,000-character SDP is about 41,600 bytes on the wire).
VIDEOCHAT_MAX_MESSAGE_SIZE: int = 40960

#: Whether the extension hardens the host's Socket.IO server against clients that
#: could otherwise freeze it (``flask_videochat.events.transport``): WebSocket messages capped
#: as a whole, fragments included, at ``SocketIO(max_http_buffer_size=...)`` and
#: unmasked in C (simple-websocket over wsproto, under eventlet, threading and
#: gevent), and a Socket.IO packet that cannot be decoded closes its connection with
#: one log line a minute instead of a traceback each. Default: ``True``. Turn it off
#: only when your server does all of this already. See ``docs/security.md``.
VIDEOCHAT_HARDEN_TRANSPORT: bool = True

#: The current request's Content-Security-Policy nonce, for the ``<script>`` tags the
#: extension renders (its room page, :meth:`~flask_videochat.VideoChat.assets` and
#: :meth:`~flask_videochat.VideoChat.widget` called without ``nonce=``): a callable
#: taking no arguments and returning the nonce (a string; ``None`` or ``""`` for no
#: nonce), or the ``"module:attribute"`` import path of one. Default: ``None``: the
#: Jinja global ``csp_nonce`` when the app has one (Flask-Talisman registers it;
#: ``app.add_template_global`` registers your own), else no nonce. A value that is
#: not callable without arguments, or a path that does not import, fails at
#: start-up. See ``docs/csp.md``.
VIDEOCHAT_CSP_NONCE: Callable[[], str | None] | str | None = None

#: The locale of the widget's words (``docs/i18n.md``): a tag such as ``"de"``, or a
#: callable taking no arguments and returning one per request. Default: ``None``:
#: Flask-Babel's ``get_locale()`` when the app has Flask-Babel, else the best match
#: of the request's ``Accept-Language`` among the catalogues, else ``"en"``.
VIDEOCHAT_LOCALE: Callable[[], str | None] | str | None = None

#: The host's words, a mapping of locale to a mapping of catalogue key to text, laid
#: over the shipped ones (English, German, French) key by key; a new locale adds a
#: language. Default: ``{}``. Unknown keys or placeholders fail at start-up.
VIDEOCHAT_TRANSLATIONS: Mapping[str, Mapping[str, Any]] = {}

DEFAULTS: dict[str, Any] = {
    "VIDEOCHAT_RING_TIMEOUT": VIDEOCHAT_RING_TIMEOUT,
    "VIDEOCHAT_ICE_SERVERS": VIDEOCHAT_ICE_SERVERS,
    "VIDEOCHAT_TURN_URLS": VIDEOCHAT_TURN_URLS,
    "VIDEOCHAT_TURN_SECRET": VIDEOCHAT_TURN_SECRET,
    "VIDEOCHAT_TURN_TTL": VIDEOCHAT_TURN_TTL,
    "VIDEOCHAT_ICE_TRANSPORT_POLICY": VIDEOCHAT_ICE_TRANSPORT_POLICY,
    "VIDEOCHAT_RECONNECT_GRACE": VIDEOCHAT_RECONNECT_GRACE,
    "VIDEOCHAT_ALLOW_ANONYMOUS": VIDEOCHAT_ALLOW_ANONYMOUS,
    "VIDEOCHAT_SIGN_IN_URL": VIDEOCHAT_SIGN_IN_URL,
    "VIDEOCHAT_ROOM_CAPACITY": VIDEOCHAT_ROOM_CAPACITY,
    "VIDEOCHAT_CHAT_HISTORY": VIDEOCHAT_CHAT_HISTORY,
    "VIDEOCHAT_STORE_URL": VIDEOCHAT_STORE_URL,
    "VIDEOCHAT_PRESENCE": VIDEOCHAT_PRESENCE,
    "VIDEOCHAT_PRESENCE_WINDOW": VIDEOCHAT_PRESENCE_WINDOW,
    "VIDEOCHAT_PRESENCE_TTL": VIDEOCHAT_PRESENCE_TTL,
    "VIDEOCHAT_ALLOWED_ORIGINS": VIDEOCHAT_ALLOWED_ORIGINS,
    "VIDEOCHAT_RATE_LIMITS": VIDEOCHAT_RATE_LIMITS,
    "VIDEOCHAT_RATE_LIMITS_PER_USER": VIDEOCHAT_RATE_LIMITS_PER_USER,
    "VIDEOCHAT_RATE_LIMIT_STORAGE": VIDEOCHAT_RATE_LIMIT_STORAGE,
    "VIDEOCHAT_MAX_MESSAGE_SIZE": VIDEOCHAT_MAX_MESSAGE_SIZE,
    "VIDEOCHAT_HARDEN_TRANSPORT": VIDEOCHAT_HARDEN_TRANSPORT,
    "VIDEOCHAT_CSP_NONCE": VIDEOCHAT_CSP_NONCE,
    "VIDEOCHAT_LOCALE": VIDEOCHAT_LOCALE,
    "VIDEOCHAT_TRANSLATIONS": VIDEOCHAT_TRANSLATIONS,
}


@dataclass(frozen=True)
class Settings:
    """The validated ``VIDEOCHAT_*`` settings of one app."""

    ring_timeout: float
    ice_servers: tuple[dict[str, Any], ...]
    reconnect_grace: float
    allow_anonymous: bool
    sign_in_url: str | None
    room_capacity: int
    chat_history: int
    turn_urls: tuple[str, ...] = ()
    turn_secret: str | None = field(default=None, repr=False)
    turn_ttl: int = VIDEOCHAT_TURN_TTL
    ice_transport_policy: str = VIDEOCHAT_ICE_TRANSPORT_POLICY
    store_url: str | None = None
    presence: bool = True
    presence_window: float = 0.1
    presence_ttl: float = 15.0
    #: Origins allowed besides the site's own, as ``(scheme, host, port)``.
    allowed_origins: frozenset[tuple[str, str, int]] = frozenset()
    #: ``VIDEOCHAT_ALLOWED_ORIGINS = "*"``.
    any_origin: bool = False
    max_message_size: int = VIDEOCHAT_MAX_MESSAGE_SIZE
    harden_transport: bool = True
    #: ``VIDEOCHAT_CSP_NONCE``, imported: the request's nonce, or ``None``.
    csp_nonce: Callable[[], str | None] | None = field(default=None, compare=False)
    #: The rate limits, ready to count; ``None``: no rate limits.
    rate_limiter: EventLimiter | None = field(default=None, compare=False, repr=False)

    def origin_allowed(self, origin: str | None, host_url: str) -> bool:
        """Whether a page of ``origin`` (the ``Origin`` header; ``None`` when the
        request has none) may connect to the site at ``host_url`` (the request's own
        ``scheme://host[:port]/``)."""
        if origin is None or self.any_origin:
            return True
        page = _origin(origin)
        return page is not None and (page == _origin(host_url) or page in self.allowed_origins)

    def ice_servers_for(self, user_id: str, *, now: float | None = None) -> list[dict[str, Any]]:
        """The ``RTCIceServer`` list for a new connection of ``user_id``, with TURN
        credentials minted now (see :func:`flask_videochat.core.ice.ice_servers_for`)."""
        return ice_servers_for(
            user_id,
            ice_servers=self.ice_servers,
            turn_urls=self.turn_urls,
            turn_secret=self.turn_secret,
            turn_ttl=self.turn_ttl,
            now=now,
        )

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        """Read and check the ``VIDEOCHAT_*`` keys of ``config``.

        :raises ValueError: a key has a value of the wrong type or range; the message
            names the key.
        """
        ring_timeout = _seconds(config, "VIDEOCHAT_RING_TIMEOUT", minimum=1)
        grace = _seconds(config, "VIDEOCHAT_RECONNECT_GRACE", minimum=0)
        servers = config["VIDEOCHAT_ICE_SERVERS"]
        if not isinstance(servers, (list, tuple)) or not all(
            isinstance(s, dict) and "urls" in s for s in servers
        ):
            raise ValueError(
                "VIDEOCHAT_ICE_SERVERS must be a list of RTCIceServer dicts, each with "
                f"a 'urls' key, got {servers!r}"
            )
        turn_urls, turn_secret, turn_ttl, policy = read_turn_config(config, servers)
        anonymous = config["VIDEOCHAT_ALLOW_ANONYMOUS"]
        if not isinstance(anonymous, bool):
            raise ValueError(f"VIDEOCHAT_ALLOW_ANONYMOUS must be a bool, got {anonymous!r}")
        sign_in = config["VIDEOCHAT_SIGN_IN_URL"]
        if sign_in is not None and not isinstance(sign_in, str):
            raise ValueError(f"VIDEOCHAT_SIGN_IN_URL must be a string, got {sign_in!r}")
        return cls(
            ring_timeout=ring_timeout,
            ice_servers=tuple(dict(s) for s in servers),
            reconnect_grace=grace,
            allow_anonymous=anonymous,
            sign_in_url=sign_in,
            room_capacity=_count(config, "VIDEOCHAT_ROOM_CAPACITY", minimum=2),
            chat_history=_count(config, "VIDEOCHAT_CHAT_HISTORY", minimum=0),
            turn_urls=turn_urls,
            turn_secret=turn_secret,
            turn_ttl=turn_ttl,
            ice_transport_policy=policy,
            store_url=_store_url(config),
            presence=_flag(config, "VIDEOCHAT_PRESENCE"),
            presence_window=_presence_window(config),
            presence_ttl=_seconds(config, "VIDEOCHAT_PRESENCE_TTL", minimum=2),
            harden_transport=_flag(config, "VIDEOCHAT_HARDEN_TRANSPORT"),
            csp_nonce=_csp_nonce(config),
            **_abuse_limits(config),
        )


def read_turn_config(
    config: Mapping[str, Any], ice_servers: Sequence[Mapping[str, Any]]
) -> tuple[tuple[str, ...], str | None, int, str]:
    """Check the TURN keys of ``config``.

    Logs a warning for a ``turn:`` server of ``VIDEOCHAT_ICE_SERVERS`` that has a
    fixed ``credential``: every page showing the widget can read it.

    :returns: ``(turn_urls, turn_secret, turn_ttl, ice_transport_policy)``.
    :raises ValueError: a key has a bad value, only one of ``VIDEOCHAT_TURN_URLS``
        and ``VIDEOCHAT_TURN_SECRET`` is set, or ``VIDEOCHAT_ICE_TRANSPORT_POLICY``
        is ``"relay"`` with no TURN server at all; the message names the key.
    """
    def get(key: str) -> Any:
        return config.get(key, DEFAULTS[key])

    urls = get("VIDEOCHAT_TURN_URLS")
    if not isinstance(urls, (list, tuple)) or not all(
        isinstance(u, str) and u.startswith(TURN_SCHEMES) for u in urls
    ):
        raise ValueError(
            "VIDEOCHAT_TURN_URLS must be a list of turn: or turns: URLs, e.g. "
            f"['turn:turn.example.org:3478?transport=udp'], got {urls!r} (STUN "
            "servers need no credentials: put them in VIDEOCHAT_ICE_SERVERS)"
        )
    secret = get("VIDEOCHAT_TURN_SECRET")
    if secret is not None and (not isinstance(secret, str) or not secret):
        raise ValueError("VIDEOCHAT_TURN_SECRET must be None or a non-empty string")
    if urls and secret is None:
        raise ValueError(
            "VIDEOCHAT_TURN_URLS needs VIDEOCHAT_TURN_SECRET, the TURN server's "
            "shared secret (coturn: static-auth-secret)"
        )
    if secret is not None and not urls:
        raise ValueError("VIDEOCHAT_TURN_SECRET is set but VIDEOCHAT_TURN_URLS is empty")
    ttl = get("VIDEOCHAT_TURN_TTL")
    if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < MIN_TURN_TTL:
        raise ValueError(
            f"VIDEOCHAT_TURN_TTL must be a whole number of seconds >= {MIN_TURN_TTL}, got {ttl!r}"
        )
    policy = get("VIDEOCHAT_ICE_TRANSPORT_POLICY")
    if policy not in ICE_TRANSPORT_POLICIES:
        raise ValueError(
            f"VIDEOCHAT_ICE_TRANSPORT_POLICY must be one of {ICE_TRANSPORT_POLICIES}, "
            f"got {policy!r}"
        )
    fixed_turn = [s for s in ice_servers if turn_urls_of(s) and s.get("credential")]
    if policy == "relay" and not urls and not fixed_turn:
        raise ValueError(
            "VIDEOCHAT_ICE_TRANSPORT_POLICY is 'relay' but there is no TURN server: "
            "set VIDEOCHAT_TURN_URLS and VIDEOCHAT_TURN_SECRET"
        )
    for server in fixed_turn:
        log.warning(
            "VIDEOCHAT_ICE_SERVERS has a fixed TURN password for %s: every page that "
            "shows the widget can read it and use your TURN server. Prefer "
            "VIDEOCHAT_TURN_URLS and VIDEOCHAT_TURN_SECRET (short-lived credentials).",
            ", ".join(turn_urls_of(server)),
        )
    return tuple(urls), secret, ttl, policy


def _seconds(config: Mapping[str, Any], key: str, *, minimum: float) -> float:
    value = config[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise ValueError(f"{key} must be a number of seconds >= {minimum}, got {value!r}")
    return float(value)


def _count(config: Mapping[str, Any], key: str, *, minimum: int) -> int:
    value = config[key]
    # bool is an int in Python; True is not a capacity.
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{key} must be a whole number >= {minimum}, got {value!r}")
    return value


#: URL schemes of :data:`VIDEOCHAT_STORE_URL` (redis-py's).
STORE_SCHEMES = ("redis://", "rediss://", "unix://")


def _store_url(config: Mapping[str, Any]) -> str | None:
    url = config.get("VIDEOCHAT_STORE_URL")
    if url is None:
        return None
    if not isinstance(url, str) or not url.startswith(STORE_SCHEMES):
        raise ValueError(
            "VIDEOCHAT_STORE_URL must be None or a Redis URL starting with "
            f"{', '.join(STORE_SCHEMES)}, got {url!r}"
        )
    return url


def _flag(config: Mapping[str, Any], key: str) -> bool:
    value = config.get(key, DEFAULTS[key])
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be a bool, got {value!r}")
    return value


def _csp_nonce(config: Mapping[str, Any]) -> Callable[[], str | None] | None:
    value = config.get("VIDEOCHAT_CSP_NONCE")
    if isinstance(value, str):
        module_name, _, attribute = value.partition(":")
        try:
            if not (module_name and attribute):
                raise ImportError("not of the form 'module:attribute'")
            found: Any = importlib.import_module(module_name)
            for part in attribute.split("."):
                found = getattr(found, part)
        except (ImportError, AttributeError) as exc:
            raise ValueError(
                f"VIDEOCHAT_CSP_NONCE: cannot import {value!r} ({exc}); give a callable "
                "or its 'module:attribute' path"
            ) from None
        value = found
    if value is not None and not callable(value):
        raise ValueError(
            "VIDEOCHAT_CSP_NONCE must be None, a callable returning the request's nonce, "
            f"or the 'module:attribute' path of one, got {value!r}"
        )
    if value is not None:
        try:
            inspect.signature(value).bind()
        except TypeError:
            raise ValueError(
                f"VIDEOCHAT_CSP_NONCE: {value!r} must be callable with no arguments"
            ) from None
        except ValueError:
            pass  # no signature to read (some built-ins): it is called as it is
    return value  # type: ignore[no-any-return]


def _presence_window(config: Mapping[str, Any]) -> float:
    value = config.get("VIDEOCHAT_PRESENCE_WINDOW", VIDEOCHAT_PRESENCE_WINDOW)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 0.25:
        raise ValueError(
            f"VIDEOCHAT_PRESENCE_WINDOW must be a number of seconds from 0 to 0.25, got {value!r}"
        )
    return float(value)


# -- abuse limits: origins, rate limits, message size ----------------------------------

#: Schemes of a page origin, with their default ports.
_ORIGIN_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int] | None:
    """``(scheme, host, port)`` of an origin or URL, the default port filled in;
    ``None`` for anything else (``"null"``, an extension's page, garbage)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _ORIGIN_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname, port or _ORIGIN_PORTS[scheme]


def _abuse_limits(config: Mapping[str, Any]) -> dict[str, Any]:
    origins, any_origin = _allowed_origins(config)
    size = config.get("VIDEOCHAT_MAX_MESSAGE_SIZE", VIDEOCHAT_MAX_MESSAGE_SIZE)
    if isinstance(size, bool) or not isinstance(size, int) or size < 4096:
        raise ValueError(
            f"VIDEOCHAT_MAX_MESSAGE_SIZE must be a whole number of bytes >= 4096, got {size!r}"
        )
    return {
        "allowed_origins": origins,
        "any_origin": any_origin,
        "max_message_size": size,
        "rate_limiter": _rate_limiter(
            config, room_capacity=_count(config, "VIDEOCHAT_ROOM_CAPACITY", minimum=2)
        ),
    }


def _allowed_origins(config: Mapping[str, Any]) -> tuple[frozenset[tuple[str, str, int]], bool]:
    value = config.get("VIDEOCHAT_ALLOWED_ORIGINS", VIDEOCHAT_ALLOWED_ORIGINS)
    if value is None:
        return frozenset(), False
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple, set, frozenset)):
        raise ValueError(
            "VIDEOCHAT_ALLOWED_ORIGINS must be None, '*' or a list of origins such as "
            f"'https://app.example.org', got {value!r}"
        )
    origins: set[tuple[str, str, int]] = set()
    for item in value:
        if item == "*":
            return frozenset(), True
        parsed = _origin(item) if isinstance(item, str) else None
        parts = urlsplit(item.strip()) if parsed is not None else None
        if (
            parsed is None
            or parts is None
            or parts.path not in ("", "/")
            or parts.query
            or parts.fragment
            or parts.username is not None
        ):
            raise ValueError(
                "VIDEOCHAT_ALLOWED_ORIGINS: each origin is scheme://host[:port] with "
                f"http or https and no path, got {item!r}"
            )
        origins.add(parsed)
    return frozenset(origins), False


def _rate_limiter(config: Mapping[str, Any], *, room_capacity: int) -> EventLimiter | None:
    limits = config.get("VIDEOCHAT_RATE_LIMITS", VIDEOCHAT_RATE_LIMITS)
    if limits is None:
        return None
    if not isinstance(limits, Mapping):
        raise ValueError(
            "VIDEOCHAT_RATE_LIMITS must be None or a dict of event name -> limit such as "
            f"'20/second;300/minute', got {limits!r}"
        )
    unknown = sorted(str(k) for k in limits if k not in (DEFAULT, CONNECT) and k not in EVENTS)
    if unknown:
        raise ValueError(
            f"VIDEOCHAT_RATE_LIMITS names unknown events {', '.join(unknown)}; known: "
            f"{DEFAULT}, {CONNECT}, {', '.join(sorted(EVENTS))}"
        )
    merged = {**BUILT_IN_RATE_LIMITS, "room.signal": room_signal_limit(room_capacity), **limits}
    parsed = {}
    for event, text in merged.items():
        try:
            parsed[event] = () if text is None else parse_limit(text)
        except ValueError as exc:
            raise ValueError(f"VIDEOCHAT_RATE_LIMITS[{event!r}]: {exc}") from None
    per_user = config.get("VIDEOCHAT_RATE_LIMITS_PER_USER", VIDEOCHAT_RATE_LIMITS_PER_USER)
    if (
        isinstance(per_user, bool)
        or not isinstance(per_user, (int, float))
        or not (1 <= per_user < float("inf"))
    ):
        raise ValueError(f"VIDEOCHAT_RATE_LIMITS_PER_USER must be a number >= 1, got {per_user!r}")
    uri = _rate_limit_storage(config)
    try:
        # In memory, the limiter counts by itself (no limits storage: its memory
        # storage sweeps every counter from a timer thread, a cost per event).
        storage = None if uri.startswith("memory://") else open_storage(uri)
    except ValueError as exc:
        raise ValueError(f"VIDEOCHAT_RATE_LIMIT_STORAGE: {exc}") from None
    return EventLimiter(
        {EVENTS.get(event, event): items for event, items in parsed.items() if event != DEFAULT},
        default=parsed[DEFAULT],
        per_user=per_user,
        storage=storage,
    )


def _rate_limit_storage(config: Mapping[str, Any]) -> str:
    uri = config.get("VIDEOCHAT_RATE_LIMIT_STORAGE", VIDEOCHAT_RATE_LIMIT_STORAGE)
    if uri is None:
        # VIDEOCHAT_STORE_URL may be unset, or not valid: _store_url reports that.
        store = config.get("VIDEOCHAT_STORE_URL")
        if isinstance(store, str) and store.startswith(("redis://", "rediss://")):
            return store
        if isinstance(store, str) and store.startswith("unix://"):
            return "redis+" + store  # limits' name for a Redis socket
        return "memory://"
    if not isinstance(uri, str):
        raise ValueError(
            f"VIDEOCHAT_RATE_LIMIT_STORAGE must be None or a limits storage URI, got {uri!r}"
        )
    return uri
