"""One site served by two processes sharing a Redis (``VIDEOCHAT_STORE_URL``), in
real browsers: a call between people signed in on different processes, a room with
members on both, a process killed (its users disappear for the others within the
presence TTL), and Redis restarted empty (the processes carry on; new calls work).

Redis is Debian's ``redis-server``, started by the tests on a free loopback port;
each process is ``python -m example_site`` on eventlet with the same store URL and
secret key."""

from __future__ import annotations

import secrets
import time
from typing import Iterator

import pytest
from playwright.sync_api import expect

from flask_videochat.testing import (
    BLUE,
    GREEN,
    RED,
    LiveServer,
    RedisServer,
    answered_call,
    example_site_command,
)

#: Seconds after which a silent process's users are shown offline (small for tests).
TTL = 3
#: The site's SECRET_KEY, shared by all its processes (it also signs what the
#: extension writes to Redis: processes with another key refuse it).
SECRET = secrets.token_hex(16)


def _site(redis_url: str, secret: str) -> LiveServer:
    return LiveServer(
        example_site_command(),
        env={
            "VIDEOCHAT_ICE_SERVERS": "[]",
            "VIDEOCHAT_STORE_URL": redis_url,
            "VIDEOCHAT_PRESENCE_TTL": str(TTL),
            "VIDEOCHAT_ROOM_CAPACITY": "3",
            "SECRET_KEY": secret,
        },
    )


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


@pytest.fixture(scope="module")
def two_sites(redis_server: RedisServer) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two processes of one site, on two ports."""
    first = _site(redis_server.url, SECRET).start()
    second = _site(redis_server.url, SECRET).start()
    yield first, second
    first.stop()
    second.stop()


def _print_logs_on_failure(request: pytest.FixtureRequest, *sites: LiveServer) -> None:
    report = getattr(request.node, "videochat_report_call", None)
    if report is not None and report.failed:
        for i, site in enumerate(sites, 1):
            print(f"--- process {i} log ---\n{site.output()}")


@pytest.fixture
def sites(two_sites: tuple[LiveServer, LiveServer], request: pytest.FixtureRequest
          ) -> Iterator[tuple[LiveServer, LiveServer]]:
    yield two_sites
    _print_logs_on_failure(request, *two_sites)


def test_a_call_between_people_on_two_processes(videochat_user, names, sites):
    first, second = sites
    ada_name, bob_name = names("Ada"), names("Bob")
    ada = videochat_user(ada_name, colour=RED, base_url=first.url)
    bob = videochat_user(bob_name, colour=BLUE, base_url=second.url)

    ada_id, bob_id = answered_call(ada, bob, caller_name=ada_name, callee_name=bob_name)

    ada.expect_remote_video_playing(bob_id)
    bob.expect_remote_video_playing(ada_id)
    ada.expect_remote_colour(bob_id, BLUE)
    bob.expect_remote_colour(ada_id, RED)
    # Both processes know the call: Ada's status reached Cy, on the second process.
    cy = videochat_user(names("Cy"), base_url=second.url)
    expect(cy.user(ada_id)).to_have_attribute("data-status", "in_call")
    bob.hang_up()
    ada.expect_idle()
    expect(cy.user(ada_id)).to_have_attribute("data-status", "available")


def test_a_room_with_members_on_both_processes(videochat_user, names, room_name, sites):
    first, second = sites
    path = f"/videochat/rooms/{room_name}"
    people = {
        "Ada": (videochat_user(names("Ada"), colour=RED, path=path, base_url=first.url), RED),
        "Bob": (videochat_user(names("Bob"), colour=BLUE, path=path, base_url=second.url), BLUE),
        "Cy": (videochat_user(names("Cy"), colour=GREEN, path=path, base_url=first.url), GREEN),
    }
    ids = {}
    for who, (page, _) in people.items():
        expect(page.join_button).to_be_enabled()
        page.join()
        expect(page.room).to_be_visible()
        ids[who] = page.own_user_id()

    for who, (page, _) in people.items():
        others = [w for w in people if w != who]
        page.expect_in_room([ids[w] for w in others])
        for other in others:
            page.expect_remote_video_playing(ids[other])
            page.expect_remote_colour(ids[other], people[other][1])

    people["Bob"][0].leave()
    people["Ada"][0].expect_no_tile(ids["Bob"], timeout=2)
    people["Cy"][0].expect_no_tile(ids["Bob"], timeout=2)


def test_the_users_of_a_killed_process_disappear_within_the_ttl(
        videochat_user, names, redis_server, request):
    doomed = _site(redis_server.url, SECRET).start()
    survivor = _site(redis_server.url, SECRET).start()
    try:
        ada = videochat_user(names("Ada"), base_url=survivor.url)
        cy_name = names("Cy")
        videochat_user(cy_name, base_url=doomed.url)
        cy_id = ada.user_id_of(cy_name)
        ada.expect_online(cy_id)

        doomed.kill()
        killed_at = time.monotonic()
        # Cy's browser tries to reconnect to a dead port; nobody else serves it.
        ada.expect_offline(cy_id, timeout=TTL + 3)
        gone_after = time.monotonic() - killed_at
        print(f"Cy shown offline {gone_after:.1f} s after the kill (TTL {TTL} s)")
        assert gone_after <= TTL + 1.5
    finally:
        _print_logs_on_failure(request, doomed, survivor)
        doomed.stop()
        survivor.stop()


def test_after_redis_restarts_the_processes_carry_on_and_new_calls_work(
        videochat_user, names, redis_server, sites):
    first, second = sites
    ada_name, bob_name = names("Ada"), names("Bob")
    ada = videochat_user(ada_name, colour=RED, base_url=first.url)
    bob = videochat_user(bob_name, colour=BLUE, base_url=second.url)
    bob_id = ada.user_id_of(bob_name)

    redis_server.restart()  # empty: no persistence
    # Each process registers its connections again at its next heartbeat (and says
    # so in its log); python-socketio's message queue reconnects within a second or
    # two. Then presence crosses processes again, both ways: Cy, new on the second
    # process, is seen by Ada on the first, and Dan, new on the first, by Bob.
    deadline = time.monotonic() + 10
    while not all("Redis had forgotten this process" in s.output() for s in sites):
        assert time.monotonic() < deadline, "a process did not re-register in 10 s"
        time.sleep(0.2)
    time.sleep(2)
    cy_name = names("Cy")
    videochat_user(cy_name, base_url=second.url)
    ada.user_id_of(cy_name, timeout=10)
    dan_name = names("Dan")
    videochat_user(dan_name, base_url=first.url)
    bob.user_id_of(dan_name, timeout=10)
    ada.expect_online(bob_id)

    ada.call(bob_id)
    bob.expect_ringing(ada_name)
    bob.accept()
    ada_id = bob.user_id_of(ada_name)
    ada.expect_remote_colour(bob_id, BLUE)
    bob.expect_remote_colour(ada_id, RED)
