"""The tables and figures of ``sdp_sizes.py``: SDP lengths per case and stage, growth
per interface, candidates per gathering, the largest SDP and candidate, the size of
``signal`` and ``room.signal`` events carrying an SDP (as JSON, as the server's
``check_size`` counts it, on the wire), and the limits they recommend."""

from __future__ import annotations

import argparse
import json
from typing import Any

CASES = ("recvonly", "call", "call+screen", "call+screen2", "simulcast")
STAGES = ("offer", "answer", "offer+c", "answer+c", "reoffer+c", "reanswer+c",
          "restart+c", "rrestart+c")


def signal_event(sdp: str, kind: str = "offer") -> dict[str, Any]:
    """A ``signal`` payload as the widget sends it (``seq`` added by Signaling)."""
    return {"call_id": "x" * 22, "description": {"type": kind, "sdp": sdp}, "seq": 123}


def room_signal_event(sdp: str, kind: str = "offer") -> dict[str, Any]:
    """A ``room.signal`` payload with the longest room name (64) and user id (128)."""
    return {"room": "r" * 64, "to": "u" * 128, "description": {"type": kind, "sdp": sdp},
            "seq": 123}


def check_size_bytes(payload: dict[str, Any]) -> int:
    """The smallest ``max_bytes`` the server's ``check_size`` accepts ``payload``
    under: its size as the server counts it (without escapes). The ``seq`` is
    taken off before the check, as ``VideoChatNamespace.trigger_event`` does."""
    from flask_videochat.core.protocol import ProtocolError
    from flask_videochat.core.ratelimit import check_size

    payload = {k: v for k, v in payload.items() if k != "seq"}
    low, high = 0, 1 << 22
    while low < high:
        mid = (low + high) // 2
        try:
            check_size([payload], max_bytes=mid)
            high = mid
        except ProtocolError:
            low = mid + 1
    return low


def engineio_frame_bytes(payload: dict[str, Any], event: str = "signal") -> int:
    """Bytes of the Socket.IO packet on the wire (an EVENT with an ack id, in the
    ``/videochat`` namespace): what ``max_http_buffer_size`` sees."""
    from flask_videochat import NAMESPACE

    body = json.dumps([event, payload], separators=(",", ":"))
    return len(f"42{NAMESPACE},1234{body}".encode())


#: The cases the widget itself produces (two m-sections, audio and video).
WIDGET_CASES = ("recvonly", "call", "call+screen")


def burst(times: list[float], window_ms: float = 1000.0) -> int:
    """The most of ``times`` (milliseconds) within any ``window_ms``."""
    times = sorted(times)
    best = start = 0
    for end, t in enumerate(times):
        while t - times[start] > window_ms:
            start += 1
        best = max(best, end - start + 1)
    return best


