"""The test harness of the unit and Socket.IO tests: the host app, its tabs and the
fake clock that ``tests/conftest.py``'s fixtures hand out.

Every Socket.IO test runs against a small host app of its own (not ``example_site``):
Flask + Flask-Login with an in-memory user table, ``SocketIO(app, async_mode=...)``
and ``VideoChat(app, socketio)``, once per async mode (``threading`` and
``eventlet``), built by :func:`build_host`. Flask-SocketIO's test client needs no
server and no monkey patching; the extension's timers (ring timeout, reconnect
grace) are Socket.IO background tasks that sleep with ``socketio.sleep``, so tests
that wait for them poll with :func:`wait_until`, which sleeps the same way (under
eventlet that is what lets the timer's green thread run).

- :class:`Host`: a host app with Socket.IO and VideoChat registered;
- :class:`Tab`: one Socket.IO connection to ``/videochat``, with what it received;
- :class:`Connector`: opens tabs on a host, one signed-in browser per user;
- :class:`FakeClock`: a clock for a :class:`CallBook` or :class:`RoomBook`.

Test modules import these names from here (``from tests.harness import Host``), for
type checking or to use them; the fixtures stay in ``conftest.py``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from flask import Flask, request, session
from flask.testing import FlaskClient
from flask_login import LoginManager, UserMixin, login_user
from flask_socketio import SocketIO, SocketIOTestClient
from socketio import packet

from flask_videochat import NAMESPACE, CallBook, RoomBook, User, VideoChat, VideoChatState

#: The Socket.IO async modes the extension must work under.
ASYNC_MODES = ("threading", "eventlet")

#: The host's user table: id -> display name. Eve's name is hostile markup, which
#: must reach browsers unchanged, as text.
USERS: dict[str, str] = {
    "ada": "Ada Lovelace",
    "bob": "Bob",
    "cy": "Cy",
    "dan": "Dan",
    "eve": "<img src=x onerror=alert(1)>",
}

#: A STUN server for the test config; ``hello`` must hand it to every browser.
STUN = {"urls": "stun:stun.example.org:3478"}

#: Config of the default test host. The ring timeout is the smallest allowed (1 s).
#: Presence changes go out at once, one ``presence.changes`` per change, so that
#: tests see them in order without waiting for a window.
TEST_CONFIG: dict[str, Any] = {
    "VIDEOCHAT_RING_TIMEOUT": 1,
    "VIDEOCHAT_RECONNECT_GRACE": 0,
    "VIDEOCHAT_ICE_SERVERS": [STUN],
    "VIDEOCHAT_PRESENCE_WINDOW": 0,
}

#: Seconds a test waits for a timer-driven event before failing.
WAIT_TIMEOUT = 5.0

#: The stores the state tests run against (``tests/conftest.py``, "stores").
STORE_KINDS = ("memory", "redis")


class Member(UserMixin):
    """A user of the host app, as Flask-Login sees it."""

    def __init__(self, member_id: str, name: str) -> None:
        self.id = member_id
        self.name = name


@dataclass
class Host:
    """A host app with Socket.IO and VideoChat registered."""

    app: Flask
    socketio: SocketIO
    videochat: VideoChat
    async_mode: str
    #: The host's user table, id -> display name (:data:`USERS`).
    names: dict[str, str] = field(default_factory=lambda: dict(USERS))

    def public(self, user_id: str) -> dict[str, str]:
        """``{"id", "name"}`` of a user of the host, as browsers should see them."""
        return {"id": user_id, "name": self.names[user_id]}

    @property
    def state(self) -> VideoChatState:
        """The extension's per-app state (presence, calls, settings)."""
        return VideoChat.state(self.app)

    @property
    def book(self) -> CallBook:
        """The app's live calls."""
        return self.state.calls

    @property
    def rooms(self) -> RoomBook:
        """The app's rooms."""
        return self.state.rooms

    def sleep(self, seconds: float) -> None:
        """Sleep so that the server's background tasks run (green threads too)."""
        self.socketio.sleep(seconds)


