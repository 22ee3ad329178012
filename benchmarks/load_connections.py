"""Load scenario ``connections``: hold many signed-in connections.

Hold ``--clients`` (5,000) signed-in connections, presence on (``--no-presence``
to compare), opened ``--concurrency`` (100) at a time: time until all got
``hello`` (and the presence snapshot), whether all did, server and client RSS
(``VmRSS`` from ``/proc``) before and after, so memory per idle connection. One
more client (the probe) sends ``ping`` every 100 ms meanwhile: how long the server
takes to answer anyone under that load.

    python benchmarks/load_connections.py --clients 5000 --runs 3
    python benchmarks/load.py connections --clients 5000 --runs 3   # the same

Shared options, and how figures are taken: ``benchmarks/load.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import time

from harness.figures import Report
from harness.fleet import fleet_on
from harness.loadtool import (
    PROBE_INDEX,
    QUIET,
    main_one,
    note_failures,
    report_costs,
    spec_of,
)
from harness.processes import rss_kib
from harness.servers import Servers, Stopwatch
from harness.sio import wait_all

NAME = "connections"
HELP = "hold many signed-in connections: time, memory per connection"


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--clients", type=int, default=5000, help="connections (5000)")
    parser.add_argument("--concurrency", type=int, default=100, help="opened at a time (100)")
    parser.add_argument(
        "--presence",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="VIDEOCHAT_PRESENCE on the servers (on)",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=2.0,
        help="seconds between the last snapshot and the RSS reading (2)",
    )


async def run(args: argparse.Namespace, report: Report) -> None:
    scenario, n = NAME, args.clients
    with Servers(spec_of(args, presence=args.presence)) as servers:
        await asyncio.sleep(QUIET)
        gc.collect()
        server_before, client_before = servers.server_rss_kib(), rss_kib()
        redis_before = servers.redis_rss_kib()
        async with fleet_on(servers, args.timeout) as fleet:
            probe = await fleet.probe(PROBE_INDEX)
            clients = [fleet.add(i) for i in range(n)]
            cpu = Stopwatch(servers)
            probe.start()
            fleet.lag.reset()
            start = time.perf_counter()
            errors = await fleet.connect(clients, args.concurrency)
            ready = [(c.snapshot if args.presence else c.hello) for c in clients if not c.error]
            await wait_all(ready, args.timeout)
            hellos = [c.hello_at for c in clients if c.hello.is_set()]
            took = (max(hellos) if hellos else time.perf_counter()) - start
            cpu_used = cpu.server(), cpu.client()
            await probe.stop()
            lag = fleet.lag.worst()
            await asyncio.sleep(args.settle)
            gc.collect()
            server_after, client_after = servers.server_rss_kib(), rss_kib()
            redis_after = servers.redis_rss_kib()
            connected = sum(c.sio.connected for c in clients)
            report.add(scenario, "time to connect all", took, "s")
            report.add(scenario, "connections per second", n / took if took else 0, "/s")
            report.add(scenario, "got hello", len(hellos), f"of {n}")
            if args.presence:
                got = sum(c.snapshot.is_set() for c in clients)
                report.add(scenario, "got snapshot", got, f"of {n}")
            report.add(scenario, "still connected", connected, f"of {n}")
            report.add(scenario, "server RSS before", server_before / 1024, "MiB")
            report.add(scenario, "server RSS after", server_after / 1024, "MiB")
            report.add(
                scenario, "server memory per connection", (server_after - server_before) / n, "KiB"
            )
            if args.label.endswith("-run1"):
                # Later runs reuse memory the first one freed: only a fresh process counts.
                report.add(
                    scenario,
                    "client memory per connection (first run)",
                    (client_after - client_before) / n,
                    "KiB",
                )
            if servers.redis:
                report.add(
                    scenario, "Redis memory per connection", (redis_after - redis_before) / n, "KiB"
                )
            report_costs(report, scenario, cpu_used, probe, lag, during=" while connecting")
            note_failures(report, scenario, errors, servers)


if __name__ == "__main__":
    sys.exit(main_one(sys.modules[__name__]))
