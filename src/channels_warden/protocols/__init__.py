"""Protocol adapters, chosen by the subprotocol the client offers.

``WARDEN["PROTOCOL_ADAPTERS"]`` maps a subprotocol to an adapter (import string, or
``{"CLASS": ..., "OPTIONS": {...}}``); the first subprotocol the client offers that has one decides.
Both GraphQL protocols are registered by default. The setting is laid over those entries: set one
to ``None`` to turn it off (``PROTOCOL_ADAPTERS = None`` turns them all off), or add your own
:class:`ProtocolAdapter` subclass for another protocol.
"""

from __future__ import annotations

from .._types import Receive, Scope, Send
from ..conf import WardenSettings
from .base import INIT_TRANSPORT, ProtocolAdapter
from .graphql import GRAPHQL_TRANSPORT_WS, GRAPHQL_WS, GraphQLTransportWSAdapter, GraphQLWSAdapter
from .socket import ProtocolSocket

__all__ = [
    "GRAPHQL_TRANSPORT_WS",
    "GRAPHQL_WS",
    "INIT_TRANSPORT",
    "GraphQLTransportWSAdapter",
    "GraphQLWSAdapter",
    "ProtocolAdapter",
    "ProtocolSocket",
    "adapter_for",
    "protocol_socket",
]


def adapter_for(scope: Scope, settings: WardenSettings) -> ProtocolAdapter | None:
    """The adapter of the first subprotocol the client offers that has one, or ``None``."""
    adapters = settings.protocol_adapters
    if not adapters:
        return None
    for offered in scope.get("subprotocols") or ():
        adapter: ProtocolAdapter | None = adapters.get(offered)
        if adapter is not None:
            return adapter
    return None


def protocol_socket(
    scope: Scope, receive: Receive, send: Send, settings: WardenSettings
) -> ProtocolSocket | None:
    """A :class:`ProtocolSocket` for this handshake when the client speaks an adapted protocol."""
    adapter = adapter_for(scope, settings)
    return None if adapter is None else ProtocolSocket(adapter, receive, send, settings)
