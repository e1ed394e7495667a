"""Choosing a protocol adapter from the offered subprotocols and ``PROTOCOL_ADAPTERS``."""

from __future__ import annotations

from channels_warden.conf import WardenSettings
from channels_warden.protocols import (
    GraphQLTransportWSAdapter,
    GraphQLWSAdapter,
    ProtocolSocket,
    adapter_for,
    protocol_socket,
)


async def _receive() -> dict[str, str]:
    return {"type": "websocket.connect"}


async def _send(message: dict[str, str]) -> None:
    return None


def test_graphql_transport_ws_is_adapted_by_default() -> None:
    """A client offering ``graphql-transport-ws`` gets the GraphQL adapter with no configuration."""
    adapter = adapter_for({"subprotocols": ["graphql-transport-ws"]}, WardenSettings())
    assert isinstance(adapter, GraphQLTransportWSAdapter)


def test_first_offered_adapted_subprotocol_wins() -> None:
    """The client's order decides between two adapted subprotocols; unadapted ones are skipped."""
    scope = {"subprotocols": ["warden", "graphql-ws", "graphql-transport-ws"]}
    assert isinstance(adapter_for(scope, WardenSettings()), GraphQLWSAdapter)


def test_no_adapter_for_other_subprotocols() -> None:
    """Warden's own subprotocol, or none at all, is not adapted."""
    settings = WardenSettings()
    assert (adapter_for({"subprotocols": ["warden", "bearer.x"]}, settings), adapter_for({}, settings)) == (
        None,
        None,
    )


def test_adapter_set_to_none_is_off_and_the_others_stay() -> None:
    """``{"graphql-ws": None}`` turns that adapter off and leaves the default ``graphql-transport-ws`` on."""
    settings = WardenSettings({"PROTOCOL_ADAPTERS": {"graphql-ws": None}})
    legacy = adapter_for({"subprotocols": ["graphql-ws"]}, settings)
    current = adapter_for({"subprotocols": ["graphql-transport-ws"]}, settings)
    assert (legacy, isinstance(current, GraphQLTransportWSAdapter)) == (None, True)


def test_setting_none_turns_every_adapter_off() -> None:
    """``PROTOCOL_ADAPTERS = None``: no socket is adapted."""
    settings = WardenSettings({"PROTOCOL_ADAPTERS": None})
    assert adapter_for({"subprotocols": ["graphql-transport-ws", "graphql-ws"]}, settings) is None


def test_adapter_options_are_passed() -> None:
    """``{"CLASS": ..., "OPTIONS": {...}}`` builds the adapter with those options."""
    entry = {
        "CLASS": "channels_warden.protocols.GraphQLTransportWSAdapter",
        "OPTIONS": {"max_init_bytes": 99},
    }
    settings = WardenSettings({"PROTOCOL_ADAPTERS": {"graphql-transport-ws": entry}})
    adapter = adapter_for({"subprotocols": ["graphql-transport-ws"]}, settings)
    assert adapter is not None
    assert adapter.max_init_bytes == 99


def test_protocol_socket_wraps_an_adapted_handshake() -> None:
    """``protocol_socket`` gives a ``ProtocolSocket`` for an adapted handshake and ``None`` otherwise."""
    settings = WardenSettings()
    adapted = protocol_socket({"subprotocols": ["graphql-transport-ws"]}, _receive, _send, settings)
    plain = protocol_socket({"subprotocols": []}, _receive, _send, settings)
    assert (isinstance(adapted, ProtocolSocket), plain) == (True, None)
