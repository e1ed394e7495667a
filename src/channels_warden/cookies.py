"""Credential cookies read from the raw ``Cookie`` field(s), one value per name or a refusal."""

from __future__ import annotations

import re

from django.http import parse_cookie

from ._types import Scope
from .exceptions import BadRequest

MAX_COOKIE_HEADER_BYTES = 32 * 1024


def _header_values(scope: Scope) -> list[bytes]:
    return [value for key, value in scope.get("headers", ()) if key == b"cookie"]


def cookie_header(scope: Scope) -> str | None:
    """Every ``Cookie`` field joined with ``; `` (HTTP/2 clients send one field per cookie), bounded."""
    values = _header_values(scope)
    if not values:
        return None
    joined = b"; ".join(values)
    if len(joined) > MAX_COOKIE_HEADER_BYTES:
        raise BadRequest(f"Cookie header over {MAX_COOKIE_HEADER_BYTES} bytes")
    return joined.decode("latin-1")


# Cookies are separated by ";"; daphne (autobahn) joins repeated Cookie fields with ", ", and no
# token or session key contains a comma, so a comma separates credential cookies too.
_COOKIE_SEPARATOR = re.compile(r"[;,]")


def cookie_value(scope: Scope, name: str) -> str | None:
    """The single value of cookie ``name`` across every ``Cookie`` field, ``None`` when absent.

    Django's ``parse_cookie`` keeps the last of two same-named cookies, and Channels' session
    middleware reads only the first ``Cookie`` field, so ``sessionid=A; sessionid=B`` would let two
    readers disagree about whose session this is (and "cookie tossing" from a sibling subdomain
    choose it). Two values for one credential are ambiguous: ``BadRequest``. The fields are read the
    same way whether the server passes them one by one (uvicorn) or joined with commas (daphne).
    """
    header = cookie_header(scope)
    if header is None or name not in header:
        return None
    found = [
        chunk
        for chunk in _COOKIE_SEPARATOR.split(header)
        if "=" in chunk and chunk.split("=", 1)[0].strip() == name
    ]
    if len(found) > 1:
        raise BadRequest(f"cookie {name!r} given more than once")
    return parse_cookie(found[0]).get(name) if found else None


def without_cookie(header: str, name: str) -> str:
    """``header`` minus every ``name=value`` pair, other cookies left exactly as they were."""
    pattern = rf"(?:^|[;,])\s*{re.escape(name)}\s*=[^;,]*"
    return re.sub(pattern, "", header).lstrip(";, ")
