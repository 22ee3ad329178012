"""The fuzz harness itself: every event of the protocol is fuzzed, and payloads
reach the server as a browser sends them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_videochat.core.protocol import EVENTS
from tests.fuzz.oracle import SCHEMAS, STATE_ERRORS, SUCCESS_FIELDS, on_the_wire
from tests.fuzz.strategies import HUGE, nest

if TYPE_CHECKING:
    pass


def test_every_event_is_fuzzed() -> None:
    """A new event must get its schema, errors and ack fields here."""
    assert set(SCHEMAS) == set(EVENTS) == set(STATE_ERRORS) == set(SUCCESS_FIELDS)


def test_deep_and_huge_payloads_reach_the_server_as_sent() -> None:
    """The test client sends what a browser would: JSON (``socketio.packet``), so
    500 levels of nesting and a few hundred KB arrive intact."""
    deep = nest(500, "mixed", None)
    assert on_the_wire(deep, "x" * HUGE, b"\x00\x01") == [deep, "x" * HUGE, b"\x00\x01"]
