"""ConnectionQueue: one connection's events run one at a time, in ``seq`` order,
whatever order their tasks reach it in (threads started in the wrong order here)."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

import pytest

from flask_videochat.ordering import MAX_SEQ, ConnectionQueue, parse_seq
from flask_videochat.protocol import ProtocolError


def start(
    queue: ConnectionQueue, seq: int | None, work: Callable[[], Any], results: dict[Any, Any]
) -> threading.Thread:
    def run() -> None:
        try:
            results[seq] = queue.run(seq, work)
        except ProtocolError as exc:
            results[seq] = exc.code.value

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def wait_waiting(queue: ConnectionQueue, count: int) -> None:
    deadline = time.monotonic() + 5
    while queue.waiting < count:
        assert time.monotonic() < deadline, f"{queue.waiting} waiting, wanted {count}"
        time.sleep(0.005)


def test_events_that_arrive_out_of_order_run_in_seq_order() -> None:
    queue = ConnectionQueue(threading.Event)
    ran: list[int] = []
    results: dict[Any, Any] = {}
    threads = []
    for seq in (3, 2, 5, 4):
        threads.append(start(queue, seq, lambda s=seq: ran.append(s) or s, results))
    wait_waiting(queue, 4)
    assert ran == [], "nothing runs before seq 1"
    threads.append(start(queue, 1, lambda: ran.append(1) or 1, results))
    for thread in threads:
        thread.join(5)
    assert ran == [1, 2, 3, 4, 5]
    assert results == {1: 1, 2: 2, 3: 3, 4: 4, 5: 5}
    assert queue.waiting == 0


def test_one_handler_at_a_time() -> None:
    queue = ConnectionQueue(threading.Event)
    running = []
    overlaps = []

    def work() -> None:
        running.append(1)
        if len(running) > 1:
            overlaps.append(len(running))
        time.sleep(0.01)
        running.pop()

    threads = [threading.Thread(target=queue.run, args=(None, work)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert overlaps == []


def test_a_seq_used_again_is_refused_without_running() -> None:
    queue = ConnectionQueue(threading.Event)
    assert queue.run(1, lambda: "first") == "first"
    ran = []
    with pytest.raises(ProtocolError) as refused:
        queue.run(1, lambda: ran.append("again"))
    assert refused.value.code.value == "ERR_INVALID_PAYLOAD"
    assert ran == []
    assert queue.run(2, lambda: "next") == "next", "the refusal changed nothing"


def test_events_without_seq_take_the_next_number() -> None:
    queue = ConnectionQueue(threading.Event)
    assert [queue.run(None, lambda n=n: n) for n in range(3)] == [0, 1, 2]
    assert queue.run(4, lambda: "after") == "after"


def test_a_gap_that_never_fills_is_passed_after_the_timeout() -> None:
    queue = ConnectionQueue(threading.Event, gap_timeout=0.1)
    started = time.monotonic()
    assert queue.run(3, lambda: "three") == "three"  # 1 and 2 never come
    assert 0.1 <= time.monotonic() - started < 2
    assert queue.run(4, lambda: "four") == "four"


def test_a_gap_is_not_passed_while_a_handler_runs() -> None:
    queue = ConnectionQueue(threading.Event, gap_timeout=0.05)
    log: list[str] = []
    results: dict[Any, Any] = {}

    def slow() -> None:
        log.append("1 starts")
        time.sleep(0.3)
        log.append("1 ends")

    first = start(queue, 1, slow, results)
    while not log:
        time.sleep(0.005)
    third = start(queue, 3, lambda: log.append("3 runs"), results)  # 2 never comes
    first.join(5)
    third.join(5)
    assert log == ["1 starts", "1 ends", "3 runs"]


def test_too_many_waiting_are_refused_at_once() -> None:
    queue = ConnectionQueue(threading.Event, max_waiting=2, gap_timeout=0.2)
    results: dict[Any, Any] = {}
    threads = [start(queue, seq, lambda s=seq: s, results) for seq in (2, 3)]
    wait_waiting(queue, 2)
    with pytest.raises(ProtocolError) as refused:
        queue.run(4, lambda: 4)
    assert refused.value.code.value == "ERR_RATE_LIMITED"
    for thread in threads:
        thread.join(5)
    assert results == {2: 2, 3: 3}


def test_a_failing_handler_passes_the_turn_on() -> None:
    queue = ConnectionQueue(threading.Event)

    def boom() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        queue.run(1, boom)
    assert queue.run(2, lambda: "still in order") == "still in order"


@pytest.mark.parametrize("value", [0, -1, MAX_SEQ + 1, 1.0, "1", True, None, [1]])
def test_seq_must_be_a_positive_integer(value: object) -> None:
    with pytest.raises(ProtocolError) as refused:
        parse_seq(value)
    assert refused.value.code.value == "ERR_INVALID_PAYLOAD"


def test_seq_accepts_the_whole_range() -> None:
    assert parse_seq(1) == 1
    assert parse_seq(MAX_SEQ) == MAX_SEQ
