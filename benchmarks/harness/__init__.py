"""What the benchmark scripts share. Each script is run as ``python
benchmarks/<script>.py``, so ``benchmarks/`` is on ``sys.path`` and they import
these modules as ``harness.<module>``. Nothing is imported here: a module takes
only what it needs (``load_server.py`` runs before eventlet's monkey patching).

- :mod:`.processes`: :class:`~.processes.Child` (a process started by a tool,
  killed with it), :func:`~.processes.cpu_seconds`, :func:`~.processes.rss_kib`,
  :func:`~.processes.process_trees`, :func:`~.processes.machine`.
- :mod:`.figures`: figures over runs: :class:`~.figures.Report` (median, min, max,
  stdev and a summary table), :func:`~.figures.summary`,
  :func:`~.figures.median_range`, :func:`~.figures.percentile`.
- :mod:`.sio`: Socket.IO clients of ``/videochat``: :class:`~.sio.Client` (numbered
  events, acknowledged calls), :func:`~.sio.in_call`, :func:`~.sio.sign_in`
  (the example site's form), :func:`~.sio.candidate`, :func:`~.sio.wait_all`.
- :mod:`.browsers`: a person in headless Chromium with a solid-colour camera,
  signed in (:func:`~.browsers.person`), and the page scripts several use.
- :mod:`.meter`, :mod:`.fleet`, :mod:`.servers`, :mod:`.loadtool`: the load tool
  (``load.py`` and its ``load_*.py`` scenarios): bytes per message, thousands of
  clients in one process, the servers under test, and its command line.

Ports come from :func:`flask_videochat.testing.free_port`, the one every tool of
the project uses; the namespace is :data:`flask_videochat.NAMESPACE`.
"""
