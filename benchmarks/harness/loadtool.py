"""The load tool's command line and runs: the options every scenario shares, the
command line that reproduces a run, and the loop over ``--runs`` fresh runs.

A scenario is a module ``benchmarks/load_<name>.py`` with ``NAME``, ``HELP`` (one
line), ``options(parser)`` (its own options) and ``async run(args, report)`` (one
run); its docstring describes it. ``load.py`` offers every scenario as a
subcommand (and ``all``); a scenario's own file runs it alone with the same options
(:func:`main_one`)."""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import signal
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import socketio
from load_server import raise_fd_limit

from harness.figures import Report
from harness.fleet import LoadClient, Probe
from harness.processes import UnsupportedError, machine
from harness.servers import Servers, ServerSpec, store_supported

#: Seconds waited after a phase for the server's presence windows to be flushed.
QUIET = 0.5
#: User index of the probe client (far from the load's own indexes).
PROBE_INDEX = 999_000
#: An ICE candidate as a browser trickles it (``{seq}`` tells messages apart).
CANDIDATE = (
    "candidate:{seq} 1 udp 2122260223 192.0.2.10 54400 typ host generation 0 "
    "ufrag EsAw network-id 1"
)


def candidate(seq: int, call_id: str) -> dict[str, Any]:
    """A ``signal`` payload carrying candidate number ``seq``."""
    return {
        "call_id": call_id,
        "candidate": {
            "candidate": CANDIDATE.format(seq=seq),
            "sdpMid": "0",
            "sdpMLineIndex": 0,
            "usernameFragment": "EsAw",
        },
    }


def report_costs(report: Report, scenario: str, cpu: tuple[float, float], probe: Probe,
                 lag: float, *, during: str = "") -> None:
    """The servers' and the tool's CPU seconds over a phase (``during`` names it),
    what the probe saw meanwhile, and how late the tool's event loop ran."""
    report.add(scenario, f"server CPU{during}", cpu[0], "s")
    report.add(scenario, f"client CPU{during}", cpu[1], "s")
    probe.report(report, scenario)
    report.add(scenario, "client loop lag max", lag, "ms")


def note_failures(report: Report, scenario: str, errors: list[str], servers: Servers) -> None:
    """Connections that failed, if any, with the end of the servers' logs."""
    if errors:
        report.note(
            scenario, f"{len(errors)} connections failed, e.g. {errors[0]}", servers=servers
        )


def spec_of(args: argparse.Namespace, *, presence: bool = True, part: str = "") -> ServerSpec:
    """The servers of one run as the shared options say (``part`` names profiles)."""
    return ServerSpec(
        profile_dir=args.py_spy,
        label=f"{args.label}{part}",
        processes=args.processes,
        store_url=args.store_url,
        presence=presence,
        config=list(args.config),
        backlog=args.backlog,
        tcp_nodelay=args.tcp_nodelay,
    )


def shared_options() -> argparse.ArgumentParser:
    shared = argparse.ArgumentParser(add_help=False)
    add = shared.add_argument
    add("--runs", type=int, default=3, help="runs, each on fresh servers (3)")
    add("--processes", type=int, default=1, help="server processes on one Redis store (1)")
    add("--store-url", default=None,
        help="Redis store: 'local' (a redis-server started here; the default "
        "with --processes > 1; 'local?max_connections=1000' adds a query to its URL) "
        "or the URL of a dedicated database whose "
        "videochat:* keys are deleted before each run (none: memory)")
    add("--config", action="append", default=[], metavar="KEY=JSON",
        help="a VIDEOCHAT_* setting for the servers (repeatable)")
    add("--backlog", type=int, default=1024, help="the servers' listen backlog (1024)")
    add("--tcp-nodelay", action=argparse.BooleanOptionalAction, default=True,
        help="the servers set TCP_NODELAY on their sockets (on, as gunicorn does; "
        "--no-tcp-nodelay: Nagle's algorithm on, as socketio.run leaves it)")
    add("--seq", action=argparse.BooleanOptionalAction, default=True,
        help="number each client's events (\"seq\", as the widget does: docs/protocol.md, "
        "Order); --no-seq for a flask_videochat older than that")
    add("--py-spy", default=None, metavar="DIR",
        help="record every server with py-spy (100 Hz, non-blocking) into DIR as collapsed "
        "stacks, one file per server and run")
    add("--timeout", type=float, default=120, help="seconds to wait for any one phase (120)")
    add("--json", default=None, metavar="PATH", help="also write every figure to this JSON file")
    return shared