def wait_until(
    predicate: Callable[[], bool], host: Host, *, what: str, timeout: float = WAIT_TIMEOUT
) -> None:
    """Poll ``predicate`` until it is true; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        host.sleep(0.01)


@dataclass
class Tab:
    """One Socket.IO connection to ``/videochat`` (a browser tab), with everything it
    has received, in order."""

    host: Host
    client: SocketIOTestClient
    user_id: str | None
    log: list[tuple[str, Any]] = field(default_factory=list)

    @property
    def connected(self) -> bool:
        return self.client.is_connected(NAMESPACE)

    @property
    def sid(self) -> str:
        """The Socket.IO session id of this connection."""
        sid = self.host.socketio.server.manager.sid_from_eio_sid(self.client.eio_sid, NAMESPACE)
        assert sid is not None
        return str(sid)

    def _pull(self) -> None:
        # pop() one packet at a time: a timer thread may append concurrently.
        queue = self.client.queue
        while queue:
            pkt = queue.pop(0)
            if pkt["namespace"] == NAMESPACE:
                args = pkt["args"]
                self.log.append((pkt["name"], args[0] if len(args) == 1 else args))

    def emit(self, event: str, *args: Any) -> Any:
        """Emit ``event`` with an acknowledgement callback; returns the ack payload."""
        return self.client.emit(event, *args, namespace=NAMESPACE, callback=True)

    def names(self) -> list[str]:
        """Names of every event received so far, in order."""
        self._pull()
        return [name for name, _ in self.log]

    def received(self, name: str) -> list[Any]:
        """Payloads of the ``name`` events received so far, in order."""
        self._pull()
        return [data for event, data in self.log if event == name]

    def changes(self) -> list[dict[str, Any]]:
        """The ``presence.changes`` received so far, in order, each checked to have
        the documented shape."""
        changes = self.received("presence.changes")
        for change in changes:
            assert set(change) == {"users", "left"}, change
            # "callable" (a bool) only when the host has a can_call hook.
            assert all(set(user) - {"callable"} == {"id", "name", "status"} for user in change["users"]), change
            assert all(isinstance(user.get("callable", True), bool) for user in change["users"]), change
            assert all(isinstance(uid, str) for uid in change["left"]), change
        return changes

    def online(self) -> list[dict[str, str]]:
        """Every user ``presence.changes`` listed as online (``{"id", "name",
        "status"}``), in order."""
        return [user for change in self.changes() for user in change["users"]]

    def offline(self) -> list[str]:
        """The id of every user ``presence.changes`` listed as gone, in order."""
        return [uid for change in self.changes() for uid in change["left"]]

    def statuses(self) -> list[tuple[str, str]]:
        """``(id, status)`` of every user ``presence.changes`` listed as online, in
        order."""
        return [(user["id"], user["status"]) for user in self.online()]

    def clear(self) -> None:
        """Forget what was received so far."""
        self._pull()
        self.log.clear()

    def wait_for(self, name: str, *, timeout: float = WAIT_TIMEOUT) -> Any:
        """Wait for the first ``name`` event and return its payload."""
        wait_until(
            lambda: bool(self.received(name)),
            self.host,
            what=f"{name!r} on {self.user_id}",
            timeout=timeout,
        )
        return self.received(name)[0]

    def close(self) -> None:
        """Close this connection (the tab goes away)."""
        if self.connected:
            self.client.disconnect(namespace=NAMESPACE)
        SocketIOTestClient.clients.pop(self.client.eio_sid, None)


class Connector:
    """Opens tabs on one host; one signed-in Flask test client (browser) per user."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.browsers: dict[str | None, FlaskClient] = {}
        self.tabs: list[Tab] = []

    def browser(self, user_id: str | None) -> FlaskClient:
        """The Flask test client of ``user_id``, signed in (``None``: signed out)."""
        if user_id not in self.browsers:
            client = self.host.app.test_client()
            if user_id is not None:
                response = client.post("/login", data={"id": user_id})
                assert response.status_code == 200, response.data
            self.browsers[user_id] = client
        return self.browsers[user_id]

    def __call__(self, user_id: str | None) -> Tab:
        """A new tab for ``user_id`` in their browser (may be refused: see
        :attr:`Tab.connected`)."""
        client = self.host.socketio.test_client(
            self.host.app, namespace=NAMESPACE, flask_test_client=self.browser(user_id)
        )
        tab = Tab(self.host, client, user_id)
        self.tabs.append(tab)
        return tab

    def connect_error(self, user_id: str | None) -> tuple[bool, Any]:
        """Try to connect ``user_id`` and return ``(connected, connect_error data)``:
        the data of the ``CONNECT_ERROR`` packet as a browser would receive it."""
        client = self.host.socketio.test_client(
            self.host.app, flask_test_client=self.browser(user_id)
        )  # on "/", so that packets of the /videochat connect can be watched
        send = self.host.socketio.server._send_packet
        errors: list[Any] = []

        def spy(eio_sid: str, pkt: packet.Packet) -> None:
            if pkt.packet_type == packet.CONNECT_ERROR and pkt.namespace == NAMESPACE:
                errors.append(pkt.data)
            send(eio_sid, pkt)

        self.host.socketio.server._send_packet = spy
        try:
            client.connect(namespace=NAMESPACE)
        finally:
            self.host.socketio.server._send_packet = send
        connected = client.is_connected(NAMESPACE)
        self.tabs.append(Tab(self.host, client, user_id))
        return connected, (errors[0] if errors else None)

    def close_all(self) -> None:
        for tab in self.tabs:
            tab.close()


