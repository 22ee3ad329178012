"""The rate limiter's counters in memory (``flask_videochat.core.ratelimit``): exact up
to :data:`~flask_videochat.core.ratelimit.EXACT_UP_TO` events a window, a sliding window
counter above; a refused event counts nowhere; the time to wait is right; a
connection's budget goes with it and idle users' budgets are forgotten."""

from __future__ import annotations

import pytest

from flask_videochat.core import ratelimit
from flask_videochat.core.ratelimit import (
    EXACT_UP_TO,
    EventLimiter,
    RateLimitedError,
    parse_limit,
)


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def limiter(rules: dict[str, str], clock: Clock, *, default: str = "10/second",
            per_user: float = 1) -> EventLimiter:
    return EventLimiter({k: parse_limit(v) for k, v in rules.items()},
                        default=parse_limit(default), per_user=per_user, clock=clock)


def refused(hit: object, *args: str) -> float:
    with pytest.raises(RateLimitedError) as error:
        hit(*args)  # type: ignore[operator]
    return error.value.retry_after


def test_a_steady_caller_under_a_small_limit_is_never_refused() -> None:
    # 8 calls a minute against "10/minute", bunched at the end of each minute: a
    # sliding window counter refuses some of these (soak, issue 10); counted
    # exactly, none is.
    clock = Clock(0.0)
    budget = limiter({"call_invite": "10/minute"}, clock).budget()
    for minute in range(10):
        for i in range(8):
            clock.now = minute * 60 + 52 + i
            budget.hit("call_invite")


def test_a_small_limit_counts_exactly_and_says_when_the_oldest_leaves() -> None:
    clock = Clock(0.0)
    budget = limiter({"call_invite": "3/minute"}, clock).budget()
    for t in (0.0, 10.0, 20.0):
        clock.now = t
        budget.hit("call_invite")
    clock.now = 30.0
    assert refused(budget.hit, "call_invite") == pytest.approx(30.001)  # t=0 leaves at 60
    clock.now = 60.0
    budget.hit("call_invite")
    assert refused(budget.hit, "call_invite") == pytest.approx(10.001)


def test_a_large_limit_uses_a_sliding_window_counter() -> None:
    assert EXACT_UP_TO < 100
    clock = Clock(0.0)
    budget = limiter({"signal": "100/minute"}, clock).budget()
    for _ in range(100):
        budget.hit("signal")
    clock.now = 30.0  # still the first window: full
    wait = refused(budget.hit, "signal")
    assert wait == pytest.approx(30.001)  # until it becomes the previous window, weight 1
    clock.now = 75.0  # the previous window weighs 0.75: 75 of 100 still count
    for _ in range(25):
        budget.hit("signal")
    assert refused(budget.hit, "signal") > 0


def test_a_refused_event_is_counted_in_none_of_its_limits() -> None:
    clock = Clock(0.0)
    budget = limiter({"chat_send": "5/second;6/minute"}, clock).budget()
    for _ in range(5):
        budget.hit("chat_send")
    for _ in range(50):
        refused(budget.hit, "chat_send")  # over 5/second: not counted in 6/minute
    clock.now = 1.0
    budget.hit("chat_send")  # the 6th of the minute
    assert refused(budget.hit, "chat_send") == pytest.approx(59.001)


def test_each_connection_has_its_own_budget_and_the_user_one_over_all() -> None:
    clock = Clock()
    limits = limiter({}, clock, default="2/minute", per_user=1.5)  # 3 for the user
    first, second = limits.budget(), limits.budget()
    for budget in (first, first, second):
        budget.hit("ping")
        limits.hit_user("ping", "ada")
    refused(first.hit, "ping")
    second.hit("ping")
    refused(limits.hit_user, "ping", "ada")
    limits.hit_user("ping", "bob")


def test_idle_users_budgets_are_forgotten_once_every_window_passed() -> None:
    clock = Clock()
    limits = limiter({"call_invite": "10/minute;60/hour"}, clock)
    for n in range(1000):
        limits.hit_user("call_invite", f"user{n}")
    assert limits.users_counted == 1000
    clock.now += 2 * 3600 + 1  # twice the longest window: nothing of theirs counts
    limits.hit_user("ping", "ada")
    assert limits.users_counted == 1


def test_a_user_still_inside_a_window_keeps_their_count() -> None:
    clock = Clock()
    limits = limiter({"call_invite": "2/hour"}, clock)
    limits.hit_user("call_invite", "ada")
    limits.hit_user("call_invite", "ada")
    clock.now += 1800
    for n in range(100):
        limits.hit_user("ping", f"user{n}")
    refused(limits.hit_user, "call_invite", "ada")


def test_at_most_so_many_users_are_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimit, "MAX_USERS_COUNTED", 100)
    clock = Clock()
    limits = limiter({"call_invite": "10/minute;60/hour"}, clock)
    for n in range(1000):
        limits.hit_user("call_invite", f"user{n}")
    assert limits.users_counted == 100