def _doc_parts(doc: str | None) -> tuple[str, str]:
    """A docstring's first paragraph and the rest."""
    parts = (doc or "").split("\n\n")
    return parts[0], "\n\n".join(parts[1:])


def build_parser(
    scenarios: list[ModuleType], doc: str | None
) -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """``load.py``'s parser: one subcommand per scenario, and ``all``."""
    description, epilog = _doc_parts(doc)
    parser = argparse.ArgumentParser(
        description=description, epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="scenario", required=True)
    shared = shared_options()
    subs: dict[str, argparse.ArgumentParser] = {}
    for module in scenarios:
        subs[module.NAME] = sub.add_parser(
            module.NAME, parents=[shared], help=module.HELP, description=module.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.options(subs[module.NAME])
    text = "every scenario with its defaults (and the shared options given)"
    subs["all"] = sub.add_parser("all", parents=[shared], help=text, description=text)
    return parser, subs


def command_of(args: argparse.Namespace, sub: argparse.ArgumentParser) -> str:
    """The command line that reproduces ``args``, every option spelled out."""
    parts = ["python", "benchmarks/load.py", args.scenario]
    for action in sub._actions:
        if not action.option_strings or action.dest in ("help", "json"):
            continue
        value = getattr(args, action.dest)
        option = action.option_strings[0]
        if value is None:
            continue
        if isinstance(action, argparse.BooleanOptionalAction):
            parts.append(option if value else f"--no-{option[2:]}")
        elif isinstance(value, list):
            if action.nargs in ("+", "*"):
                parts += [option, *map(str, value)]
            else:
                for item in value:
                    parts += [option, str(item)]
        else:
            parts += [option, str(value)]
    return shlex.join(parts)


def resolve(args: argparse.Namespace) -> None:
    if args.processes > 1 and args.store_url is None:
        args.store_url = "local"


async def run_scenario(
    module: ModuleType, args: argparse.Namespace, sub: argparse.ArgumentParser, report: Report
) -> None:
    """``--runs`` runs of one scenario, each on fresh servers, then its figures."""
    scenario = args.scenario
    command = command_of(args, sub)
    report.commands[scenario] = command
    print(f"== {scenario}\ncommand: {command}", flush=True)
    if args.store_url is not None and not store_supported():
        report.note(
            scenario,
            "could not run: this flask_videochat has no VIDEOCHAT_STORE_URL (the Redis store)",
        )
        return
    for run in range(1, args.runs + 1):
        print(f"run {run}/{args.runs}", flush=True)
        args.label = f"{scenario}-run{run}"
        try:
            await module.run(args, report)
        except UnsupportedError as exc:
            report.note(scenario, f"could not run: {exc}")
            return
        except (RuntimeError, asyncio.TimeoutError, socketio.exceptions.SocketIOError) as exc:
            report.note(scenario, f"run {run} failed: {type(exc).__name__}: {exc}")
    report.print_scenario(scenario)


async def _session(args: argparse.Namespace,
                   runs: list[tuple[ModuleType, argparse.Namespace, argparse.ArgumentParser]]
                   ) -> int:
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    report = Report()
    LoadClient.numbering = args.seq
    print(f"machine: {machine()}\nfile descriptors: {raise_fd_limit()}", flush=True)
    for module, scenario_args, sub in runs:
        resolve(scenario_args)
        await run_scenario(module, scenario_args, sub, report)
    report.print_summary()
    if args.json:
        Path(args.json).write_text(json.dumps(report.to_json(), indent=2))
    return 0


def _run(coroutine: Any) -> int:
    try:
        return int(asyncio.run(coroutine))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted; servers stopped", file=sys.stderr)
        return 130


def main(scenarios: list[ModuleType], doc: str | None, argv: list[str] | None = None) -> int:
    """``load.py <scenario>|all [options]``."""
    argv = sys.argv[1:] if argv is None else argv
    parser, subs = build_parser(scenarios, doc)
    args = parser.parse_args(argv)
    by_name = {m.NAME: m for m in scenarios}
    if args.scenario == "all":
        runs = [(m, parser.parse_args([m.NAME, *argv[1:]]), subs[m.NAME]) for m in scenarios]
    else:
        runs = [(by_name[args.scenario], args, subs[args.scenario])]
    return _run(_session(args, runs))


def main_one(module: ModuleType, argv: list[str] | None = None) -> int:
    """``load_<name>.py [options]``: one scenario, the options of ``load.py <name>``."""
    description, epilog = _doc_parts(module.__doc__)
    parser = argparse.ArgumentParser(
        description=description, epilog=epilog, parents=[shared_options()],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    module.options(parser)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    args.scenario = module.NAME
    return _run(_session(args, [(module, args, parser)]))
