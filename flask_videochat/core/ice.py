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
import time
from typing import Any, Mapping, Sequence
from urllib.parse import quote

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
    user_id: str,
    *,
    ice_servers: Sequence[Mapping[str, Any]],
    turn_urls: Sequence[str],
    turn_secret: str | None,
    turn_ttl: int,
    now: float | None = None,
) -> list[dict[str, Any]]:
    """The ``RTCIceServer`` list for a new connection of ``user_id``: ``ice_servers``
    (``VIDEOCHAT_ICE_SERVERS``), then, when TURN is configured, one entry for
    ``turn_urls`` with credentials valid for ``turn_ttl`` seconds minted now
    (:func:`turn_credentials`).
    """
    servers = [dict(s) for s in ice_servers]
    if turn_urls and turn_secret:
        servers.append(
            {"urls": list(turn_urls), **turn_credentials(turn_secret, user_id, turn_ttl, now=now)}
        )
    return servers


def turn_urls_of(server: Mapping[str, Any]) -> list[str]:
    """The ``turn:`` and ``turns:`` URLs of an ``RTCIceServer`` dictionary."""
    urls = server.get("urls")
    listed = [urls] if isinstance(urls, str) else list(urls or [])
    return [u for u in listed if isinstance(u, str) and u.startswith(TURN_SCHEMES)]
def _turn_urls(server: Mapping[str, Any]) -> list[str]:
    urls = server.get("urls")
    listed = [urls] if isinstance(urls, str) else list(urls or [])
    return [u for u in listed if isinstance(u, str) and u.startswith(TURN_SCHEMES)]
