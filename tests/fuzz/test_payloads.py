"""Any payload of any event, sent from Ada's tab in every scene: a documented ack,
a refusal that changes nothing and that nobody else hears of, a consistent state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flask_videochat.core.protocol import EVENTS
from tests.fuzz.oracle import FUZZ, fuzz_config
from tests.fuzz.scenes import SCENES, fuzz_one
from tests.fuzz.strategies import arguments, not_events
from tests.fuzz.world import ErrorLog

if TYPE_CHECKING:
    from tests.harness import ConnectorFor, MakeHost


@pytest.mark.parametrize("async_mode", ["threading"])
@pytest.mark.parametrize("event", sorted(EVENTS))
def test_any_payload_gets_a_documented_ack(
    event: str, make_host: MakeHost, connector_for: ConnectorFor, errors: ErrorLog
) -> None:
    """Ada sends ``event`` with generated arguments, in one of :data:`SCENES`, from
    her tab or another one."""
    host = make_host(config=fuzz_config())
    connect = connector_for(host)

    @settings(FUZZ, max_examples=100)
    @given(
        scene=st.sampled_from(SCENES),
        second_tab=st.sampled_from([False, False, False, True]),
        args=arguments(event),
    )
    def fuzz(scene: str, second_tab: bool, args: list[Any]) -> None:
        fuzz_one(host, connect, errors, event, scene, second_tab, args)

    fuzz()


@pytest.mark.parametrize("async_mode", ["eventlet"])
def test_any_event_any_payload_under_eventlet(
    make_host: MakeHost, connector_for: ConnectorFor, errors: ErrorLog
) -> None:
    """The same as above, fewer, under eventlet."""
    host = make_host(config=fuzz_config())
    connect = connector_for(host)

    @settings(FUZZ, max_examples=100)
    @given(
        event_and_args=st.one_of(st.sampled_from(sorted(EVENTS)), not_events).flatmap(
            lambda event: st.tuples(st.just(event), arguments(event))
        ),
        scene=st.sampled_from(SCENES),
    )
    def fuzz(event_and_args: tuple[Any, list[Any]], scene: str) -> None:
        event, args = event_and_args
        fuzz_one(host, connect, errors, event, scene, False, args)

    fuzz()
