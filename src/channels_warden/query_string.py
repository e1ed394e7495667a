"""Reading one parameter of a handshake's query string, strictly.

A credential in the URL (:class:`~channels_warden.transports.QueryStringTransport` and the ticket
transport built on it) is read here. Its parameter must appear once, percent-encoded correctly and
as UTF-8: anything a proxy and the server could read differently is refused with
:class:`~channels_warden.exceptions.BadRequest`. These are pure functions of the scope.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote_plus, unquote_to_bytes

from ._types import Scope
from .credentials import checked_secret
from .exceptions import BadRequest

_BROKEN_PERCENT = re.compile(rb"%(?![0-9A-Fa-f]{2})")


def _query_pairs(query: bytes) -> Iterable[tuple[bytes, bytes, str | None]]:
    """Yield ``(raw_pair, raw_value, decoded_name)``; the name is ``None`` when undecodable."""
    for pair in query.split(b"&"):
        if not pair:
            continue
        raw_name, _, raw_value = pair.partition(b"=")
        try:
            name = unquote_to_bytes(raw_name.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            name = None
        yield pair, raw_value, name


def query_parameter(scope: Scope, parameter: str, *, max_bytes: int) -> str | None:
    """The single value of ``parameter`` in the query string, checked as a token.

    Duplicates and broken percent-encoding raise ``BadRequest``: two values would let a proxy and
    the server disagree about which one counts.
    """
    values = [raw for _, raw, name in _query_pairs(scope.get("query_string", b"")) if name == parameter]
    if not values:
        return None
    if len(values) > 1:
        raise BadRequest(f"query parameter {parameter!r} given more than once")
    raw = values[0]
    if len(raw) > 3 * max_bytes:
        raise BadRequest(f"query parameter {parameter!r} over the size limit")
    if _BROKEN_PERCENT.search(raw):
        raise BadRequest(f"query parameter {parameter!r} has broken percent-encoding")
    try:
        decoded = unquote_plus(raw.decode("ascii"), errors="strict")
    except UnicodeError:
        raise BadRequest(f"query parameter {parameter!r} is not valid UTF-8") from None
    return checked_secret(decoded, max_bytes=max_bytes, what=f"query parameter {parameter!r}")


def without_query_parameter(scope: Scope, parameter: str) -> bytes:
    """The query string minus every occurrence of ``parameter``, other pairs untouched."""
    kept = [pair for pair, _, name in _query_pairs(scope.get("query_string", b"")) if name != parameter]
    return b"&".join(kept)
