"""Configuration keys read by :class:`flask_videochat.VideoChat`, with their defaults.

Every key is read once, in :meth:`VideoChat.init_app`, and validated there so that a
mistake fails at start-up rather than during a call. ``docs/configuration.md`` has
one entry per key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

#: Seconds a call rings on the callee's tabs before it ends with reason
#: ``no_answer``. Default: 30.
VIDEOCHAT_RING_TIMEOUT: float = 30

#: ``RTCIceServer`` dictionaries handed to every browser after it connects, for
#: example ``[{"urls": "stun:stun.example.org:3478"}]``. Default: ``[]``: no
#: third-party server is contacted unless the site owner chooses one, so calls
#: connect only between browsers that can reach each other directly. Set a STUN
#: server (and TURN for strict NATs) for calls across the internet.
VIDEOCHAT_ICE_SERVERS: list[dict[str, Any]] = []

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

DEFAULTS: dict[str, Any] = {
    "VIDEOCHAT_RING_TIMEOUT": VIDEOCHAT_RING_TIMEOUT,
    "VIDEOCHAT_ICE_SERVERS": VIDEOCHAT_ICE_SERVERS,
    "VIDEOCHAT_RECONNECT_GRACE": VIDEOCHAT_RECONNECT_GRACE,
    "VIDEOCHAT_ALLOW_ANONYMOUS": VIDEOCHAT_ALLOW_ANONYMOUS,
    "VIDEOCHAT_SIGN_IN_URL": VIDEOCHAT_SIGN_IN_URL,
    "VIDEOCHAT_ROOM_CAPACITY": VIDEOCHAT_ROOM_CAPACITY,
    "VIDEOCHAT_CHAT_HISTORY": VIDEOCHAT_CHAT_HISTORY,
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
        )


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
