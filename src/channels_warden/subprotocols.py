"""The subprotocols a client offered, read from the raw header the same way on every server.

Servers disagree about ``Sec-WebSocket-Protocol``. uvicorn splits the raw header on commas; daphne
percent-decodes it first, so ``warden%2Cbearer.<jwt>`` reaches the application as two entries, and
autobahn then drops the connection because the protocol warden selects is not in the header it
parsed itself. One input, two outcomes. Warden reads the header(s) itself, splits on commas and
strips whitespace as both servers do, and refuses with 4400 when the scope's list differs from it,
when an entry is not an RFC 6455 token, or when an entry holds a ``%`` (which only one of the two
servers decodes). Both servers then decide the same way.
"""

from __future__ import annotations

import re

from ._types import Scope
from .exceptions import BadRequest

HEADER = b"sec-websocket-protocol"
#: RFC 6455 section 4.1: each subprotocol is a token (RFC 7230 ``tchar``s, no separators).
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: Most entries read; the transports refuse more than this anyway.
MAX_ENTRIES = 64


def raw_subprotocols(scope: Scope) -> list[str] | None:
    """The entries of every ``Sec-WebSocket-Protocol`` field in order; ``None`` without one (or empty)."""
    values = [value for key, value in scope.get("headers", ()) if key == HEADER]
    if not values or not b"".join(values).strip():
        return None  # an empty header offers nothing: daphne lists [""], which no transport reads
    entries = b",".join(values).decode("latin-1").split(",", MAX_ENTRIES)
    if len(entries) > MAX_ENTRIES:
        raise BadRequest(f"more than {MAX_ENTRIES} subprotocol entries")
    return [entry.strip() for entry in entries]


def check_subprotocols(scope: Scope) -> None:
    """Refuse offered subprotocols that a server could read differently (4400).

    Without the header (an in-process test scope) the scope's list is taken as given.
    """
    try:
        _check_raw(scope)
    except BadRequest as exc:
        exc.check = "subprotocols"
        raise


def _check_raw(scope: Scope) -> None:
    raw = raw_subprotocols(scope)
    if raw is None:
        return
    for entry in raw:
        if not _TOKEN.fullmatch(entry):
            raise BadRequest("a subprotocol entry is not an RFC 6455 token (empty, space or separator)")
        if "%" in entry:
            raise BadRequest("a subprotocol entry holds '%', which daphne decodes and uvicorn does not")
    if raw != list(scope.get("subprotocols") or ()):
        raise BadRequest("the server's subprotocol list differs from the Sec-WebSocket-Protocol header")
