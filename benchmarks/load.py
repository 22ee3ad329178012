"""Load on the signaling server: many Socket.IO clients in one asyncio process.

Starts the server under test itself (``benchmarks/load_server.py``: Flask,
Flask-SocketIO on eventlet, VideoChat; users sign in with ``?user=<id>`` on the
connect URL), each run on fresh processes, and drives it with
``socketio.AsyncClient`` objects (WebSocket transport only, one shared aiohttp
session) from this process. Every figure is printed per run, then as the median,
min, max and stdev over ``--runs`` runs, and in a summary table at the end, after
the command line that reproduces it with every option spelled out.

Scenarios, one file each (``python benchmarks/load_<name>.py`` runs one alone, with
the same options; ``--help`` there describes it):

``connections`` (``load_connections.py``)
    hold ``--clients`` (5,000) signed-in connections: time, memory per connection.
``storm`` (``load_storm.py``)
    ``--clients`` (1,000) connect at once: time until every view of who is online
    is right. Target < 10 s.
``relay`` (``load_relay.py``)
    one-way ``signal`` relay latency in a call among ``--idle`` (1,000) idle
    connections. Targets p50 < 2 ms, p99 < 10 ms.
``presence-bytes`` (``load_presence_bytes.py``)
    presence bytes a watcher receives per join, at several N (``--sizes``).
``joins`` (``load_joins.py``)
    ``--joins`` (500) sequential joins with presence on and off; their ratio <= 3.
``all``
    Every scenario above with its defaults (and the shared options given).

Shared options: ``--runs`` (3), ``--processes`` (1; more start that many servers on
one Redis store, clients spread over them, and ``relay`` puts the two parties on
different processes), ``--store-url`` (``local``: a ``redis-server`` started by the
tool on a free loopback port, the default with more than one process; or a URL of a
dedicated Redis database whose ``videochat:*`` keys are deleted before each run),
``--config VIDEOCHAT_KEY=JSON`` for the servers, ``--tcp-nodelay`` /
``--no-tcp-nodelay`` (on, as gunicorn does; off is what ``socketio.run`` does: see
``load_server.py``), ``--backlog``, ``--timeout``, ``--py-spy DIR`` (profile every
server), ``--json PATH``.

    python benchmarks/load.py storm --runs 3
    python benchmarks/load.py relay --processes 2
    python benchmarks/load.py all

Bytes are counted per WebSocket message as it arrives at a client: the tool's
Engine.IO client wraps its WebSocket's ``receive()`` and adds the UTF-8 length of
each text message (one Engine.IO packet) plus its 2-, 4- or 10-byte server-to-client
frame header, filed under the Socket.IO event it carries (``presence.changes``...;
acks, pings and connects apart). aiohttp does not offer permessage-deflate, so this
is the uncompressed size; browsers negotiate compression and send fewer bytes.

Both sides share the machine, so the tool watches itself: the client process's CPU
time is printed next to the servers', and ``client loop lag max`` is how late its
event loop ran a 50 ms timer (every time it measures is late by as much). Clients
that keep no view of who is online do not decode presence events (they only note
the snapshot's arrival), so that thousands of them cost the tool little. In
``connections`` and ``storm`` one more client (the probe) sends ``ping`` every
100 ms: how long the server takes to answer anyone while under that load. The
clients wait for the server's pings as long as a browser does (45 s; python-engineio's
client alone gives up after 30 s). Logs of the servers are printed when one fails to
start.

The harness (``benchmarks/harness/``) holds the clients (``fleet.py``, ``meter.py``),
the servers (``servers.py``), the figures (``figures.py``) and this command line
(``loadtool.py``).
"""

from __future__ import annotations

import sys

import load_connections
import load_joins
import load_presence_bytes
import load_relay
import load_storm
from harness.loadtool import main

#: In the order ``all`` runs them.
SCENARIOS = [load_connections, load_storm, load_relay, load_presence_bytes, load_joins]

if __name__ == "__main__":
    sys.exit(main(SCENARIOS, __doc__))