def report(all_results: dict[int, list[dict[str, Any]]], args: argparse.Namespace) -> dict:
    """Print the tables; return the figures."""
    table: dict[tuple[int, str, str, str], list[int]] = {}
    largest: dict[str, tuple[str, Any]] = {"widget": ("", None), "all": ("", None)}
    largest_candidate = ""
    largest_ufrag = ""
    # (ifaces, ice, case) -> (offerer's first gathering, answerer's, offerer's burst/s)
    gathering: dict[tuple[int, str, str], tuple[int, int, int]] = {}
    screen_sources = set()
    timeouts = []
    for n, results in all_results.items():
        for r in results:
            if r.get("screenSource"):
                screen_sources.add(r["screenSource"])
            timeouts += [(n, r["ice"], r["case"], t) for t in r["gatherTimeouts"]]
            for stage, sdp in r["sdp"].items():
                table.setdefault((n, r["ice"], r["case"], stage), []).append(len(sdp))
                for scope in ("widget", "all"):
                    if scope == "widget" and r["case"] not in WIDGET_CASES:
                        continue
                    if len(sdp) > len(largest[scope][0]):
                        largest[scope] = (sdp, (n, r["ice"], r["case"], stage))
            for c in r["candidates"]:
                if len(c["candidate"]) > len(largest_candidate):
                    largest_candidate = c["candidate"]
                if len(c["usernameFragment"] or "") > len(largest_ufrag):
                    largest_ufrag = c["usernameFragment"]
            first = [c for c in r["candidates"] if " generation 0 " in c["candidate"]]
            offered = [c["at"] for c in first if c["side"] == "offerer"]
            answered = [c for c in first if c["side"] == "answerer"]
            old = gathering.get((n, r["ice"], r["case"]), (0, 0, 0))
            gathering[(n, r["ice"], r["case"])] = (
                max(old[0], len(offered)), max(old[1], len(answered)), max(old[2], burst(offered)))

    ices = sorted({k[1] for k in table}, key=lambda x: (x != "host", x))
    print("\nLength of pc.localDescription.sdp in characters, largest of "
          f"{args.runs} runs (and the spread between runs, when there was one); "
          f"bundlePolicy {args.bundle_policy}\n")
    header = f"{'ifaces':>6} {'ICE servers':<10} {'case':<13}" + "".join(f"{s:>12}" for s in STAGES)
    print(header)
    print("-" * len(header))
    for n in sorted(all_results):
        for ice in ices:
            for kase in args.cases:
                cells = []
                for stage in STAGES:
                    sizes = table.get((n, ice, kase, stage))
                    if not sizes:
                        cells.append(f"{'-':>12}")
                        continue
                    spread = max(sizes) - min(sizes)
                    cell = f"{max(sizes)}" + (f"(±{spread})" if spread else "")
                    cells.append(f"{cell:>12}")
                print(f"{n:>6} {ice:<10} {kase:<13}" + "".join(cells))
        print()

    counts = sorted(all_results)
    if len(counts) > 1:
        print("Growth per added interface (one IPv4 + IPv6 network each), characters:\n")
        steps = list(zip(counts, counts[1:]))
        print(f"  {'ICE servers':<10} {'case':<13} {'stage':<11}"
              + "".join(f"{f'{a}->{b}':>10}" for a, b in steps))
        for ice in ices:
            for kase in args.cases:
                for stage in ("offer+c", "answer+c"):
                    cells = []
                    for a, b in steps:
                        sa, sb = table.get((a, ice, kase, stage)), table.get((b, ice, kase, stage))
                        cells.append(f"{(max(sb) - max(sa)) / (b - a):>10.0f}" if sa and sb
                                     else f"{'-':>10}")
                    print(f"  {ice:<10} {kase:<13} {stage:<11}" + "".join(cells))
        print()

    print("Candidates of the first gathering, most of any run: the offerer's, the answerer's,"
          " and the most the offerer trickled (one signal event each) within one second\n")
    print(f"  {'ifaces':>6} {'ICE servers':<10} {'case':<13} {'offerer':>8} {'answerer':>9}"
          f" {'per 1 s':>8}")
    for (n, ice, kase), (o, a, per_s) in sorted(gathering.items(),
                                                key=lambda kv: (kv[0][0], kv[0][1] != "host")):
        print(f"  {n:>6} {ice:<10} {kase:<13} {o:>8} {a:>9} {per_s:>8}")

    for scope, (sdp, where) in largest.items():
        if not sdp:
            continue
        what = "of the widget's cases" if scope == "widget" else "of all cases"
        print(f"\nLargest SDP {what}: {len(sdp)} characters ({where[0]} interfaces, "
              f"{where[1]}, {where[2]}, {where[3]}), {sdp.count(chr(10))} lines, "
              f"{sum(line.startswith('a=candidate') for line in sdp.splitlines())} candidates")
    print(f"Largest ICE candidate: {len(largest_candidate)} characters:\n  {largest_candidate}")
    print(f"Largest usernameFragment: {len(largest_ufrag)} characters ({largest_ufrag!r})")
    cand_payload = {"call_id": "x" * 22, "candidate": {
        "candidate": largest_candidate, "sdpMid": "0", "sdpMLineIndex": 0,
        "usernameFragment": largest_ufrag}, "seq": 123}
    print(f"A signal event with that candidate: {len(json.dumps(cand_payload))} bytes of JSON")
    if screen_sources:
        print(f"Screen track from: {', '.join(sorted(screen_sources))}")
    if timeouts:
        print(f"ICE gathering did not complete within {args.gather_ms} ms: {timeouts}")

    factor = args.factor
    limits = {}
    print()
    for scope, (sdp, _where) in largest.items():
        if sdp:
            limits[scope] = round_up(len(sdp) * factor, 5000)
            print(f"Largest SDP of {scope + ' cases:':<14} {len(sdp)} x {factor:g} = "
                  f"{len(sdp) * factor:.0f}, up to a multiple of 5,000: {limits[scope]}")
    print("\nA signal / room.signal event carrying an SDP, in bytes: as JSON (json.dumps, each"
          " CRLF escaped to 4 characters),\nas the server's check_size counts it against"
          " VIDEOCHAT_MAX_MESSAGE_SIZE (no escapes, without seq), and the Socket.IO packet\n"
          "(what engine.io's max_http_buffer_size sees). call_id of 22 characters; room.signal"
          " with the longest room name (64) and user id (128).\n")
    print(f"  {'SDP':>10} {'json.dumps':>11} {'check_size':>11} {'wire frame':>11}   event")
    sizes = {}
    rows = [(f"largest {k}", v[0], len(v[0])) for k, v in largest.items() if v[0]]
    rows += [(f"limit {k}", largest[k][0], v) for k, v in limits.items()]
    for label, sample, n_chars in rows:
        # An SDP of n_chars with the real SDP's line density (CRLF per character).
        padded = pad_sdp(sample, n_chars)
        for event_name, payload in (("signal", signal_event(padded)),
                                    ("room.signal", room_signal_event(padded))):
            dumped = len(json.dumps(payload))
            counted = check_size_bytes(payload)
            wire = engineio_frame_bytes(payload, event_name)
            sizes[(label, event_name)] = (dumped, counted, wire)
            print(f"  {len(padded):>10} {dumped:>11} {counted:>11} {wire:>11}"
                  f"   {event_name} ({label})")

    # What check_size counts besides the SDP, with every id as long as allowed.
    from flask_videochat.core.protocol import MAX_ID_LENGTH
    envelope = max(
        check_size_bytes({"call_id": "x" * MAX_ID_LENGTH,
                          "description": {"type": "pranswer", "sdp": ""}}),
        check_size_bytes(room_signal_event("", "pranswer")),
    ) - 2  # the SDP's own quotes are in the SDP's share
    sdp_limit = limits["widget"] if "widget" in limits else limits["all"]
    message_limit = round_up(sdp_limit + envelope, 4096)
    print(f"\nRecommended MAX_SDP_LENGTH: {sdp_limit} (the widget's largest SDP x {factor:g},"
          " up to a multiple of 5,000)")
    print(f"Recommended VIDEOCHAT_MAX_MESSAGE_SIZE: {message_limit} (MAX_SDP_LENGTH + "
          f"{envelope} bytes of the largest legitimate envelope, up to a multiple of 4,096),"
          " so that the SDP limit, not this one, refuses an oversize SDP")
    return {
        "largest": {k: (len(v[0]), v[1]) for k, v in largest.items()}, "limits": limits,
        "max_sdp_length": sdp_limit, "max_message_size": message_limit, "envelope": envelope,
        "largest_candidate": largest_candidate, "largest_ufrag": largest_ufrag,
        "event_sizes": {f"{k[0]}/{k[1]}": v for k, v in sizes.items()},
        "table": {"|".join(map(str, k)): v for k, v in table.items()},
        "gathering": {"|".join(map(str, k)): v for k, v in gathering.items()},
    }


def pad_sdp(sdp: str, n_chars: int) -> str:
    """``sdp`` repeated line by line up to exactly ``n_chars`` characters, so that
    a limit-sized SDP has as many CRLFs (escaped to 4 characters in JSON) per
    character as a real one."""
    lines = sdp.split("\r\n")
    out = sdp
    i = 0
    while len(out) < n_chars:
        out += lines[i % len(lines)] + "\r\n"
        i += 1
    return out[:n_chars]


def round_up(value: float, step: int) -> int:
    """``value`` up to a multiple of ``step``."""
    return int(-(-value // step) * step)
