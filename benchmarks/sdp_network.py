"""The network of ``sdp_sizes.py`` (run as root): the browser's network namespace
with as many Ethernet-like interfaces as asked, each with the longest addresses,
and with TURN a second namespace, the "internet", where coturn listens behind a
source NAT. ``python benchmarks/sdp_sizes.py --help`` describes the set-up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

#: The TURN/STUN server's address, and the "public" address the namespace's
#: traffic to it is source-NATed to (both 15 characters: the longest IPv4 text).
TURN_IP = "198.251.100.210"
NAT_IP = "198.251.100.211"
#: The TURN/STUN server's IPv6 address (a dual-stack server: each IPv6 network
#: gets relay candidates too). No NAT66: IPv6 has no server-reflexive candidates.
TURN_IP6 = "2a05:d014:1c2b:3d4e:5f60:7182:93a4:b5c6"


def _namespace_coturn_class() -> type:
    from flask_videochat.testing import Coturn

    class NamespaceCoturn(Coturn):
        """The project's :class:`~flask_videochat.testing.Coturn`, also listening and
        relaying on :data:`TURN_IP` and :data:`TURN_IP6`."""

        def _conf(self, directory: Path) -> str:
            conf = super()._conf(directory)
            conf = conf.replace("listening-ip=127.0.0.1\n", "listening-ip=127.0.0.1\n"
                                f"listening-ip={TURN_IP}\nlistening-ip={TURN_IP6}\n")
            conf = conf.replace("relay-ip=127.0.0.1\n",
                                f"relay-ip={TURN_IP}\nrelay-ip={TURN_IP6}\n")
            return conf

    return NamespaceCoturn


def run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True)


def make_namespaces(name: str, interfaces: int, ipv6_per_interface: int, turn: bool) -> None:
    """Namespace ``name`` (the browser's) with ``lo`` up and ``interfaces`` veth
    pairs ``ethN``/``ethNp``; ``ethN`` carries the addresses, ``ethNp`` none
    (Chromium skips it). With ``turn``, namespace ``name-srv`` (the TURN server's
    "internet") holds ``eth1p``: the browser's default routes go through ``eth1``
    to it, and what reaches the server is source-NATed to :data:`NAT_IP`, as
    behind a home router."""
    run(["ip", "netns", "add", name])
    ns = ["ip", "netns", "exec", name]
    srv = ["ip", "netns", "exec", f"{name}-srv"]
    run([*ns, "ip", "link", "set", "lo", "up"])
    for i in range(1, interfaces + 1):
        dev, peer = f"eth{i}", f"eth{i}p"
        run([*ns, "ip", "link", "add", dev, "type", "veth", "peer", "name", peer])
        run([*ns, "ip", "addr", "add", f"192.168.{100 + i}.{200 + i}/24", "dev", dev])
        for j in range(ipv6_per_interface):
            run([*ns, "ip", "addr", "add", f"{ipv6_of(i, j)}/64", "dev", dev, "nodad"])
        run([*ns, "ip", "link", "set", dev, "up"])
        if i == 1 and turn:
            run(["ip", "netns", "add", f"{name}-srv"])
            run([*ns, "ip", "link", "set", peer, "netns", f"{name}-srv"])
            run([*srv, "ip", "link", "set", "lo", "up"])
            run([*srv, "ip", "addr", "add", "192.168.101.1/24", "dev", peer])
            run([*srv, "ip", "addr", "add", f"{ipv6_of(1, 0, router=True)}/64", "dev", peer,
                 "nodad"])
            run([*srv, "ip", "link", "set", peer, "up"])
            for ip in (f"{TURN_IP}/32", f"{NAT_IP}/32", f"{TURN_IP6}/128"):
                run([*srv, "ip", "addr", "add", ip, "dev", "lo"])
            # Back to every address of the browser's namespace, through eth1.
            run([*srv, "ip", "route", "add", "192.168.0.0/16", "via", "192.168.101.201"])
            for prefix in ("2a02:8071::/32", "fd00::/8"):
                run([*srv, "ip", "-6", "route", "add", prefix, "via", ipv6_of(1, 0)])
            run([*srv, "iptables", "-t", "nat", "-A", "INPUT", "-d", TURN_IP,
                 "-j", "SNAT", "--to-source", NAT_IP])
            run([*ns, "ip", "route", "add", "default", "via", "192.168.101.1"])
            run([*ns, "ip", "-6", "route", "add", "default", "via", ipv6_of(1, 0, router=True)])
        else:
            run([*ns, "ip", "link", "set", peer, "up"])


def ipv6_of(interface: int, index: int, *, router: bool = False) -> str:
    """The ``index``-th IPv6 address of interface ``interface`` (a /64 of its own):
    eight full groups (39 characters, the longest text); ``::1`` of that /64 for
    the router (the server namespace's end of ``eth1``)."""
    prefix = f"{'2a02:8071' if index == 0 else f'fd{index:02x}:3456'}:a{interface:03x}:bc00"
    return f"{prefix}::1" if router else f"{prefix}:1234:5678:9abc:def0"


def delete_namespaces(name: str) -> None:
    for ns in (name, f"{name}-srv"):
        if subprocess.run(["ip", "netns", "pids", ns], capture_output=True).returncode == 0:
            subprocess.run(["ip", "netns", "del", ns], check=False)


def serve_turn() -> None:
    """In the server namespace: coturn until stdin closes; its port and secret on
    stdout as one JSON line."""
    # Enough relay ports for every allocation of a run (one per network, per TURN
    # URL, per transport): coturn refuses allocations once its ports are all taken.
    turn = _namespace_coturn_class()(relay_ports=1000).start()
    try:
        print(json.dumps({"port": turn.port, "secret": turn.secret}), flush=True)
        sys.stdin.read()
    finally:
        turn.close()
