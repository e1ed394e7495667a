"""How a refusal reaches the client: close mode (default) and deny mode (``/deny/``), per server.

Close mode accepts, sends the JSON frame, and closes with the code, so a browser can read both. The
close frame's reason is the code's word on uvicorn; daphne drops close reasons, which is why the
frame exists. Deny mode refuses the HTTP upgrade: uvicorn supports the ``websocket.http.response``
extension (status from the code, JSON body, ``WWW-Authenticate`` on 401); daphne does not, so every
denial there is its plain 403.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest
from channels.db import database_sync_to_async

from .helpers import access_claims, assert_refused, crafted_jwt, create_user, disconnect, mint, now

pytestmark = pytest.mark.django_db(transaction=True)

# RFC 6750 section 3.1: no error when no token was presented; invalid_token for a refused one;
# insufficient_scope (403) when a permission refused an authenticated user.
NO_TOKEN = 'Bearer realm="websocket"'
INVALID_TOKEN = 'Bearer realm="websocket", error="invalid_token"'
INSUFFICIENT_SCOPE = 'Bearer realm="websocket", error="insufficient_scope"'


def close_reason(ws: Any, reason: str) -> str:
    return reason if ws.server.kind == "uvicorn" else ""


def assert_denied(
    ws: Any, outcome: Any, code: int, reason: str | None = None, *, challenge: str | None = None
) -> None:
    """The upgrade was refused with the HTTP form of ``code`` (and ``challenge``) this server can send."""
    assert outcome.whoami is None
    assert outcome.frame is None
    if ws.server.kind == "daphne":
        assert (outcome.status, outcome.body, outcome.response_headers) == (403, b"", {})
        return
    status = {4400: 400, 4401: 401, 4403: 403}[code]
    assert outcome.status == status
    assert outcome.response_headers["content-type"] == "application/json"
    assert json.loads(outcome.body) == disconnect(code, reason)
    assert outcome.response_headers.get("www-authenticate") == challenge


# Close mode -----------------------------------------------------------------------------------------


async def test_close_mode_bad_request(ws: Any) -> None:
    """A malformed credential: the socket opens, the 4400 frame arrives, then close 4400."""
    outcome = await ws.handshake("/ws/echo/", headers=[("Authorization", "Basic abc")])
    assert outcome.status is None
    assert_refused(outcome, 4400)
    assert outcome.close_reason == close_reason(ws, "bad_request")


async def test_close_mode_unauthenticated(ws: Any) -> None:
    """No credentials: the socket opens, the 4401 frame arrives, then close 4401."""
    outcome = await ws.handshake("/ws/echo/")
    assert outcome.status is None
    assert_refused(outcome, 4401)
    assert outcome.close_reason == close_reason(ws, "unauthenticated")


async def test_close_mode_forbidden(ws: Any) -> None:
    """A foreign Origin: the socket opens, the 4403 frame arrives, then close 4403."""
    outcome = await ws.handshake("/ws/echo/", origin="https://evil.example")
    assert outcome.status is None
    assert_refused(outcome, 4403)
    assert outcome.close_reason == close_reason(ws, "forbidden")


async def test_close_mode_token_expired_reason(ws: Any, make_user: Any) -> None:
    """An expired JWT: frame reason ``token_expired`` under code 4401, and the same word in the close."""
    user = await create_user(make_user)
    claims = await database_sync_to_async(access_claims)(user)
    token = crafted_jwt({**claims, "iat": now() - 600, "exp": now() - 300})
    outcome = await ws.handshake("/ws/echo/", headers=[("Authorization", f"Bearer {token}")])
    assert_refused(outcome, 4401, "token_expired")
    assert outcome.close_reason == close_reason(ws, "token_expired")


async def test_close_mode_refusal_echoes_the_marker_subprotocol(ws: Any) -> None:
    """A refused subprotocol client still gets ``warden`` selected, so a browser stays for the frame."""
    outcome = await ws.handshake("/ws/echo/", subprotocols=["warden", "bearer.not-a-jwt"])
    assert outcome.subprotocol == "warden"
    assert_refused(outcome, 4401)


# Deny mode ------------------------------------------------------------------------------------------


async def test_deny_mode_without_credentials(ws: Any) -> None:
    """No credentials under ``/deny/``: uvicorn 401, a challenge without ``error``; daphne a plain 403."""
    assert_denied(ws, await ws.handshake("/deny/ws/echo/"), 4401, challenge=NO_TOKEN)


async def test_deny_mode_anonymous_on_a_permission_route(ws: Any) -> None:
    """No credentials on ``/deny/ws/staff/``: a permission needs a user, so 401 without ``error`` too."""
    assert_denied(ws, await ws.handshake("/deny/ws/staff/"), 4401, challenge=NO_TOKEN)


async def test_deny_mode_with_invalid_token(ws: Any) -> None:
    """An unknown DRF token under ``/deny/``: uvicorn 401 ``invalid_token``; daphne a plain 403."""
    outcome = await ws.handshake(
        "/deny/ws/echo/", headers=[("Authorization", f"Token {secrets.token_hex(20)}")]
    )
    assert_denied(ws, outcome, 4401, challenge=INVALID_TOKEN)


async def test_deny_mode_with_expired_token(ws: Any, make_user: Any) -> None:
    """An expired JWT under ``/deny/``: uvicorn 401 whose body says ``token_expired``; daphne a plain 403."""
    user = await create_user(make_user)
    claims = await database_sync_to_async(access_claims)(user)
    token = crafted_jwt({**claims, "iat": now() - 600, "exp": now() - 300})
    outcome = await ws.handshake("/deny/ws/echo/", headers=[("Authorization", f"Bearer {token}")])
    assert_denied(ws, outcome, 4401, "token_expired", challenge=INVALID_TOKEN)


async def test_deny_mode_with_malformed_credential(ws: Any) -> None:
    """A malformed Authorization header under ``/deny/``: uvicorn 400 without a challenge; daphne 403."""
    outcome = await ws.handshake("/deny/ws/echo/", headers=[("Authorization", "Basic abc")])
    assert_denied(ws, outcome, 4400)


async def test_deny_mode_with_foreign_origin(ws: Any) -> None:
    """A foreign Origin under ``/deny/``: uvicorn 403 with the JSON body; daphne a plain 403."""
    assert_denied(ws, await ws.handshake("/deny/ws/echo/", origin="https://evil.example"), 4403)


async def test_deny_mode_with_inactive_user(ws: Any, make_user: Any) -> None:
    """An inactive user's token under ``/deny/``: uvicorn 403; daphne a plain 403."""
    user = await create_user(make_user, is_active=False)
    token = await mint(user, "drf")
    outcome = await ws.handshake("/deny/ws/echo/", headers=[("Authorization", f"Token {token}")])
    assert_denied(ws, outcome, 4403)


async def test_deny_mode_route_permission_refusal(ws: Any, make_user: Any) -> None:
    """A non-staff user on ``/deny/ws/staff/``: 403 with RFC 6750's ``insufficient_scope`` challenge."""
    user = await create_user(make_user)
    token = await mint(user, "drf")
    outcome = await ws.handshake("/deny/ws/staff/", headers=[("Authorization", f"Token {token}")])
    assert_denied(ws, outcome, 4403, challenge=INSUFFICIENT_SCOPE)


async def test_deny_mode_admits_valid_credentials(ws: Any, make_user: Any) -> None:
    """Deny mode changes only refusals: a valid token under ``/deny/`` is admitted as usual."""
    user = await create_user(make_user)
    token = await mint(user, "jwt")
    outcome = await ws.handshake("/deny/ws/echo/", subprotocols=["warden", f"bearer.{token}"])
    assert outcome.subprotocol == "warden"
    assert outcome.whoami is not None
    assert outcome.whoami["user"] == "alice"
