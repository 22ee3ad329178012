"""Order on a real server: a connection's events are handled, and relayed, in the
order the client sent them, although the server runs handlers concurrently
(``async_handlers=True``, Flask-SocketIO's default) and the handling of SDP
descriptions is made slower than that of candidates (``tests/live_app.py
--slow-descriptions``). Under threading, eventlet and gevent, and across two
processes on Redis.

Without :mod:`flask_videochat.core.ordering` the candidates sent right after an offer
are relayed before it (the bug of a call that never connects) and these tests fail.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from typing import Any, Iterator

import pytest
import socketio

from flask_videochat.testing import LiveServer
from flask_videochat.testing.services import RedisServer

#: Seconds the server spends on each SDP description before relaying it.
SLOW = 0.3

OFFER = {"type": "offer", "sdp": "v=0\r\n"}


def candidate(n: int) -> dict[str, Any]:
    return {
        "candidate": f"candidate:{n} 1 udp 2122260223 127.0.0.1 {50000 + n} typ host",
        "sdpMid": "0",
        "sdpMLineIndex": 0,
        "usernameFragment": "abcd",
    }


def live_app(mode: str, *, store_url: str | None = None) -> LiveServer:
    command = [
        sys.executable,
        "-m",
        "tests.live_app",
        "--port",
        "{port}",
        "--async-mode",
        mode,
        "--slow-descriptions",
        str(SLOW),
    ]
    if store_url:
        command += ["--store-url", store_url]
    return LiveServer(command)


@pytest.fixture(scope="module", params=["threading", "eventlet", "gevent"])
def server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    with live_app(request.param) as running:
        yield running


@pytest.fixture(scope="module")
def two_processes() -> Iterator[tuple[LiveServer, LiveServer]]:
    if not shutil.which("redis-server"):
        pytest.fail("redis-server not found: install Debian's redis-server package")
    with RedisServer() as redis_server:
        first, second = (live_app("eventlet", store_url=redis_server.url) for _ in range(2))
        with first, second:
            yield first, second


class Person:
    """One signed-in Socket.IO connection to ``/videochat`` that records what it
    receives, in order."""

    def __init__(self, url: str, user: str) -> None:
        self.url = f"{url}/?user={user}"
        self.user = user
        self.client = socketio.AsyncClient()
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.seq = 0
        self.acks: list[Any] = []
        self.ack_order: list[int] = []
        self._sending: set[asyncio.Future[None]] = set()
        self.client.on("*", self._record, namespace="/videochat")

    async def _record(self, event: str, data: dict[str, Any]) -> None:
        self.received.append((event, data))

    async def __aenter__(self) -> Person:
        await self.client.connect(
            self.url, namespaces=["/videochat"], transports=["websocket"], wait_timeout=10
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.disconnect()

    def numbered(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.seq += 1
        return {**payload, "seq": self.seq}

    async def request(self, event: str, payload: dict[str, Any]) -> dict[str, Any]:
        return await self.client.call(
            event, self.numbered(payload), namespace="/videochat", timeout=10
        )

    def send(self, event: str, payload: dict[str, Any], *, numbered: bool = True) -> None:
        """Emit without waiting; the ack goes into :attr:`acks` (by send order) when
        it comes, and its index into :attr:`ack_order`."""
        body = self.numbered(payload) if numbered else payload
        index = len(self.acks)
        self.acks.append(None)

        def done(ack: Any) -> None:
            self.acks[index] = ack
            self.ack_order.append(index)

        self._sending.add(
            asyncio.ensure_future(
                self.client.emit(event, body, namespace="/videochat", callback=done)
            )
        )

    async def all_acked(self, timeout: float = 5) -> list[Any]:
        """The acks of everything :meth:`send` sent, once they all came (or the
        timeout passed: ``None`` for those that did not)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while None in self.acks and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)
        return self.acks

    async def wait_for(self, count: int, event: str, timeout: float = 10) -> list[dict[str, Any]]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            got = [d for e, d in self.received if e == event]
            if len(got) >= count or asyncio.get_running_loop().time() > deadline:
                return got
            await asyncio.sleep(0.02)


async def in_call(ada: Person, bob: Person) -> str:
    ack = await ada.request("call.invite", {"to": "bob"})
    assert ack["state"] == "ringing", ack
    await bob.wait_for(1, "call.incoming")
    accepted = await bob.request("call.accept", {"call_id": ack["call_id"]})
    assert accepted["ok"] is True, accepted
    return str(ack["call_id"])


def relayed_kinds(signals: list[dict[str, Any]]) -> list[str]:
    return [
        "offer" if "description" in s else s["candidate"]["candidate"].split()[0] for s in signals
    ]


async def offer_then_candidates(
    sender_url: str, receiver_url: str, *, numbered: bool = True
) -> tuple[list[str], list[int], list[Any]]:
    """Bob (on ``sender_url``) sends an offer and five candidates back to back,
    without waiting for acks; returns what Ada (on ``receiver_url``) got, in order,
    the order of Bob's acks, and the acks."""
    async with Person(receiver_url, "ada") as ada, Person(sender_url, "bob") as bob:
        call_id = await in_call(ada, bob)
        bob.send("signal", {"call_id": call_id, "description": OFFER}, numbered=numbered)
        for n in range(1, 6):
            bob.send("signal", {"call_id": call_id, "candidate": candidate(n)}, numbered=numbered)
        signals = await ada.wait_for(6, "signal", timeout=5 + 6 * SLOW)
        acks = await bob.all_acked()
        return relayed_kinds(signals), bob.ack_order, acks


