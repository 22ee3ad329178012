"""Fixtures of the fuzz tests (``tests/fuzz/``). The harness is in this package's
other modules: :mod:`~tests.fuzz.oracle` (what the protocol allows, sending and
checking acks), :mod:`~tests.fuzz.world` (what the state must look like),
:mod:`~tests.fuzz.strategies` (generated payloads), :mod:`~tests.fuzz.scenes` (what
is going on when an event is fuzzed) and :mod:`~tests.fuzz.session` (random
sessions); each ``test_*.py`` is one scenario.

Hypothesis runs derandomized and without its example database, so every run (and
CI) tries the same inputs and nothing is written into the repository."""

from __future__ import annotations

import logging
from typing import Iterator

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from tests.fuzz.world import ErrorLog


@pytest.fixture(autouse=True, scope="module")
def hypothesis_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Hypothesis caches what it learns of the code and of Unicode in a temporary
    directory, not in ``.hypothesis`` in the repository (its example database is
    off: see :data:`~tests.fuzz.oracle.FUZZ`)."""
    set_hypothesis_home_dir(tmp_path_factory.mktemp("hypothesis"))
    yield
    set_hypothesis_home_dir(None)


@pytest.fixture
def errors() -> Iterator[ErrorLog]:
    handler = ErrorLog()
    logger = logging.getLogger("flask_videochat")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
