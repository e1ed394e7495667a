"""The GraphQL adapters' code choices and the legacy protocol's ``connection_error`` frame."""

from __future__ import annotations

import json

import pytest

from channels_warden.protocols.graphql import GraphQLTransportWSAdapter, GraphQLWSAdapter

#: warden (code, reason) -> code on the wire, from the table in docs/graphql.md.
TABLE = [
    ((4400, "bad_request"), 4400),
    ((4401, "unauthenticated"), 4401),
    ((4401, "token_expired"), 4498),
    ((4403, "forbidden"), 4403),
    ((4408, "auth_timeout"), 4408),
    ((4409, "replaced"), 4409),
    ((4429, "too_many"), 4429),
    ((4498, "token_expired"), 4498),
    ((4499, "revoked"), 4401),
    ((4500, "internal"), 4500),
]


@pytest.mark.parametrize("adapter", [GraphQLTransportWSAdapter(), GraphQLWSAdapter()], ids=repr)
@pytest.mark.parametrize(("warden", "wire"), TABLE)
def test_close_code_table(adapter: GraphQLTransportWSAdapter, warden: tuple[int, str], wire: int) -> None:
    """Each of warden's codes goes out as the documented code on both GraphQL protocols."""
    assert adapter.wire_close(*warden) == wire


def test_subprotocols() -> None:
    """Each adapter serves the subprotocol its clients offer."""
    assert (GraphQLTransportWSAdapter.subprotocol, GraphQLWSAdapter.subprotocol) == (
        "graphql-transport-ws",
        "graphql-ws",
    )


def test_transport_ws_sends_no_frame_before_a_close() -> None:
    """``graphql-transport-ws`` would close 4400 on an unknown message: nothing replaces warden's frame."""
    disconnect = {"type": "warden.disconnect", "code": 4401, "reason": "unauthenticated"}
    assert GraphQLTransportWSAdapter().refusal_frame(disconnect) is None


def test_legacy_sends_connection_error_with_the_wire_code() -> None:
    """The legacy protocol gets ``connection_error`` with the reason and the code it will see."""
    disconnect = {"type": "warden.disconnect", "code": 4499, "reason": "revoked", "reconnect": "never"}
    frame = GraphQLWSAdapter().refusal_frame(disconnect)
    assert frame is not None
    assert json.loads(frame) == {"type": "connection_error", "payload": {"message": "revoked", "code": 4401}}
