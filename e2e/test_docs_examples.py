"""The docs' browser examples (marked ``<!-- run: e2e -->``, see
:mod:`tests.docs_examples`) run as written, with the kit's fixtures, against an
example site of this module's own: the examples use plain names ("Ada", "Bob")
that the shared site's other tests could also have online. (The example site
derives ids from names, so one example's Ada is the next one's too.)"""

from __future__ import annotations

import inspect
from typing import Iterator

import pytest

from flask_videochat.testing import LiveServer, example_site_command
from tests.docs_examples import Block, code_blocks

EXAMPLES = [pytest.param(b, id=b.where) for b in code_blocks() if b.mode == "e2e"]


@pytest.fixture(scope="module")
def docs_site() -> Iterator[LiveServer]:
    """An example site for this module (no ICE servers: nothing leaves the machine)."""
    with LiveServer(example_site_command(), env={"VIDEOCHAT_ICE_SERVERS": "[]"}) as site:
        yield site


@pytest.fixture
def videochat_base_url(docs_site: LiveServer) -> str:
    return docs_site.url


def test_there_are_browser_examples() -> None:
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("block", EXAMPLES)
def test_the_docs_browser_example_runs(block: Block, request: pytest.FixtureRequest) -> None:
    namespace: dict[str, object] = {"__name__": "docs_example"}
    exec(compile(block.code, block.where, "exec"), namespace)
    tests = [f for name, f in namespace.items() if name.startswith("test_") and callable(f)]
    assert tests, f"{block.where} defines no test"
    for test in tests:
        test(**{name: request.getfixturevalue(name)
                for name in inspect.signature(test).parameters})
