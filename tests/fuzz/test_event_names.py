"""Names that are not events of the protocol, strings or any other JSON value:
``ERR_UNKNOWN_EVENT``, whatever the arguments and the scene."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flask_videochat.core.protocol import EVENTS
from tests.fuzz.oracle import FUZZ, fuzz_config, send
from tests.fuzz.scenes import SCENES, fuzz_one
from tests.fuzz.strategies import arguments, json_values, not_events
from tests.fuzz.world import ErrorLog, heard

if TYPE_CHECKING:
    from tests.harness import Connector, ConnectorFor, MakeHost


@pytest.mark.parametrize("async_mode", ["threading"])
def test_names_that_are_not_events_are_refused(
    make_host: MakeHost, connector_for: ConnectorFor, errors: ErrorLog
) -> None:
    """``ERR_UNKNOWN_EVENT`` whatever the name (strings or not) and arguments."""
    host = make_host(config=fuzz_config())
    connect = connector_for(host)

    @settings(FUZZ, max_examples=100)
    @given(
        name=not_events,
        scene=st.sampled_from(SCENES),
        args=st.one_of(
            st.just([]),
            st.lists(json_values, min_size=1, max_size=3),
            st.sampled_from(sorted(EVENTS)).flatmap(arguments),
        ),
    )
    def fuzz(name: Any, scene: str, args: list[Any]) -> None:
        fuzz_one(host, connect, errors, name, scene, False, args)

    fuzz()


@pytest.mark.parametrize("name", [[], {}, ["call.invite"], {"call.invite": None}, None, 7])
def test_an_event_named_with_another_json_value_is_unknown(
    connect: Connector, errors: ErrorLog, name: Any
) -> None:
    """Regression: a list or an object as the event name (the Socket.IO protocol
    wants a string, a hostile client may send any JSON) made the namespace's
    dispatch raise ``TypeError: unhashable type`` instead of answering."""
    ada, bob = connect("ada"), connect("bob")
    bob.clear()

    ack = send(ada, name, {"to": "bob"})

    assert ack["ok"] is False and ack["error"]["code"] == "ERR_UNKNOWN_EVENT", ack
    assert heard(bob) == []
    assert send(ada, "ping", {}) == {"ok": True}
    errors.check()
