"""The Redis store's cost per operation, by how many calls are live.

Two :class:`~flask_videochat.stores.redis.RedisStore` objects on one Redis play two
processes of a site (Debian's ``redis-server``, started on a free loopback port).
With N active calls booked (N = 0, 100, 1,000 by default):

- **transition**: one process invites and the other hangs up (so each reloads the
  book the other changed): seconds per transition, including the reload.
- **read**: ``status_of`` on a process whose copy is current (one GET of the
  version).
- **presence**: ``connect`` + ``disconnect`` of one connection (two Lua scripts).

The call and room books are each one pickled document under one lock (see
``flask_videochat/stores/redis.py``), so a transition costs time in proportion to the
live calls; this measures how much.

    python benchmarks/store_ops.py [--runs 5] [--calls 0,100,1000] [--ops 50]

Prints every run's median and, per size, the median of the run medians with the
min and max (``median (min-max)``).
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import time

from harness.figures import median_range

from flask_videochat.config import DEFAULTS, Settings
from flask_videochat.core.presence import User
from flask_videochat.stores import open_store
from flask_videochat.stores.redis import RedisStore
from flask_videochat.testing.services import RedisServer


def _store(url: str) -> RedisStore:
    settings = Settings.from_config({**DEFAULTS, "VIDEOCHAT_STORE_URL": url})
    store = open_store(settings, secret_key="benchmark")
    assert isinstance(store, RedisStore)
    return store


def _book_calls(store: RedisStore, n: int) -> None:
    while len(store.calls) < n:
        i = len(store.calls)
        call = store.calls.invite(f"a{i}", f"sa{i}", f"b{i}")
        store.calls.accept(call.id, f"b{i}", f"sb{i}")


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def run_once(one: RedisStore, two: RedisStore, ops: int) -> dict[str, float]:
    transitions, reads, presence = [], [], []
    for _ in range(ops):
        start = time.perf_counter()
        call = one.calls.invite("x", "sx", "y")
        two.calls.hangup(call.id, "x")
        transitions.append((time.perf_counter() - start) / 2)
    two.calls.status_of("x")
    for _ in range(ops * 4):
        start = time.perf_counter()
        two.calls.status_of("a0")
        reads.append(time.perf_counter() - start)
    user = User("p", "P")
    for _ in range(ops):
        start = time.perf_counter()
        one.presence.connect("sp", user)
        one.presence.disconnect("sp")
        presence.append((time.perf_counter() - start) / 2)
    return {
        "transition": _median_ms(transitions),
        "read": _median_ms(reads),
        "presence": _median_ms(presence),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--calls", default="0,100,1000")
    parser.add_argument("--ops", type=int, default=50)
    args = parser.parse_args()
    sizes = [int(n) for n in args.calls.split(",")]
    with RedisServer() as redis_server:
        one, two = _store(redis_server.url), _store(redis_server.url)
        try:
            for n in sizes:
                _book_calls(one, n)
                blob = len(pickle.dumps(one.calls.dump_state()))
                runs = [run_once(one, two, args.ops) for _ in range(args.runs)]
                for i, r in enumerate(runs, 1):
                    print(f"calls={n:5d} run {i}: " + ", ".join(
                        f"{k} {v:.3f} ms" for k, v in r.items()))
                for key in ("transition", "read", "presence"):
                    values = [r[key] for r in runs]
                    print(f"calls={n:5d} {key:10s} median (min-max) "
                          f"{median_range(values, '.3f')} ms; book {blob / 1024:.0f} KiB")
        finally:
            one.close()
            two.close()


if __name__ == "__main__":
    main()
