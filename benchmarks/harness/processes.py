"""Processes a benchmark starts or watches: their CPU time and memory from ``/proc``,
and :class:`Child`, a process with its output in a log file that dies with the tool."""

from __future__ import annotations

import contextlib
import ctypes
import datetime
import os
import platform
import signal
import subprocess
import time
from pathlib import Path
from typing import Callable, Iterable

#: Seconds a child (a server, Redis) gets to become ready.
START_TIMEOUT = 30.0


class UnsupportedError(Exception):
    """The server's flask_videochat lacks something an option needs."""


def die_with_parent() -> None:
    """In a child, before exec: be killed when the tool dies, even by SIGKILL."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def rss_kib(pid: int | str = "self") -> int:
    """Resident memory of a process in KiB (``VmRSS`` of ``/proc/<pid>/status``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pids: int | Iterable[int]) -> float:
    """User plus system CPU seconds so far (``/proc/<pid>/stat``) of a process, or
    the sum over several (those that have exited count nothing)."""
    if isinstance(pids, int):
        fields = Path(f"/proc/{pids}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            total += cpu_seconds(pid)
    return total


def process_trees(is_ours: Callable[[str], bool], *,
                  skip_root: Callable[[str], bool] = lambda name: False,
                  within: int | None = None) -> dict[int, list[int]]:
    """Each root process whose name ``is_ours`` (and whose parent's is not), with all
    its descendants, from ``/proc``; roots whose name ``skip_root`` are left out, and
    with ``within``, those that do not descend from that process (other people's
    processes on a shared machine)."""
    parent: dict[int, int] = {}
    names: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        names[int(entry)] = stat[stat.index("(") + 1: stat.rindex(")")]
        parent[int(entry)] = int(stat[stat.rindex(")") + 2:].split()[1])
    ours = {pid for pid, name in names.items() if is_ours(name)}
    def descends(pid: int) -> bool:
        while pid > 1:
            pid = parent.get(pid, 0)
            if pid == within:
                return True
        return False

    roots = [pid for pid in ours if parent.get(pid) not in ours and not skip_root(names[pid])
             and (within is None or descends(pid))]
    children: dict[int, list[int]] = {}
    for pid, ppid in parent.items():
        children.setdefault(ppid, []).append(pid)
    trees = {}
    for root in roots:
        tree, todo = [], [root]
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo.extend(children.get(pid, []))
        trees[root] = tree
    return trees


class Child:
    """A process started by a tool, its output in ``<log_dir>/<name>.log``, killed
    when the tool dies; :meth:`wait_ready` waits for what says it is up."""

    def __init__(self, name: str, command: list[str], log_dir: Path) -> None:
        self.name = name
        self.command = command
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            command,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            preexec_fn=die_with_parent,
        )
        self.pid = self.process.pid

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, is_ready: Callable[[], bool], *, unsupported: int | None = None) -> None:
        """Wait until ``is_ready()``.

        :raises UnsupportedError: it exited with status ``unsupported`` (the server
            said it cannot do what was asked, on a line starting ``unsupported``).
        :raises RuntimeError: it exited otherwise, or was not ready in time."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if is_ready():
                return
            code = self.process.poll()
            if code is not None:
                text = self.output()
                if unsupported is not None and code == unsupported:
                    lines = [ln for ln in text.splitlines() if ln.startswith("unsupported")]
                    raise UnsupportedError(lines[-1] if lines else text)
                raise RuntimeError(f"{self.name} exited with {code}:\n{text[-4000:]}")
            time.sleep(0.05)
        raise RuntimeError(
            f"{self.name} not ready after {START_TIMEOUT} s:\n{self.output()[-4000:]}"
        )

    def stop(self, *, grace: float = 0) -> None:
        """Wait up to ``grace`` seconds for it to exit by itself; then SIGTERM, and
        SIGKILL after 5 s."""
        if grace:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(grace)
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def machine() -> str:
    """Date, cores, system, Python and the checkout's commit, for a report."""
    here = Path(__file__).resolve().parent

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=here, capture_output=True, text=True,
                              check=False).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except OSError:
        commit, dirty = "?", ""
    return (
        f"{datetime.date.today().isoformat()}, {os.cpu_count()} cores, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"commit {commit or '?'}{' with uncommitted changes' if dirty else ''}"
    )