#: The ``make_host`` fixture: ``make_host(**options)`` -> a :class:`Host`
#: (:func:`build_host`).
MakeHost = Callable[..., Host]
#: The ``connector_for`` fixture: ``connector_for(host)`` -> a :class:`Connector`.
ConnectorFor = Callable[[Host], Connector]


def build_host(
    async_mode: str,
    instance_path: str,
    *,
    store_url: str | None = None,
    config: dict[str, Any] | None = None,
    login: bool = True,
    identity_loader: Callable[[], Any] | None = None,
    can_call: Callable[[User, User], bool] | None = None,
    can_join: Callable[[User, str], bool] | None = None,
    can_see: Callable[[User, User], bool] | None = None,
    videochat: VideoChat | None = None,
) -> Host:
    """A host app (what the ``make_host`` fixture makes). ``config`` is applied over
    :data:`TEST_CONFIG`; with ``login=False`` the host has no Flask-Login and
    ``/login`` only stores the id in the session (for ``identity_loader`` hosts).
    With a ``store_url`` the host keeps its state in that Redis."""
    app = Flask(__name__, instance_path=instance_path)
    app.config.update(SECRET_KEY="test-secret", TESTING=True, **TEST_CONFIG)
    app.config.update(config or {})
    members = {uid: Member(uid, name) for uid, name in USERS.items()}
    if login:
        manager = LoginManager(app)
        manager.login_view = "login"
        manager.user_loader(members.get)

    def login_view() -> str:
        if request.method == "GET":
            return "sign in"
        user_id = request.form["id"]
        if login:
            login_user(members[user_id])
        else:
            session["uid"] = user_id
        return "ok"

    app.add_url_rule("/login", "login", login_view, methods=["GET", "POST"])
    if store_url is not None:
        # One process on the Redis store: every state change goes through Redis.
        # (Flask-SocketIO's test client refuses a message queue; a testing app
        # may go without one.)
        app.config["VIDEOCHAT_STORE_URL"] = store_url
    socketio = SocketIO(app, async_mode=async_mode)
    assert socketio.async_mode == async_mode
    ext = videochat or VideoChat()
    if identity_loader is not None:
        ext.identity_loader(identity_loader)
    if can_call is not None:
        ext.can_call(can_call)
    if can_join is not None:
        ext.can_join(can_join)
    if can_see is not None:
        ext.can_see(can_see)
    ext.init_app(app, socketio)
    return Host(app=app, socketio=socketio, videochat=ext, async_mode=async_mode)


class FakeClock:
    """A clock for :class:`CallBook` that moves only when told to."""

    def __init__(self, start: float = 100.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
