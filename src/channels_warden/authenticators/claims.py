"""Types and ranges of JWT claims, judged before anyone does arithmetic with them.

PyJWT and SimpleJWT trust the JSON types of the registered claims. A numeric-string ``exp`` passes
PyJWT's ``int()`` and then makes SimpleJWT's ``datetime.fromtimestamp`` raise ``TypeError``; an
``exp`` past the year 9999 raises ``OverflowError`` or ``ValueError``; a list ``iss`` raises
``TypeError`` against a set of issuers; a header nested a thousand deep raises ``RecursionError``
in the JSON parser. Each of those is a malformed token from a client, so it must be 4401, never a
500 with a traceback.

The payload is read here without checking the signature. Only its shape is judged, nothing read
here is trusted, and SimpleJWT still verifies the signature afterwards: a forged token with
well-typed claims is refused there, with the same 4401.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping
from typing import Any

from ..exceptions import AuthenticationFailed

#: 9999-12-31T23:59:59Z, the last second a ``datetime`` can hold (SimpleJWT converts ``exp`` to one).
MAX_NUMERIC_DATE = 253_402_300_799
#: Longest string claim: SimpleJWT's ``OutstandingToken.jti`` is a ``CharField(max_length=255)``.
MAX_STRING_CLAIM = 255
#: Most audiences one token may name.
MAX_AUDIENCES = 32
#: Integer user ids must fit a 64-bit signed primary key.
MAX_INTEGER_ID = 2**63 - 1
NUMERIC_DATE_CLAIMS = ("exp", "nbf", "iat")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


#: One decoder for every strict parse: ``json.loads(data, parse_constant=...)`` builds a new one
#: per call, twice per JWT handshake.
_STRICT_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def strict_json(data: bytes) -> Any:
    """``json.loads(data, parse_constant=...)`` without a decoder per call: same encodings, same errors."""
    return _STRICT_DECODER.decode(data.decode(json.detect_encoding(data), "surrogatepass"))


def _segment(text: str, what: str) -> Any:
    """One base64url segment decoded and parsed as strict JSON (no ``NaN``/``Infinity``)."""
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        return strict_json(data)
    except (ValueError, RecursionError):
        # ValueError covers bad base64, bad UTF-8, bad JSON and integers over Python's digit limit.
        raise AuthenticationFailed(f"JWT {what} is not base64url-encoded JSON") from None


def unverified_payload(raw: str) -> dict[str, Any]:
    """The payload of a compact JWS, parsed but **not verified**; ``AuthenticationFailed`` if malformed."""
    parts = raw.split(".")
    if len(parts) != 3:
        raise AuthenticationFailed(f"JWT has {len(parts)} segments, not 3")
    header = _segment(parts[0], "header")
    payload = _segment(parts[1], "payload")
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise AuthenticationFailed("JWT header or payload is not a JSON object")
    return payload


def _type_name(value: object) -> str:
    return type(value).__name__


def check_numeric_date(name: str, value: object) -> None:
    """A NumericDate (RFC 7519): a finite number of seconds between 1970 and the year 9999."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AuthenticationFailed(f"JWT claim {name!r} has type {_type_name(value)}, not a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise AuthenticationFailed(f"JWT claim {name!r} is not finite")
    if not 0 <= value <= MAX_NUMERIC_DATE:
        raise AuthenticationFailed(f"JWT claim {name!r} is outside 1970..9999")


def check_string(name: str, value: object) -> None:
    """A non-empty string of at most :data:`MAX_STRING_CLAIM` characters."""
    if not isinstance(value, str):
        raise AuthenticationFailed(f"JWT claim {name!r} has type {_type_name(value)}, not a string")
    if not 0 < len(value) <= MAX_STRING_CLAIM:
        raise AuthenticationFailed(f"JWT claim {name!r} is empty or over {MAX_STRING_CLAIM} characters")


def check_audience(value: object) -> None:
    """``aud``: one string, or a non-empty list of at most :data:`MAX_AUDIENCES` strings."""
    if isinstance(value, list):
        if not 0 < len(value) <= MAX_AUDIENCES:
            raise AuthenticationFailed(f"JWT claim 'aud' lists 0 or over {MAX_AUDIENCES} audiences")
        for entry in value:
            check_string("aud", entry)
    else:
        check_string("aud", value)


def check_claims(payload: Mapping[str, Any], *, string_claims: tuple[str | None, ...] = ()) -> None:
    """Refuse registered claims of the wrong type or range; absent claims are left to SimpleJWT.

    Args:
        payload: the unverified payload.
        string_claims: further claims that must be short strings when present (SimpleJWT's
            ``JTI_CLAIM`` and ``TOKEN_TYPE_CLAIM``); ``None`` entries (a disabled claim) are skipped.
    """
    for name in NUMERIC_DATE_CLAIMS:
        if name in payload:
            check_numeric_date(name, payload[name])
    for claim in ("iss", *string_claims):
        if claim is not None and claim in payload:
            check_string(claim, payload[claim])
    if "aud" in payload:
        check_audience(payload["aud"])
