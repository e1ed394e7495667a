"""GraphQL over WebSocket: ``graphql-transport-ws`` (the ``graphql-ws`` npm client, Apollo, urql,
Relay) and the legacy ``graphql-ws`` protocol (``subscriptions-transport-ws``).

Why each code (read from graphql-ws 6.4.2, ``shouldRetryConnectOrThrow`` in ``dist/client.js``): the
client gives up on 4400, 4401, 4406, 4409, 4429, 4500 (and its own 4004, 4005) and on 1000-1999
except 1000, 1001, 1005, 1006, 1012, 1013, 1014; it retries every other 4xxx code, re-running a
``connectionParams`` function each time. So:

* a credential that ends on a live socket (4498) stays 4498, which the client retries: it reconnects
  with fresh ``connectionParams`` and resubscribes. An already-expired credential in
  ``connection_init`` (4401 ``token_expired``) is sent as 4498 for the same reason;
* a revocation (warden's 4499, which graphql-ws would *retry*, reading it as its own "Terminated")
  is sent as 4401: reconnecting with the same credential cannot succeed;
* every other code keeps warden's number, whose meaning here is the protocol's (4400 bad request,
  4401 unauthorized, 4403 forbidden, which graphql-ws retries, 4408 init timeout, 4429 too many,
  4500 internal).

The legacy client ignores close codes (with ``reconnect: true`` it reconnects after any close); the
only thing it reports to the application is a ``connection_error`` message, which warden sends before
every refusal and close so that a ``connectionCallback`` can stop it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from ..codes import CloseCode
from .base import ProtocolAdapter

GRAPHQL_TRANSPORT_WS = "graphql-transport-ws"
GRAPHQL_WS = "graphql-ws"

_CLOSE_CODES: Mapping[int, int] = {CloseCode.REVOKED: CloseCode.UNAUTHENTICATED}
_REASON_CODES: Mapping[tuple[int, str], int] = {
    (CloseCode.UNAUTHENTICATED, "token_expired"): CloseCode.TOKEN_EXPIRED,
}


class GraphQLTransportWSAdapter(ProtocolAdapter):
    """``graphql-transport-ws``: credential in the ``connection_init`` payload, codes the client acts on."""

    subprotocol = GRAPHQL_TRANSPORT_WS
    close_codes: ClassVar[Mapping[int, int]] = _CLOSE_CODES
    reason_codes: ClassVar[Mapping[tuple[int, str], int]] = _REASON_CODES


class GraphQLWSAdapter(ProtocolAdapter):
    """The legacy ``graphql-ws`` protocol: same credential and codes, plus a ``connection_error`` frame."""

    subprotocol = GRAPHQL_WS
    close_codes: ClassVar[Mapping[int, int]] = _CLOSE_CODES
    reason_codes: ClassVar[Mapping[tuple[int, str], int]] = _REASON_CODES

    def refusal_frame(self, disconnect: Mapping[str, Any]) -> str | None:
        code = self.wire_close(int(disconnect["code"]), str(disconnect["reason"]))
        payload = {"message": disconnect["reason"], "code": code}
        return json.dumps({"type": "connection_error", "payload": payload})
