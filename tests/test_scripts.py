"""scripts/test as root installs what it misses with apt-get: it waits for another
apt or dpkg process holding apt's locks instead of failing at once."""

from __future__ import annotations

import re
from pathlib import Path

SCRIPT = Path(__file__).parents[1] / "scripts" / "test"


def _commands(text: str) -> list[str]:
    """The script's command lines, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", text)
    return [line.strip() for line in joined.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def test_every_apt_get_waits_for_the_dpkg_lock() -> None:
    apt = [c for c in _commands(SCRIPT.read_text()) if re.search(r"\bapt-get\b", c)]
    assert len(apt) >= 2, apt  # update and install
    assert all("-o DPkg::Lock::Timeout=600" in c for c in apt), apt


def test_update_first_waits_for_the_lists_lock() -> None:
    """DPkg::Lock::Timeout does not cover apt-get update's lists lock (apt 2.6)."""
    commands = _commands(SCRIPT.read_text())
    update = next(i for i, c in enumerate(commands) if re.search(r"apt-get .*\bupdate\b", c))
    assert "/var/lib/apt/lists/lock" in commands[update - 1]
    assert "LOCK_EX" in commands[update - 1] and "alarm(600)" in commands[update - 1]
