"""ConnectionQueue: one connection's events run one at a time, in ``seq`` order,
whatever order their tasks reach it in (threads started in the wrong order here)."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

import pytest

from flask_videochat.core.ordering import MAX_SEQ, ConnectionQueue, parse_seq
from flask_videochat.core.protocol import ErrorCode, ProtocolError


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


def test_the_seq_of_the_running_event_cannot_be_used_again() -> None:
    queue = ConnectionQueue(threading.Event, gap_timeout=0.1)
    log: list[str] = []
    results: dict[Any, Any] = {}

    def slow() -> str:
        log.append("first 1")
        time.sleep(0.2)
        return "first"

    first = start(queue, 1, slow, results)
    while not log:
        time.sleep(0.005)
    with pytest.raises(ProtocolError) as refused:
        queue.run(1, lambda: log.append("second 1"))
    assert refused.value.code.value == "ERR_INVALID_PAYLOAD"
    first.join(5)
    assert queue.run(2, lambda: "two") == "two"
    assert log == ["first 1"]
    with pytest.raises(ProtocolError):
        queue.run(2, lambda: log.append("two again"))


def test_a_waiter_killed_while_waiting_does_not_block_the_connection() -> None:
    """A green thread killed while its event waits (eventlet's or gevent's kill, a
    timeout) takes its place with it: the events after it still run."""
    import eventlet

    class Event:
        """An eventlet event whose wait can be interrupted by ``GreenletExit``."""

        def __init__(self) -> None:
            self._event = eventlet.Event()

        def set(self) -> None:
            if not self._event.ready():
                self._event.send(True)

        def wait(self, timeout: float | None = None) -> bool:
            with eventlet.Timeout(timeout, False):
                self._event.wait()
                return True
            return False

    queue = ConnectionQueue(Event, gap_timeout=0.1)
    ran: list[int] = []
    doomed = eventlet.spawn(queue.run, 2, lambda: ran.append(2))
    eventlet.sleep(0.01)
    assert queue.waiting == 1
    doomed.kill()
    assert queue.waiting == 0, "the killed waiter left the queue"
    third = eventlet.spawn(queue.run, 3, lambda: ran.append(3))
    assert queue.run(1, lambda: ran.append(1)) is None
    third.wait()
    assert ran == [1, 3], "2 never came (killed); 3 ran after the gap timeout"


def test_closing_drops_the_waiting_events_and_refuses_new_ones() -> None:
    queue = ConnectionQueue(threading.Event)
    results: dict[Any, Any] = {}
    waiting = start(queue, 2, lambda: "never", results)
    wait_waiting(queue, 1)
    queue.close()
    waiting.join(5)
    assert results == {2: "ERR_UNAUTHENTICATED"}
    with pytest.raises(ProtocolError):
        queue.run(1, lambda: "after close")


def test_an_event_refused_because_too_many_wait_is_passed_over() -> None:
    """Nothing waits for a number the queue refused: the events after it run as soon
    as those before it have."""
    queue = ConnectionQueue(threading.Event, max_waiting=1, gap_timeout=30)
    results: dict[Any, Any] = {}
    ran: list[int] = []
    second = start(queue, 2, lambda: ran.append(2), results)
    wait_waiting(queue, 1)
    with pytest.raises(ProtocolError) as refused:
        queue.run(3, lambda: ran.append(3))
    assert refused.value.code.value == "ERR_RATE_LIMITED"
    queue.run(1, lambda: ran.append(1))
    second.join(5)
    started = time.monotonic()
    queue.run(4, lambda: ran.append(4))
    assert time.monotonic() - started < 1, "4 did not wait for 3 (gap timeout 30 s)"
    assert ran == [1, 2, 4]
    with pytest.raises(ProtocolError):
        queue.run(3, lambda: "3 again")


def test_a_check_before_waiting_can_refuse_and_changes_nothing() -> None:
    queue = ConnectionQueue(threading.Event, gap_timeout=30)
    checked: list[int] = []

    def too_large() -> None:
        checked.append(1)
        raise ProtocolError(ErrorCode.TOO_LARGE, "too large")

    with pytest.raises(ProtocolError) as refused:
        queue.run(2, lambda: "never", before_waiting=too_large)  # would wait for 1
    assert refused.value.code is ErrorCode.TOO_LARGE
    assert queue.waiting == 0
    assert queue.run(1, lambda: "one", before_waiting=too_large) == "one", "ran at once"
    assert checked == [1]
    assert queue.run(2, lambda: "two") == "two", "2 was not taken by the refusal"


def test_the_gap_timeout_counts_from_when_the_connection_went_idle() -> None:
    queue = ConnectionQueue(threading.Event, gap_timeout=0.3)
    log: list[tuple[str, float]] = []
    results: dict[Any, Any] = {}
    t0 = time.monotonic()
    first = start(
        queue, 1, lambda: time.sleep(0.5) or log.append(("1 ends", time.monotonic())), results
    )
    time.sleep(0.05)
    third = start(queue, 3, lambda: log.append(("3 runs", time.monotonic())), results)
    first.join(5)
    third.join(5)
    (_, ended), (_, ran) = log
    assert ran - ended >= 0.29, "3 waited the whole gap timeout after 1 ended"
    assert ran - t0 < 2


# -- numbers passed over (events refused on arrival) ----------------------------------


def test_a_number_passed_over_lets_the_next_run_at_once() -> None:
    queue = ConnectionQueue(threading.Event, gap_timeout=30)
    results: dict[Any, Any] = {}
    assert queue.run(1, lambda: "one") == "one"
    waiting = start(queue, 3, lambda: "three", results)
    wait_waiting(queue, 1)

    queue.pass_over(2)  # refused on arrival: nothing waits for it

    waiting.join(5)
    assert results == {3: "three"}
    assert queue.run(4, lambda: "four") == "four"


def test_a_number_passed_over_ahead_is_skipped_when_its_turn_comes() -> None:
    queue = ConnectionQueue(threading.Event, gap_timeout=30)
    results: dict[Any, Any] = {}
    queue.pass_over(2)
    waiting = start(queue, 3, lambda: "three", results)
    wait_waiting(queue, 1)
    assert queue.run(1, lambda: "one") == "one"
    waiting.join(5)
    assert results == {3: "three"}


def test_passing_over_a_used_number_changes_nothing() -> None:
    queue = ConnectionQueue(threading.Event, gap_timeout=30)
    queue.run(1, lambda: None)
    queue.pass_over(1)
    queue.pass_over(1)
    assert queue.run(2, lambda: "two") == "two"
    with pytest.raises(ProtocolError):
        queue.run(2, lambda: "again")
