"""Close codes and the hints a client needs to react to them.

The codes mirror HTTP status codes in the private-use band (4000-4999) so that a client can tell
"fix your credentials" from "stop trying" from "the server is in trouble". The table is part of the
public contract: codes and reasons never change meaning once released.
"""

from __future__ import annotations

import enum


class CloseCode(enum.IntEnum):
    """WebSocket close codes sent by channels-warden."""

    BAD_REQUEST = 4400
    UNAUTHENTICATED = 4401
    FORBIDDEN = 4403
    NOT_FOUND = 4404
    AUTH_TIMEOUT = 4408
    REPLACED = 4409
    TOO_MANY = 4429
    TOKEN_EXPIRED = 4498
    REVOKED = 4499
    INTERNAL = 4500

    @property
    def reason(self) -> str:
        """The stable, machine-readable word sent with the code."""
        return self.name.lower()

    @property
    def reconnect(self) -> str:
        """What a well-behaved client does next: ``refresh``, ``retry``, ``backoff`` or ``never``."""
        return _RECONNECT[self]

    @property
    def http_status(self) -> int:
        """The HTTP status used when the handshake is denied instead of accepted then closed."""
        return _HTTP_STATUS[self]


_RECONNECT = {
    CloseCode.BAD_REQUEST: "never",
    CloseCode.UNAUTHENTICATED: "refresh",
    CloseCode.FORBIDDEN: "never",
    CloseCode.NOT_FOUND: "never",
    CloseCode.AUTH_TIMEOUT: "retry",
    CloseCode.REPLACED: "never",
    CloseCode.TOO_MANY: "backoff",
    CloseCode.TOKEN_EXPIRED: "refresh",
    CloseCode.REVOKED: "never",
    CloseCode.INTERNAL: "backoff",
}

_HTTP_STATUS = {
    CloseCode.BAD_REQUEST: 400,
    CloseCode.UNAUTHENTICATED: 401,
    CloseCode.FORBIDDEN: 403,
    CloseCode.NOT_FOUND: 404,
    CloseCode.AUTH_TIMEOUT: 408,
    CloseCode.REPLACED: 409,
    CloseCode.TOO_MANY: 429,
    CloseCode.TOKEN_EXPIRED: 401,
    CloseCode.REVOKED: 401,
    CloseCode.INTERNAL: 500,
}