EXPECTED = ["offer"] + [f"candidate:{n}" for n in range(1, 6)]


def test_a_candidate_never_overtakes_the_offer_sent_before_it(server: LiveServer) -> None:
    kinds, ack_order, acks = asyncio.run(offer_then_candidates(server.url, server.url))
    assert kinds == EXPECTED
    assert all(ack == {"ok": True} for ack in acks), acks
    assert ack_order == list(range(6)), "acks come back in the order the events were sent"


def test_across_two_processes_on_redis_the_peer_gets_them_in_order(
    two_processes: tuple[LiveServer, LiveServer],
) -> None:
    first, second = two_processes
    kinds, _, acks = asyncio.run(offer_then_candidates(first.url, second.url))
    assert kinds == EXPECTED
    assert all(ack == {"ok": True} for ack in acks), acks


@pytest.mark.parametrize("server", ["eventlet", "gevent"], indirect=True)
def test_without_seq_green_servers_keep_the_receipt_order(server: LiveServer) -> None:
    """A client that does not number its events gets the order in which they reach
    the namespace: under eventlet and gevent green threads start in order."""
    kinds, _, _ = asyncio.run(offer_then_candidates(server.url, server.url, numbered=False))
    assert kinds == EXPECTED


def test_a_slow_connection_does_not_hold_up_another(server: LiveServer) -> None:
    """While Bob's offer is being handled (slowly), Cy's events are answered at once."""

    async def scenario() -> float:
        async with (
            Person(server.url, "ada") as ada,
            Person(server.url, "bob") as bob,
            Person(server.url, "cy") as cy,
        ):
            call_id = await in_call(ada, bob)
            for _ in range(3):
                bob.send("signal", {"call_id": call_id, "description": OFFER})
            await asyncio.sleep(0.05)
            loop = asyncio.get_running_loop()
            started = loop.time()
            ack = await cy.request("ping", {})
            assert ack == {"ok": True}
            return loop.time() - started

    assert asyncio.run(scenario()) < SLOW


def test_a_repeated_seq_is_refused_and_changes_nothing(server: LiveServer) -> None:
    async def scenario() -> tuple[Any, Any, list[dict[str, Any]]]:
        async with Person(server.url, "ada") as ada, Person(server.url, "bob") as bob:
            call_id = await in_call(ada, bob)
            ok = await bob.request("call.media", {"call_id": call_id, "mic": False, "cam": True})
            again = await bob.client.call(
                "call.media",
                {"call_id": call_id, "mic": True, "cam": True, "seq": bob.seq},
                namespace="/videochat",
                timeout=10,
            )
            bad = await bob.client.call("ping", {"seq": "7"}, namespace="/videochat", timeout=10)
            assert bad["error"]["code"] == "ERR_INVALID_PAYLOAD", bad
            await asyncio.sleep(0.2)
            return ok, again, await ada.wait_for(1, "call.media")

    ok, again, media = asyncio.run(scenario())
    assert ok == {"ok": True}
    assert again["ok"] is False and again["error"]["code"] == "ERR_INVALID_PAYLOAD", again
    assert [m["mic"] for m in media] == [False], "the refused event was not relayed"


def test_media_states_sent_back_to_back_arrive_in_order_with_the_default_rate_limits(
    server: LiveServer,
) -> None:
    """The lost camera-off update: with the default rate limits on, limits' memory
    storage starts a ``threading.Timer`` on a hit, which under eventlet switches
    green threads in the middle of a handler, so the next ``call.media`` of the same
    connection could run first and the older state was relayed last."""

    async def scenario() -> tuple[list[bool], list[Any]]:
        async with Person(server.url, "ada") as ada, Person(server.url, "bob") as bob:
            call_id = await in_call(ada, bob)
            for n in range(8):  # under the default 10/second
                bob.send("call.media", {"call_id": call_id, "mic": True, "cam": n % 2 == 0})
            media = await ada.wait_for(8, "call.media")
            return [m["cam"] for m in media], await bob.all_acked()

    cams, acks = asyncio.run(scenario())
    assert all(ack == {"ok": True} for ack in acks), acks
    assert cams == [n % 2 == 0 for n in range(8)]


def test_an_unnumbered_ping_is_answered_at_once_behind_a_slow_handler(server: LiveServer) -> None:
    """The widget's liveness probe (``ping`` without ``seq``) does not wait behind its
    own connection's slow handler: a slow server is not taken for a dead connection."""

    async def scenario() -> tuple[float, list[Any]]:
        async with Person(server.url, "ada") as ada, Person(server.url, "bob") as bob:
            call_id = await in_call(ada, bob)
            bob.send("signal", {"call_id": call_id, "description": OFFER})  # slow
            await asyncio.sleep(0.05)
            loop = asyncio.get_running_loop()
            started = loop.time()
            ack = await bob.client.call("ping", {}, namespace="/videochat", timeout=10)
            took = loop.time() - started
            assert ack == {"ok": True}
            return took, await bob.all_acked()

    took, acks = asyncio.run(scenario())
    assert took < SLOW / 2, f"the probe waited {took:.2f} s"
    assert acks == [{"ok": True}], "and the offer was still handled"
