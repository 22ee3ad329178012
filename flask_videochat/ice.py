"""ICE servers for each browser: the site's STUN/TURN list plus short-lived TURN
credentials minted per connection.

TURN credentials follow the "TURN REST API" scheme (draft-uberti-behave-turn-rest-00),
which coturn checks with ``use-auth-secret`` and ``static-auth-secret``: the username
is ``"<expiry unix seconds>:<user id>"`` and the password (``credential``) is
``base64(HMAC-SHA1(secret, username))``. The TURN server needs no user database: it
recomputes the password from the username and the shared secret, and refuses
usernames whose expiry has passed. Only the server of the site knows the secret;
browsers get credentials that stop working after ``VIDEOCHAT_TURN_TTL`` seconds.

Example::

    >>> turn_credentials("s3cret", "ada", 3600, now=1700000000)
    {'username': '1700003600:ada', 'credential': 'Py4eM5SHz6wyBpurwH/r6N9jcbo='}
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from typing import TYPE_CHECKING, Any, Mapping, Sequence
from urllib.parse import quote

if TYPE_CHECKING:
    from .config import Settings

log = logging.getLogger("flask_videochat")

#: ``iceTransportPolicy`` values (W3C WebRTC 1.0 ``RTCIceTransportPolicy``):
#: ``"all"`` gathers host, server-reflexive and relay candidates; ``"relay"`` only
#: relay candidates, so the other side never learns this browser's IP addresses.
ICE_TRANSPORT_POLICIES = ("all", "relay")

#: URL schemes of TURN servers (RFC 7065).
TURN_SCHEMES = ("turn:", "turns:")

#: Fewest seconds ``VIDEOCHAT_TURN_TTL`` may be: shorter lets clocks that differ by
#: a few seconds between the site and the TURN server refuse fresh credentials.
MIN_TURN_TTL = 60

#: Longest user id put verbatim (percent-encoded) into a TURN username; longer ones
#: are replaced by a digest (a STUN USERNAME is at most 513 bytes, RFC 5389).
MAX_USERNAME_ID = 128


def turn_credentials(
    secret: str | bytes, user_id: str, ttl: int, now: float | None = None
) -> dict[str, str]:
    """Mint TURN credentials for ``user_id``, valid for ``ttl`` seconds from ``now``.

    :param secret: the secret shared with the TURN server (coturn's
        ``static-auth-secret``); a string is used as its UTF-8 bytes.
    :param user_id: who the credentials are for; it ends up in the TURN server's
        logs. Characters TURN servers refuse in a username (coturn: spaces, quotes,
        backslashes) and ``:`` are percent-encoded; an id longer than
        :data:`MAX_USERNAME_ID` characters after encoding is replaced by
        ``"sha256-"`` and the first 32 hex digits of its SHA-256.
    :param ttl: seconds the credentials stay valid (for new TURN allocations).
    :param now: the current time in Unix seconds (default: :func:`time.time`).
    :returns: ``{"username": "<expiry>:<user id>", "credential": "<base64>"}``, the
        two credential fields of an ``RTCIceServer``; ``expiry = int(now) + ttl``.

    Example::

        server = {"urls": ["turn:turn.example.org:3478?transport=udp"],
                  **turn_credentials(secret, "42", 86400)}
    """
    expiry = int(time.time() if now is None else now) + int(ttl)
    username = f"{expiry}:{_username_id(str(user_id))}"
    key = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(key, username.encode(), hashlib.sha1).digest()
    return {"username": username, "credential": base64.b64encode(digest).decode("ascii")}


def _username_id(user_id: str) -> str:
    encoded = quote(user_id, safe="-._~@+!$&()*,;=/")
    if len(encoded) > MAX_USERNAME_ID:
        return "sha256-" + hashlib.sha256(user_id.encode()).hexdigest()[:32]
    return encoded


def ice_servers_for(
    settings: Settings, user_id: str, *, now: float | None = None
) -> list[dict[str, Any]]:
    """The ``RTCIceServer`` list for a new connection of ``user_id``:
    ``VIDEOCHAT_ICE_SERVERS``, then, when TURN is configured, one entry for
    ``VIDEOCHAT_TURN_URLS`` with credentials minted now (:func:`turn_credentials`).
    """
    servers = [dict(s) for s in settings.ice_servers]
    if settings.turn_urls and settings.turn_secret:
        servers.append(
            {
                "urls": list(settings.turn_urls),
                **turn_credentials(settings.turn_secret, user_id, settings.turn_ttl, now=now),
            }
        )
    return servers


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
    from .config import DEFAULTS  # config imports this module

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
    fixed_turn = [s for s in ice_servers if _turn_urls(s) and s.get("credential")]
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
            ", ".join(_turn_urls(server)),
        )
    return tuple(urls), secret, ttl, policy


def _turn_urls(server: Mapping[str, Any]) -> list[str]:
    urls = server.get("urls")
    listed = [urls] if isinstance(urls, str) else list(urls or [])
    return [u for u in listed if isinstance(u, str) and u.startswith(TURN_SCHEMES)]
