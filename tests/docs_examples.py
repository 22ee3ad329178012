"""The fenced ``python`` code blocks of the README and ``docs/*.md``, each with how it
is run, for ``tests/test_docs_examples.py`` and ``e2e/test_docs_examples.py``.

An HTML comment on the line just before a block's fence says how it runs:

``<!-- run: e2e -->``
    it defines ``test_*`` functions taking the kit's fixtures (``videochat_user``,
    ...): the e2e suite runs each against a fresh example site.
``<!-- not-run: REASON -->``
    only compiled, for the REASON given (a server's main script, a service at a
    made-up address); keep these few.
no comment
    executed in a host app's module (:data:`HOST_NAMES`: an ``app`` with ``socketio``
    and ``videochat``, and stand-ins for the host's own functions the examples call).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_FENCE = re.compile(
    r"(?:^<!--\s*(?P<marker>[\w-]+)\s*:\s*(?P<why>.*?)\s*-->\n)?^```python\n(?P<code>.*?)^```",
    re.S | re.M,
)

#: The names an example may take from the host app it is a fragment of: besides
#: ``app``, ``socketio`` and ``videochat`` (made by the test), the host's own
#: functions and data the examples call.
HOST_NAMES = ("app", "socketio", "videochat", "get_current_user", "is_blocked",
              "BOARD_MEMBER_IDS", "team_of")


@dataclass(frozen=True)
class Block:
    """One fenced ``python`` block.

    :param where: ``"docs/testing.md:107"``: the file and the line of its fence.
    :param mode: ``"run"`` (in a host module), ``"e2e"`` or ``"not-run"``.
    :param why: the marker's text (the reason, for ``not-run``).
    """

    where: str
    mode: str
    why: str
    code: str


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def code_blocks() -> list[Block]:
    """Every fenced ``python`` block of :func:`documents`, in order.

    :raises ValueError: a marker other than ``run: e2e`` and ``not-run: REASON``.
    """
    found = []
    for path in documents():
        text = path.read_text()
        for match in _FENCE.finditer(text):
            line = text.count("\n", 0, match.start("code"))
            where = f"{path.relative_to(ROOT).as_posix()}:{line}"
            marker, why = match.group("marker"), match.group("why") or ""
            if marker is None:
                mode = "run"
            elif marker == "run" and why == "e2e":
                mode = "e2e"
            elif marker == "not-run" and why:
                mode = "not-run"
            else:
                raise ValueError(f"{where}: unknown marker <!-- {marker}: {why} -->")
            found.append(Block(where, mode, why, match.group("code")))
    return found
