"""Load scenario ``joins``: sequential joins with presence on and off.

``--joins`` (500) users join one after the other (connect, wait for ``hello`` and
the snapshot, next), all staying connected as watchers; total time with presence on
and with ``--no-presence``, and their ratio. Target <= 3.

    python benchmarks/load_joins.py --joins 500
    python benchmarks/load.py joins --joins 500   # the same

Shared options: ``benchmarks/load.py``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from harness.figures import Report, percentile
from harness.fleet import fleet_on
from harness.loadtool import main_one, spec_of
from harness.servers import Servers, Stopwatch, presence_switch_supported
from harness.sio import wait_all

NAME = "joins"
HELP = "sequential joins with presence on and off"


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--joins", type=int, default=500, help="users joining one by one (500)")


async def run(args: argparse.Namespace, report: Report) -> None:
    scenario, n = NAME, args.joins
    modes = [True, False] if presence_switch_supported() else [True]
    if len(modes) == 1:
        report.note(scenario, "no VIDEOCHAT_PRESENCE in this flask_videochat: presence on only")
    totals: dict[bool, float] = {}
    for presence in modes:
        label = "on" if presence else "off"
        with Servers(spec_of(args, presence=presence, part=f"-presence-{label}")) as servers:
            async with fleet_on(servers, args.timeout) as fleet:
                each: list[float] = []
                cpu = Stopwatch(servers)
                start = time.perf_counter()
                for i in range(n):
                    client = fleet.add(i)
                    began = time.perf_counter()
                    if await fleet.connect([client]):
                        raise RuntimeError(f"join {i} failed: {client.error}")
                    ready = client.snapshot if presence else client.hello
                    if not await wait_all([ready], args.timeout):
                        raise RuntimeError(f"join {i}: no {'snapshot' if presence else 'hello'}")
                    each.append((time.perf_counter() - began) * 1000)
                totals[presence] = time.perf_counter() - start
                server_cpu, client_cpu = cpu.server(), cpu.client()
                report.add(scenario, f"total, presence {label}", totals[presence], "s")
                report.add(
                    scenario, f"per join median, presence {label}", statistics.median(each), "ms"
                )
                report.add(scenario, f"per join p99, presence {label}", percentile(each, 99), "ms")
                report.add(scenario, f"server CPU, presence {label}", server_cpu, "s")
                report.add(scenario, f"client CPU, presence {label}", client_cpu, "s")
    if len(totals) == 2:
        report.add(scenario, "ratio on / off", totals[True] / totals[False], "", "<= 3")


if __name__ == "__main__":
    sys.exit(main_one(sys.modules[__name__]))
