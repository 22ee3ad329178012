"""Whatever a browser sends on connecting (Socket.IO's ``auth``), the identity
comes from the host's session."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, settings

from flask_videochat import NAMESPACE
from tests.fuzz.oracle import ACTORS, FUZZ, deep_encoding, fuzz_config
from tests.fuzz.strategies import connect_auths
from tests.fuzz.world import ErrorLog, check_empty

if TYPE_CHECKING:
    from tests.harness import ConnectorFor, MakeHost


@pytest.mark.parametrize("async_mode", ["threading"])
def test_any_connect_auth_is_ignored(
    make_host: MakeHost, connector_for: ConnectorFor, errors: ErrorLog
) -> None:
    """The identity comes from the host's session, never from what the browser
    sends on connecting."""
    host = make_host(config=fuzz_config())
    connect = connector_for(host)
    browser = connect.browser("ada")

    @settings(FUZZ, max_examples=30)
    @given(auth=connect_auths)
    def fuzz(auth: Any) -> None:
        with deep_encoding():
            client = host.socketio.test_client(
                host.app, namespace=NAMESPACE, flask_test_client=browser, auth=auth
            )
        try:
            assert client.is_connected(NAMESPACE)
            hello = client.get_received(NAMESPACE)[0]
            assert hello["name"] == "hello"
            assert hello["args"][0]["self"] == host.public("ada")
        finally:
            client.disconnect(namespace=NAMESPACE)
        check_empty(host, ACTORS)
        errors.check()

    fuzz()
