"""Load scenario ``relay``: one-way signal relay latency in a call among idle
connections.

``--idle`` (1,000) idle connections; two more users in an answered call
(``call.invite``, ``call.accept``) send ``signal`` messages carrying an ICE
candidate back and forth, one at a time: one-way relay latency from the sender's
``emit`` to the receiver's handler, both in this process (one clock),
``--samples`` (2,000) after ``--warmup`` (100). Targets p50 < 2 ms, p99 < 10 ms.
With ``--processes 2`` the caller and the callee are on different processes.

    python benchmarks/load_relay.py --processes 2
    python benchmarks/load.py relay --processes 2   # the same

Shared options, and how figures are taken: ``benchmarks/load.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from typing import Any

from harness.figures import Report, percentile
from harness.fleet import fleet_on
from harness.loadtool import QUIET, candidate, main_one, spec_of
from harness.servers import Servers, Stopwatch
from harness.sio import in_call, wait_all

NAME = "relay"
HELP = "one-way signal relay latency in a call among idle connections"


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--idle", type=int, default=1000, help="idle connections (1000)")
    parser.add_argument("--samples", type=int, default=2000,
                        help="one-way messages measured (2000)")
    parser.add_argument("--warmup", type=int, default=100,
                        help="messages not measured first (100)")
    parser.add_argument("--concurrency", type=int, default=100,
                        help="idle ones opened at a time")


async def run(args: argparse.Namespace, report: Report) -> None:
    scenario = NAME
    with Servers(spec_of(args)) as servers:
        async with fleet_on(servers, args.timeout) as fleet:
            idle = [fleet.add(i) for i in range(args.idle)]
            errors = await fleet.connect(idle, args.concurrency)
            await wait_all([c.snapshot for c in idle if not c.error], args.timeout)
            if errors:
                report.note(
                    scenario, f"{len(errors)} idle connections failed: {errors[0]}", servers=servers
                )
            caller = fleet.add(args.idle, server=0)
            callee = fleet.add(args.idle + 1, server=1)  # the other process, if two
            if await fleet.connect([caller, callee]):
                raise RuntimeError(
                    f"the call's parties could not connect: {caller.error} {callee.error}"
                )
            call_id = await in_call(caller, callee)
            await asyncio.sleep(QUIET)  # the status changes' presence window goes out

            refused: list[Any] = []

            def acked(answer: Any) -> None:
                if not (isinstance(answer, dict) and answer.get("ok")):
                    refused.append(answer)

            loop = asyncio.get_running_loop()
            samples: list[float] = []
            cpu = Stopwatch(servers)
            for k in range(args.warmup + args.samples):
                sender, receiver = (caller, callee) if k % 2 == 0 else (callee, caller)
                future: asyncio.Future[float] = loop.create_future()
                receiver.signal_waiter = (k, future)
                sent = time.perf_counter()
                await sender.send("signal", candidate(k, call_id), acked)
                arrived = await asyncio.wait_for(future, 10)
                if k >= args.warmup:
                    samples.append((arrived - sent) * 1000)
            server_cpu, client_cpu = cpu.server(), cpu.client()
            await asyncio.sleep(0.1)  # the last acks
            cross = len(servers.urls) > 1
            report.add(scenario, "one-way p50", percentile(samples, 50), "ms", "< 2 ms")
            report.add(scenario, "one-way p99", percentile(samples, 99), "ms", "< 10 ms")
            report.add(scenario, "one-way max", max(samples), "ms")
            report.add(scenario, "one-way mean", statistics.fmean(samples), "ms")
            report.add(scenario, "server CPU per message", server_cpu / len(samples) * 1e6, "us")
            report.add(scenario, "client CPU per message", client_cpu / len(samples) * 1e6, "us")
            if cross:
                report.note(scenario, "caller and callee on different server processes")
            if refused:
                report.note(scenario, f"{len(refused)} signals refused, e.g. {refused[0]}")


if __name__ == "__main__":
    sys.exit(main_one(sys.modules[__name__]))
