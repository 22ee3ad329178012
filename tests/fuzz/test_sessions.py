"""Random sessions of three people (:class:`~tests.fuzz.session.Session`): with
and without a reconnect grace, under eventlet, and on the Redis store."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.fuzz.session import run_sessions
from tests.fuzz.world import ErrorLog

if TYPE_CHECKING:
    from tests.harness import ConnectorFor, MakeHost


@pytest.mark.parametrize("async_mode", ["threading"])
def test_random_sessions_keep_the_state_consistent(
    make_host: MakeHost, connector_for: ConnectorFor, errors: ErrorLog
) -> None:
    """No reconnect grace: a closed tab loses its call and seat at once."""
    run_sessions(make_host, connector_for, errors, examples=100, steps=40)


@pytest.mark.parametrize("async_mode", ["threading"])
def test_random_sessions_with_a_reconnect_grace(
    make_host: MakeHost, connector_for: ConnectorFor, errors: ErrorLog
) -> None:
    """Calls and seats of closed tabs are kept (longer than the test lasts) and taken
    back, or not, from other tabs."""
    run_sessions(make_host, connector_for, errors, examples=50, steps=40, grace=600)


@pytest.mark.parametrize("async_mode", ["eventlet"])
def test_random_sessions_under_eventlet(
    make_host: MakeHost, connector_for: ConnectorFor, errors: ErrorLog
) -> None:
    """The same, fewer, under eventlet."""
    run_sessions(make_host, connector_for, errors, examples=20, steps=30)


@pytest.mark.parametrize("host_store", ["redis"], indirect=True)
@pytest.mark.parametrize("async_mode", ["threading"])
def test_random_sessions_on_the_redis_store(
    make_host: MakeHost, connector_for: ConnectorFor, errors: ErrorLog
) -> None:
    """The same, fewer, with presence, calls and rooms in Redis (one process,
    threading)."""
    run_sessions(make_host, connector_for, errors, examples=15, steps=30)
