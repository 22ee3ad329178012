"""Rate limits, through ``/videochat`` and Flask-SocketIO's test client under both
async modes and both stores: events over their limits are refused without doing
anything, budgets per connection and per user. Plus the hardening config keys and
the limiter on its own."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable, Iterator

import pytest
from limits.storage import RedisStorage

import flask_videochat.events.base as namespace_base
from flask_videochat.config import DEFAULTS, Settings
from flask_videochat.core.protocol import EVENTS
from flask_videochat.core.ratelimit import (
    BUILT_IN_RATE_LIMITS,
    EventLimiter,
    RateLimitedError,
    open_storage,
    parse_limit,
)
from flask_videochat.events.base import MAX_REFUSALS
from tests.support import CANDIDATE, OFFER, answered, assert_error, clear, invite

#: Rate limit tests run on both stores: in memory, and on Redis (one process), where
#: the rate limit counters are in Redis too.
both_stores = pytest.mark.parametrize("host_store", ("memory", "redis"), indirect=True)

if TYPE_CHECKING:
    from tests.harness import Connector, Host, MakeHost

    Connectors = Callable[[Host], Connector]


def assert_rate_limited(ack: Any, *, within: float) -> float:
    """``ack`` is ``ERR_RATE_LIMITED`` with ``retry_after`` seconds (> 0, at most
    ``within``, the limit's window, and the millisecond it is rounded up by);
    returns it."""
    assert isinstance(ack, dict) and ack["ok"] is False, ack
    assert set(ack) == {"ok", "error"}
    error = ack["error"]
    assert set(error) == {"code", "message", "retry_after"}, error
    assert error["code"] == "ERR_RATE_LIMITED"
    assert isinstance(error["message"], str) and "Try again" in error["message"]
    retry = error["retry_after"]
    assert isinstance(retry, (int, float)) and 0 < retry <= within + 0.002, error
    return float(retry)


# -- rate limits -------------------------------------------------------------------------


@both_stores
def test_flooding_call_invites_rings_the_callee_only_as_often_as_the_limit(
    make_host: MakeHost, connector_for: Connectors
) -> None:
    host = make_host(config={"VIDEOCHAT_RATE_LIMITS": {"call.invite": "3/minute"}})
    connect = connector_for(host)
    ada, bob = connect("ada"), connect("bob")
    clear(ada, bob)

    for _ in range(3):
        call_id = invite(ada, "bob")
        assert ada.emit("call.cancel", {"call_id": call_id})["ok"] is True
    host.sleep(0.2)
    clear(ada, bob)
    acks = [ada.emit("call.invite", {"to": "bob"}) for _ in range(20)]

    for ack in acks:
        assert_rate_limited(ack, within=60)
    host.sleep(0.2)
    assert bob.received("call.incoming") == []
    assert ada.names() == [] and bob.names() == []
    assert host.book.live_call_of("ada") is None
    assert host.book.live_call_of("bob") is None


@both_stores
def test_a_refused_event_does_no_other_work(
    make_host: MakeHost, connector_for: Connectors, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = make_host(config={"VIDEOCHAT_RATE_LIMITS": {"signal": "2/minute"}})
    connect = connector_for(host)
    ada, bob = connect("ada"), connect("bob")
    call_id = answered(ada, bob)
    for _ in range(2):
        assert ada.emit("signal", {"call_id": call_id, "candidate": CANDIDATE}) == {"ok": True}
    clear(ada, bob)
    work: list[str] = []
    parse, size = namespace_base.parse, namespace_base.check_size
    presence = host.state.presence
    user_of = presence.user_of
    monkeypatch.setattr(namespace_base, "parse", lambda *a: work.append("parse") or parse(*a))
    monkeypatch.setattr(
        namespace_base, "check_size", lambda *a, **k: work.append("size") or size(*a, **k)
    )
    monkeypatch.setattr(presence, "user_of", lambda sid: work.append("user") or user_of(sid))

    for _ in range(50):
        assert_rate_limited(
            ada.emit("signal", {"call_id": call_id, "description": OFFER}), within=60
        )

    assert work == []
    assert bob.received("signal") == []


@both_stores
def test_two_tabs_of_one_user_share_the_user_budget(
    make_host: MakeHost, connector_for: Connectors
) -> None:
    host = make_host(
        config={
            "VIDEOCHAT_RATE_LIMITS": {"ping": "3/minute"},
            "VIDEOCHAT_RATE_LIMITS_PER_USER": 1.5,  # 5 pings a minute over all tabs
        }
    )
    connect = connector_for(host)
    tab1, tab2, bob = connect("ada"), connect("ada"), connect("bob")

    first = [tab1.emit("ping", {}) for _ in range(4)]
    second = [tab2.emit("ping", {}) for _ in range(3)]
    reopened = connect("ada")  # a new connection does not make a new budget

    assert first[:3] == [{"ok": True}] * 3
    assert_rate_limited(first[3], within=60)  # that tab's own limit
    assert second[:2] == [{"ok": True}] * 2
    assert_rate_limited(second[2], within=60)  # Ada's limit: 5 in all
    assert_rate_limited(reopened.emit("ping", {}), within=60)
    assert bob.emit("ping", {}) == {"ok": True}  # somebody else's budget


@both_stores
def test_each_event_has_its_own_budget_and_unknown_events_share_one(
    make_host: MakeHost, connector_for: Connectors
) -> None:
    host = make_host(config={"VIDEOCHAT_RATE_LIMITS": {"default": "2/minute"}})
    ada = connector_for(host)("ada")

    unknown = [ada.emit(name, {"x": 1}) for name in ("call.ring", "nope", "call_invite")]

    assert_error(unknown[0], "ERR_UNKNOWN_EVENT")
    assert_error(unknown[1], "ERR_UNKNOWN_EVENT")
    assert_rate_limited(unknown[2], within=60)
    assert ada.emit("ping", {}) == {"ok": True}  # another budget


def test_waiting_retry_after_is_enough(make_host: MakeHost, connector_for: Connectors) -> None:
    host = make_host(config={"VIDEOCHAT_RATE_LIMITS": {"ping": "4/second"}})
    ada = connector_for(host)("ada")
    retry = None
    for _ in range(10):
        ack = ada.emit("ping", {})
        if not ack["ok"]:
            retry = assert_rate_limited(ack, within=1)
            break
    assert retry is not None

    time.sleep(retry)

    assert ada.emit("ping", {}) == {"ok": True}


def test_the_default_limits_let_a_call_trickle_ice(connect: Connector) -> None:
    # An offer and 40 ICE candidates within a second each way, then the answer.
    ada, bob = connect("ada"), connect("bob")
    call_id = answered(ada, bob)
    clear(ada, bob)

    sent = [bob.emit("signal", {"call_id": call_id, "description": OFFER})]
    sent += [bob.emit("signal", {"call_id": call_id, "candidate": CANDIDATE}) for _ in range(40)]
    sent += [ada.emit("signal", {"call_id": call_id, "description": OFFER})]
    sent += [ada.emit("signal", {"call_id": call_id, "candidate": CANDIDATE}) for _ in range(40)]

    assert sent == [{"ok": True}] * 82
    assert len(ada.received("signal")) == 41
    assert len(bob.received("signal")) == 41


def test_the_default_limits_let_someone_join_a_full_room(connect: Connector) -> None:
    # Joining a room of 4: an offer and 40 candidates to each of 3 members at once.
    tabs = {uid: connect(uid) for uid in ("ada", "bob", "cy", "dan")}
    for tab in tabs.values():
        assert tab.emit("room.join", {"room": "standup"})["ok"] is True
    clear(*tabs.values())
    others = ("bob", "cy", "dan")

    acks = []
    for to in others:
        acks.append(
            tabs["ada"].emit("room.signal", {"room": "standup", "to": to, "description": OFFER})
        )
        acks += [
            tabs["ada"].emit("room.signal", {"room": "standup", "to": to, "candidate": CANDIDATE})
            for _ in range(40)
        ]

    assert acks == [{"ok": True}] * 123
    for to in others:
        assert len(tabs[to].received("room.signal")) == 41


def test_the_defaults_are_tight_where_a_flood_rings_people() -> None:
    limits = Settings.from_config(DEFAULTS).rate_limiter
    assert limits is not None

    def per_minute(event: str) -> float:
        return min(i.amount * 60 / i.get_expiry() for i in limits.limits_of(EVENTS[event]))

    for event in ("call.invite", "room.invite", "call.add"):
        assert per_minute(event) <= 10
    assert per_minute("chat.send") <= 60
    assert per_minute("signal") >= 40 * 20  # ICE restarts every 3 s for a minute
    assert per_minute("room.signal") >= 3 * 40 * 20


@both_stores
def test_a_flood_does_not_hold_up_another_users_signals(
    make_host: MakeHost, connector_for: Connectors
) -> None:
    host = make_host()
    connect = connector_for(host)
    ada, bob, eve = connect("ada"), connect("bob"), connect("eve")
    call_id = answered(ada, bob)
    clear(ada, bob)
    refused = 0

    # Eve sends 25 events between each of Ada's: her budget is soon spent, and her
    # connection is closed once she has been refused MAX_REFUSALS events.
    sent = []
    for _ in range(40):
        for _ in range(25):
            if eve.connected:
                refused += not eve.emit("ping", {})["ok"]
        sent.append(ada.emit("signal", {"call_id": call_id, "candidate": CANDIDATE}))

    assert refused == MAX_REFUSALS + 1
    assert not eve.connected
    assert sent == [{"ok": True}] * 40
    assert (
        bob.received("signal") == [{"call_id": call_id, "from": "ada", "candidate": CANDIDATE}] * 40
    )


@pytest.mark.parametrize("async_mode", ["threading"])
def test_no_rate_limits_when_turned_off(make_host: MakeHost, connector_for: Connectors) -> None:
    host = make_host(config={"VIDEOCHAT_RATE_LIMITS": None})
    ada = connector_for(host)("ada")

    assert [ada.emit("ping", {}) for _ in range(300)] == [{"ok": True}] * 300


# -- configuration -----------------------------------------------------------------------------


def settings(**config: Any) -> Settings:
    return Settings.from_config({**DEFAULTS, **config})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("VIDEOCHAT_ALLOWED_ORIGINS", 42),
        ("VIDEOCHAT_ALLOWED_ORIGINS", ["app.example.org"]),
        ("VIDEOCHAT_ALLOWED_ORIGINS", ["https://app.example.org/videochat"]),
        ("VIDEOCHAT_ALLOWED_ORIGINS", ["ftp://app.example.org"]),
        ("VIDEOCHAT_ALLOWED_ORIGINS", ["https://app.example.org?x=1"]),
        ("VIDEOCHAT_ALLOWED_ORIGINS", ["https://user@app.example.org"]),
        ("VIDEOCHAT_ALLOWED_ORIGINS", ["https://app.example.org:99999"]),
        ("VIDEOCHAT_ALLOWED_ORIGINS", [None]),
        ("VIDEOCHAT_RATE_LIMITS", "20/second"),
        ("VIDEOCHAT_RATE_LIMITS", {"call.invte": "1/minute"}),
        ("VIDEOCHAT_RATE_LIMITS", {"chat.send": "lots"}),
        ("VIDEOCHAT_RATE_LIMITS", {"chat.send": 5}),
        ("VIDEOCHAT_RATE_LIMITS", {"default": "0/second"}),
        ("VIDEOCHAT_RATE_LIMITS_PER_USER", 0.5),
        ("VIDEOCHAT_RATE_LIMITS_PER_USER", True),
        ("VIDEOCHAT_RATE_LIMITS_PER_USER", "2"),
        ("VIDEOCHAT_RATE_LIMIT_STORAGE", "nope://here"),
        ("VIDEOCHAT_RATE_LIMIT_STORAGE", 42),
        ("VIDEOCHAT_MAX_MESSAGE_SIZE", 100),
        ("VIDEOCHAT_MAX_MESSAGE_SIZE", True),
        ("VIDEOCHAT_MAX_MESSAGE_SIZE", "65536"),
    ],
)
def test_bad_values_fail_at_start_up_naming_the_key(key: str, value: Any) -> None:
    with pytest.raises(ValueError, match=key):
        settings(**{key: value})


def test_init_app_refuses_a_bad_limit(make_host: MakeHost) -> None:
    with pytest.raises(ValueError, match="VIDEOCHAT_RATE_LIMITS"):
        make_host(config={"VIDEOCHAT_RATE_LIMITS": {"signal": "fast"}})


def test_good_values_are_read() -> None:
    listed = settings(VIDEOCHAT_ALLOWED_ORIGINS=["https://App.Example.org", "http://b.test:8080/"])
    assert listed.allowed_origins == {("https", "app.example.org", 443), ("http", "b.test", 8080)}
    assert settings(VIDEOCHAT_ALLOWED_ORIGINS="*").any_origin
    assert settings(VIDEOCHAT_ALLOWED_ORIGINS="https://a.test").allowed_origins == {
        ("https", "a.test", 443)
    }
    assert settings(VIDEOCHAT_RATE_LIMITS=None).rate_limiter is None
    limiter = settings(VIDEOCHAT_RATE_LIMITS={"chat.send": None, "ping": "1/second"}).rate_limiter
    assert limiter is not None
    assert limiter.limits_of("chat_send") == ()
    assert [str(i) for i in limiter.limits_of("ping")] == ["1 per 1 second"]
    # Named events keep their built-in limits; the room.signal budget grows with rooms.
    assert limiter.limits_of("call_invite") == parse_limit(BUILT_IN_RATE_LIMITS["call.invite"])
    bigger = settings(VIDEOCHAT_ROOM_CAPACITY=6).rate_limiter
    assert bigger is not None
    assert [i.amount for i in bigger.limits_of("room_signal")] == [750, 15000]


def test_counters_go_to_the_stores_redis_by_default(redis_url: str) -> None:
    def storage(**config: Any) -> Any:
        limiter = settings(**config).rate_limiter
        assert limiter is not None
        return limiter.storage

    # In memory the limiter counts by itself (no limits storage, whose timer thread
    # sweeps every counter), with Redis in limits' Redis storage.
    assert storage() is None
    assert isinstance(storage(VIDEOCHAT_STORE_URL=redis_url), RedisStorage)
    assert isinstance(storage(VIDEOCHAT_STORE_URL="unix:///run/redis.sock"), RedisStorage)
    explicit = storage(VIDEOCHAT_STORE_URL=redis_url, VIDEOCHAT_RATE_LIMIT_STORAGE="memory://")
    assert explicit is None


# -- the limiter on its own -----------------------------------------------------------------


@pytest.fixture
def redis_limiters(redis_url: str) -> Iterator[Callable[[], EventLimiter]]:
    """``make()``: a limiter on one Redis, as each process of a site has."""

    def make() -> EventLimiter:
        return EventLimiter(
            {"call_invite": parse_limit("2/minute")},
            default=parse_limit("10/second"),
            per_user=1.5,
            storage=open_storage(redis_url),
        )

    yield make


def test_processes_sharing_a_redis_share_each_users_budget(
    redis_limiters: Callable[[], EventLimiter],
) -> None:
    one, two = redis_limiters(), redis_limiters()

    one.hit_user("call_invite", "ada")
    two.hit_user("call_invite", "ada")
    one.hit_user("call_invite", "ada")
    one.hit_user("call_invite", "bob/1")
    with pytest.raises(RateLimitedError) as refused:
        two.hit_user("call_invite", "ada")  # 2 x 1.5 = 3 over both processes

    assert 0 < refused.value.retry_after <= 60.002  # the window, rounded up to the ms
    one.hit_user("call_invite", "bob/1")  # Bob's own budget
    # A connection lives in one process: its budget is counted there, in memory.
    connection = one.budget()
    connection.hit("call_invite")
    connection.hit("call_invite")
    with pytest.raises(RateLimitedError):
        connection.hit("call_invite")
    two.budget().hit("call_invite")  # another connection's budget


def test_the_rate_limited_ack_carries_retry_after() -> None:
    error = RateLimitedError(2.5)

    assert error.ack() == {
        "ok": False,
        "error": {
            "code": "ERR_RATE_LIMITED",
            "message": "Too many requests. Try again in 3 seconds.",
            "retry_after": 2.5,
        },
    }


def test_a_rate_limit_storage_that_fails_lets_events_through(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Redis restarting under the limits' storage: events go on (fail open), logged
    # once, instead of every event of every user failing.
    limiter = EventLimiter(
        {},
        default=parse_limit("1/minute"),
        per_user=1,
        storage=open_storage("redis://127.0.0.1:1/0"),  # opening it does not connect
    )

    def down(*args: Any) -> bool:
        raise ConnectionError("Connection closed by server.")

    monkeypatch.setattr(limiter._strategy, "hit", down)
    for _ in range(5):
        limiter.hit_user("ping", "ada")

    failures = [r for r in caplog.records if "rate-limit storage failed" in r.getMessage()]
    assert len(failures) == 1
