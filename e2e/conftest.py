"""End-to-end tests: the example site on eventlet, real Chromium with fake devices.

The fixtures come from flask-videochat's own pytest plugin (the kit host apps use);
this file only says where the site is.
"""

from __future__ import annotations

import itertools
from typing import Iterator

import pytest

from flask_videochat.testing import LiveServer, example_site_command


@pytest.fixture(scope="session")
def example_site() -> Iterator[LiveServer]:
    """``python -m example_site`` on a free loopback port, for the whole session.
    Its output is printed when a test fails (pytest shows captured output)."""
    server = LiveServer(example_site_command(), env={"VIDEOCHAT_ICE_SERVERS": "[]"})
    with server:
        yield server
    print(server.output())


@pytest.fixture
def videochat_base_url(example_site: LiveServer) -> str:
    return example_site.url


@pytest.fixture
def names(request: pytest.FixtureRequest) -> Names:
    """Display names unique to this test, so tests sharing the site never meet."""
    return Names(request.node.name)


class Names:
    _count = itertools.count(1)

    def __init__(self, test: str) -> None:
        self._suffix = f"#{next(self._count)}"

    def __call__(self, name: str) -> str:
        return f"{name} {self._suffix}"
