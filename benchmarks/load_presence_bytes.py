"""Load scenario ``presence-bytes``: presence bytes a watcher receives per join, at
several N.

A watcher among N users online (``--sizes`` 100 1000) counts the bytes of presence
traffic it receives per other user's join (and leave), over ``--joins`` (20) joins
one after the other; and the bytes of the snapshot each joiner receives (O(N)). The
per-join bytes must not grow with N.

    python benchmarks/load_presence_bytes.py --sizes 100 1000
    python benchmarks/load.py presence-bytes --sizes 100 1000   # the same

Shared options, and how bytes are counted: ``benchmarks/load.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys

from harness.figures import Report
from harness.fleet import LoadClient, fleet_on
from harness.loadtool import QUIET, main_one, spec_of
from harness.servers import Servers
from harness.sio import wait_all

NAME = "presence-bytes"
HELP = "presence bytes a watcher receives per join, at several N"


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[100, 1000], help="users online (100 1000)"
    )
    parser.add_argument("--joins", type=int, default=20, help="joins measured at each size (20)")
    parser.add_argument("--concurrency", type=int, default=100, help="opened at a time (100)")


async def run(args: argparse.Namespace, report: Report) -> None:
    scenario = NAME
    for size in args.sizes:
        print(f" {size} users online", flush=True)
        with Servers(spec_of(args, part=f"-{size}")) as servers:
            async with fleet_on(servers, args.timeout) as fleet:
                watcher = fleet.add(0, server=0, track=True, meter=True)
                if await fleet.connect([watcher]):
                    raise RuntimeError(f"the watcher could not connect: {watcher.error}")
                others = [fleet.add(i) for i in range(1, size)]
                errors = await fleet.connect(others, args.concurrency)
                if errors:
                    raise RuntimeError(f"{len(errors)} connections failed: {errors[0]}")
                if not await watcher.wait_view(lambda v, s=size: len(v) == s - 1, args.timeout):
                    raise RuntimeError("the watcher never saw everyone online")
                await asyncio.sleep(QUIET)
                assert watcher.meter is not None
                before = watcher.meter.presence_updates()
                joiners: list[LoadClient] = []
                snapshots: list[int] = []
                for j in range(args.joins):
                    joiner = fleet.add(size + j, server=j + 1, meter=True)
                    joiners.append(joiner)
                    if await fleet.connect([joiner]):
                        raise RuntimeError(f"a joiner could not connect: {joiner.error}")
                    await wait_all([joiner.snapshot], args.timeout)
                    if not await watcher.wait_view(lambda v, u=joiner.id: u in v, args.timeout):
                        raise RuntimeError(f"the watcher never saw {joiner.id} join")
                    assert joiner.meter is not None
                    snapshots.append(joiner.meter.by_kind["presence.snapshot"][1])
                await asyncio.sleep(QUIET)
                joined = watcher.meter.presence_updates()
                for joiner in joiners:
                    await joiner.disconnect()
                    if not await watcher.wait_view(lambda v, u=joiner.id: u not in v, args.timeout):
                        raise RuntimeError(f"the watcher never saw {joiner.id} leave")
                await asyncio.sleep(QUIET)
                left = watcher.meter.presence_updates()
                k = args.joins
                report.add(
                    scenario,
                    f"bytes per join at {size}",
                    (joined[1] - before[1]) / k,
                    "B",
                    "independent of N",
                )
                report.add(
                    scenario, f"messages per join at {size}", (joined[0] - before[0]) / k, ""
                )
                report.add(scenario, f"bytes per leave at {size}", (left[1] - joined[1]) / k, "B")
                report.add(scenario, f"snapshot bytes at {size}", statistics.median(snapshots), "B")
                kinds = sorted(k for k in watcher.meter.by_kind if k.startswith("presence."))
                print(f"  (watcher's presence events: {', '.join(kinds)})", flush=True)


if __name__ == "__main__":
    sys.exit(main_one(sys.modules[__name__]))
