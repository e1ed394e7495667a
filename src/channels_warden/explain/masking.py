"""How ``warden_explain`` shows what a client sent: enough to recognise it, never the secret.

A credential is shown as its kind and length; a JWT also as a few of its claims (type, expiry,
user id), read without verifying it, because "this is a refresh token" or "this expired an hour
ago" is the answer a developer is looking for and the claims are not what makes a JWT secret. No
signature, no opaque key, no session key and no cookie value is ever printed.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import unquote_plus

from .._types import Scope
from ..authenticators.claims import unverified_payload
from ..exceptions import Rejection
from ..logging import loggable_path

JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
#: Subprotocol entries at most this long that look like names, not tokens, are shown as they are.
MAX_SHOWN_NAME = 24
_NAME = re.compile(r"[a-z][a-z0-9_.-]*", re.IGNORECASE)


def _claims(secret: str) -> str:
    try:
        payload = unverified_payload(secret)
    except Rejection:
        return "payload unreadable"
    try:
        from rest_framework_simplejwt.settings import api_settings

        names = [api_settings.TOKEN_TYPE_CLAIM, api_settings.USER_ID_CLAIM]
    except ImportError:
        names = ["token_type", "user_id"]
    shown = [f"{name}={_claim(payload[name])}" for name in names if name and name in payload]
    exp = payload.get("exp")
    if isinstance(exp, int | float) and not isinstance(exp, bool):
        try:
            moment = datetime.fromtimestamp(exp, UTC)
        except (OverflowError, OSError, ValueError):
            shown.append("exp out of range")
        else:
            state = "expired" if moment <= datetime.now(UTC) else "valid until"
            shown.append(f"exp {state} {moment:%Y-%m-%d %H:%M:%S} UTC")
    return ", ".join(shown) or "no claims warden reads"


def _claim(value: object) -> str:
    if isinstance(value, bool | int | float) or value is None:
        return repr(value)[:40]
    return repr(str(value)[:40])


def masked(secret: str) -> str:
    """``[JWT, 171 characters: token_type='access', ...]`` or ``[40 characters]``; never the secret."""
    if JWT.fullmatch(secret):
        return f"[JWT, {len(secret)} characters: {_claims(secret)}]"
    return f"[{len(secret)} characters]"


def shown_subprotocol(entry: str) -> str:
    """A subprotocol entry: names (``warden``, ``chat.v1``) as they are, credentials masked."""
    if JWT.fullmatch(entry):
        return masked(entry)
    scheme, dot, rest = entry.partition(".")
    if dot and len(rest) > MAX_SHOWN_NAME:
        return f"{scheme[:MAX_SHOWN_NAME]}.{masked(rest)}"
    if len(entry) <= MAX_SHOWN_NAME and _NAME.fullmatch(entry):
        return entry
    return masked(entry)


def shown_query(query: bytes) -> str:
    """The query string with every value masked (names kept)."""
    pairs = []
    for pair in query.decode("latin-1").split("&"):
        if not pair:
            continue
        name, eq, value = pair.partition("=")
        shown = loggable_path(unquote_plus(name))[:40]
        pairs.append(f"{shown}={masked(unquote_plus(value))}" if eq else shown)
    return "&".join(pairs)


def shown_cookies(header: str) -> str:
    """Cookie names with their values masked."""
    pairs = []
    for pair in header.split(";"):
        name, eq, value = pair.strip().partition("=")
        if name:
            pairs.append(f"{loggable_path(name)[:40]}={masked(value)}" if eq else loggable_path(name)[:40])
    return "; ".join(pairs)


def shown_header(name: bytes, value: bytes, scope: Scope) -> str | None:
    """How one request header is shown; ``None`` for headers that do not matter to warden."""
    text = value.decode("latin-1")
    if name == b"origin" or name == b"host":
        return loggable_path(text)
    if name == b"cookie":
        return shown_cookies(text)
    if name == b"authorization":
        keyword, space, token = text.partition(" ")
        return f"{loggable_path(keyword)[:20]} {masked(token)}" if space else masked(text)
    if name == b"sec-websocket-protocol":
        return ", ".join(shown_subprotocol(entry.strip()) for entry in text.split(","))
    return None
