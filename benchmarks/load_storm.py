"""Load scenario ``storm``: clients connect at once; time until every view of who is
online is right.

``--clients`` (1,000) connect at once (``asyncio.gather``); each applies
``presence.snapshot`` and then every presence update. Time until every client's
view of who is online is right (all the others, nobody else). Target < 10 s. One
more client (the probe) sends ``ping`` every 100 ms meanwhile.

    python benchmarks/load_storm.py --runs 3
    python benchmarks/load.py storm --runs 3   # the same

Shared options, and how figures are taken: ``benchmarks/load.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import statistics
import sys
import time

from harness.figures import Report
from harness.fleet import Convergence, Fleet, LoadClient, fleet_on
from harness.loadtool import PROBE_INDEX, main_one, note_failures, report_costs, spec_of
from harness.servers import Servers, Stopwatch

NAME = "storm"
HELP = "clients connect at once: time until every view of who is online is right"


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--clients", type=int, default=1000, help="clients (1000)")


async def run(args: argparse.Namespace, report: Report) -> None:
    scenario, n = NAME, args.clients
    with Servers(spec_of(args)) as servers:
        async with fleet_on(servers, args.timeout) as fleet:
            probe = await fleet.probe(PROBE_INDEX)
            convergence = Convergence(n)
            clients = [fleet.add(i, track=True, meter=True) for i in range(n)]
            for c in clients:
                # a right view: the n - 1 others, and the probe
                c.expected, c.convergence = n, convergence
            cpu = Stopwatch(servers)
            probe.start()
            fleet.lag.reset()
            start = time.perf_counter()
            errors = await fleet.connect(clients)
            converged = False
            if not errors:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(convergence.done.wait(), args.timeout)
                    converged = True
            cpu_used = cpu.server(), cpu.client()
            await probe.stop()
            lag = fleet.lag.worst()
            hellos = [c.hello_at for c in clients if c.hello.is_set()]
            report.add(
                scenario,
                "all got hello after",
                (max(hellos) - start) if len(hellos) == n else math.nan,
                "s",
            )
            report.add(
                scenario,
                "all views right after",
                (convergence.at - start) if converged and convergence.at else math.nan,
                "s",
                "< 10 s",
            )
            report.add(scenario, "clients with a right view", convergence.right, f"of {n}")
            updates = [c.meter.presence_updates()[1] for c in clients if c.meter]
            snaps = [
                c.meter.by_kind.get("presence.snapshot", [0, 0])[1] for c in clients if c.meter
            ]
            report.add(
                scenario,
                "presence update bytes per client (median)",
                statistics.median(updates),
                "B",
            )
            report.add(
                scenario, "snapshot bytes per client (median)", statistics.median(snaps), "B"
            )
            report_costs(report, scenario, cpu_used, probe, lag)
            note_failures(report, scenario, errors, servers)
            if not errors and not converged:
                report.note(scenario, wrong_views(clients, fleet, n, args.timeout))


def wrong_views(clients: list[LoadClient], fleet: Fleet, expected: int, timeout: float) -> str:
    """Who misses whom, for a storm whose views never all became right."""
    everyone = {c.id for c in clients} | {c.id for c in fleet.clients}
    server_of = {c.id: fleet.urls.index(c.url.split("/?")[0]) for c in fleet.clients}
    wrong = [c for c in clients if not c.right]
    lines = [f"{len(wrong)} views still wrong after {timeout} s (expected {expected} others)"]
    for c in wrong[:5]:
        view = c.view or {}
        missing = sorted(everyone - set(view) - {c.id})
        extra = sorted(set(view) - everyone)
        early = [m for m in missing if m in c.early]
        lines.append(
            f"{c.id} (server {server_of[c.id]}) misses {len(missing)}: "
            + ", ".join(f"{m} (server {server_of[m]})" for m in missing[:6])
            + (
                f"; {len(early)} of them were in a presence update received before its snapshot"
                if early
                else ""
            )
            + (f"; sees {len(extra)} unknown ids" if extra else "")
        )
    return "\n    ".join(lines)


if __name__ == "__main__":
    sys.exit(main_one(sys.modules[__name__]))
