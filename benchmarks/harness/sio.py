"""Socket.IO clients of ``/videochat`` for the benchmarks: :class:`Client` (events
numbered as the widget numbers them, acknowledged calls, one-shot waits for call
events), :class:`Person` (signed in through the example site's form: :func:`sign_in`),
and :func:`in_call`, which puts two of them in an answered call."""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any, Awaitable, Callable

import aiohttp
import socketio

from flask_videochat import NAMESPACE

__all__ = ["NAMESPACE", "Client", "Person", "in_call", "sign_in", "wait_all"]

#: Events a client can wait for once (:meth:`Client.expect`).
CALL_EVENTS = ("call.incoming", "call.accepted")


class Client:
    """A Socket.IO client of ``/videochat`` (``self.sio``) whose events carry
    ``seq`` as the widget's do (``docs/protocol.md``, Order) while
    :attr:`numbering` is on."""

    #: Whether events are numbered (the load tool's ``--no-seq`` turns it off for
    #: a flask_videochat older than numbering).
    numbering = True

    def __init__(self, sio: socketio.AsyncClient) -> None:
        self.sio = sio
        self.seq = 0
        #: event -> the future :meth:`expect` handed out (made on demand: the load
        #: tool holds thousands of clients that never wait for anything)
        self._expected: dict[str, asyncio.Future[Any]] | None = None
        for event in CALL_EVENTS:
            sio.on(event, self._arrival(event), namespace=NAMESPACE)

    def _arrival(self, event: str) -> Callable[[Any], None]:
        def arrived(data: Any) -> None:
            future = self._expected.pop(event, None) if self._expected else None
            if future is not None and not future.done():
                future.set_result(data)

        return arrived

    def expect(self, event: str) -> asyncio.Future[Any]:
        """A future of the payload of the next ``event`` (one of :data:`CALL_EVENTS`)."""
        if self._expected is None:
            self._expected = {}
        future = self._expected[event] = asyncio.get_running_loop().create_future()
        return future

    def numbered(self, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` with this connection's next ``seq``, as the widget sends it."""
        if not self.numbering:
            return data
        self.seq += 1
        return {**data, "seq": self.seq}

    async def call(self, event: str, data: dict[str, Any], timeout: float = 10) -> Any:
        """Emit ``event``, numbered, and return its acknowledgement."""
        return await self.sio.call(event, self.numbered(data), namespace=NAMESPACE,
                                   timeout=timeout)

    def send(self, event: str, data: dict[str, Any],
             callback: Callable[..., None] | None = None, *, seq: bool = True) -> Awaitable[None]:
        """Emit ``event``, numbered unless ``seq`` is false (a client of its own)."""
        return self.sio.emit(event, self.numbered(data) if seq else data,
                             namespace=NAMESPACE, callback=callback)

    async def disconnect(self) -> None:
        with contextlib.suppress(Exception):
            await self.sio.disconnect()


class Person(Client):
    """Someone signed in with a session cookie (:func:`sign_in`), on their own
    connection; ``id`` is theirs from ``hello``, ``on_signal`` gets every ``signal``."""

    def __init__(self, name: str) -> None:
        super().__init__(socketio.AsyncClient(reconnection=False, handle_sigint=False))
        self.name = name
        self.hello: dict[str, Any] = {}
        self.on_signal: Callable[[dict[str, Any]], None] = lambda data: None
        self.sio.on("hello", self._hello, namespace=NAMESPACE)
        self.sio.on("signal", lambda data: self.on_signal(data), namespace=NAMESPACE)

    def _hello(self, data: dict[str, Any]) -> None:
        self.hello = data

    async def connect(self, url: str, cookie: str) -> None:
        """Connect (WebSocket only) and wait for ``hello``."""
        await self.sio.connect(url, headers={"Cookie": cookie}, namespaces=[NAMESPACE],
                               transports=["websocket"], wait_timeout=10)
        for _ in range(200):
            if self.hello:
                return
            await asyncio.sleep(0.02)
        raise RuntimeError(f"{self.name}: no hello")

    @property
    def id(self) -> str:
        return str(self.hello["self"]["id"])


async def sign_in(url: str, name: str) -> str:
    """Sign ``name`` in through the site's form (sending its CSRF token when it has
    one); returns the ``Cookie`` header of that person's session."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as own:
        async with own.get(f"{url}/login") as page:
            text = await page.text()
        form = {"name": name}
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text)
        if token:
            form["csrf_token"] = token.group(1)
        async with own.post(f"{url}/login", data=form, allow_redirects=False) as answer:
            if answer.status not in (302, 303):
                raise RuntimeError(f"sign-in of {name} failed: {answer.status}")
        return "; ".join(f"{c.key}={c.value}" for c in jar)


async def in_call(caller: Any, callee: Any) -> str:
    """``caller`` invites ``callee`` (both :class:`Client` with an ``id``), who
    accepts once it rings; returns the call's id once the caller knows."""
    incoming, accepted = callee.expect("call.incoming"), caller.expect("call.accepted")
    invited = await caller.call("call.invite", {"to": callee.id})
    if not invited.get("ok") or invited.get("state") != "ringing":
        raise RuntimeError(f"call.invite: {invited}")
    call_id = str(invited["call_id"])
    await asyncio.wait_for(incoming, 10)
    answer = await callee.call("call.accept", {"call_id": call_id})
    if not answer.get("ok"):
        raise RuntimeError(f"call.accept: {answer}")
    await asyncio.wait_for(accepted, 10)
    return call_id


async def wait_all(events: list[asyncio.Event], timeout: float) -> bool:
    """Wait until every event is set; ``False`` after ``timeout`` seconds."""
    pending = [e.wait() for e in events if not e.is_set()]
    if not pending:
        return True
    try:
        await asyncio.wait_for(asyncio.gather(*pending), timeout)
    except asyncio.TimeoutError:
        return False
    return True
