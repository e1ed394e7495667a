"""The Origin check: cross-site WebSocket hijacking is refused with 4403, cookies need a trusted Origin.

``tests.settings`` allows ``http://testserver`` and ``http://localhost:3000`` and admits clients without
an Origin (non-browser clients) unless they bring cookies; ``/strict/`` refuses a missing Origin.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings

from .helpers import assert_refused, create_user, mint

pytestmark = pytest.mark.django_db(transaction=True)


async def session_cookie(make_user: Any) -> tuple[str, str]:
    user = await create_user(make_user)
    return ("Cookie", f"{settings.SESSION_COOKIE_NAME}={await mint(user, 'session')}")


async def drf_header(make_user: Any) -> tuple[str, str]:
    user = await create_user(make_user)
    return ("Authorization", f"Token {await mint(user, 'drf')}")


@pytest.mark.parametrize(
    "origin",
    [
        pytest.param("null", id="null"),
        pytest.param("https://evil.example", id="foreign"),
        pytest.param("http://testserver:8080", id="port-variant"),
        pytest.param("https://testserver", id="scheme-variant"),
        pytest.param("http://localhost:3001", id="port-variant-of-second-origin"),
        pytest.param("http://testserver.evil.example", id="suffix-variant"),
        pytest.param("http://testserver/path", id="with-path"),
    ],
)
async def test_untrusted_origin_with_session_cookie_is_forbidden(
    ws: Any, make_user: Any, origin: str
) -> None:
    """A session cookie from an Origin not on the allow-list gets 4403."""
    outcome = await ws.handshake("/ws/echo/", origin=origin, headers=[await session_cookie(make_user)])
    assert_refused(outcome, 4403)


@pytest.mark.parametrize("origin", ["null", "https://evil.example", "http://testserver:8080"])
async def test_untrusted_origin_with_header_token_is_forbidden(ws: Any, make_user: Any, origin: str) -> None:
    """An Origin not on the allow-list gets 4403 even with a valid explicit token."""
    outcome = await ws.handshake("/ws/echo/", origin=origin, headers=[await drf_header(make_user)])
    assert_refused(outcome, 4403)


async def test_untrusted_origin_without_credentials_is_forbidden(ws: Any) -> None:
    """The Origin is checked before credentials: a foreign page with none gets 4403, not 4401."""
    assert_refused(await ws.handshake("/ws/echo/", origin="https://evil.example"), 4403)


@pytest.mark.parametrize(
    "origin",
    [
        pytest.param("http://testserver", id="listed"),
        pytest.param("http://localhost:3000", id="second-listed"),
        pytest.param("http://testserver:80", id="explicit-default-port"),
        pytest.param("HTTP://TESTSERVER", id="upper-case"),
    ],
)
async def test_allowed_origin_with_session_cookie_is_admitted(ws: Any, make_user: Any, origin: str) -> None:
    """An allow-listed Origin (compared as scheme, host and port) may use cookie credentials."""
    outcome = await ws.handshake("/ws/echo/", origin=origin, headers=[await session_cookie(make_user)])
    assert outcome.whoami is not None
    assert outcome.whoami["user"] == "alice"


async def test_same_origin_as_host_is_trusted(ws: Any, make_user: Any) -> None:
    """An Origin equal to the Host the client connected to is trusted for cookies (ALLOW_SAME_ORIGIN)."""
    origin = f"http://127.0.0.1:{ws.server.port}"
    outcome = await ws.handshake("/ws/echo/", origin=origin, headers=[await session_cookie(make_user)])
    assert outcome.whoami is not None
    assert outcome.whoami["user"] == "alice"


async def test_missing_origin_with_session_cookie_is_forbidden(ws: Any, make_user: Any) -> None:
    """No Origin and a session cookie gets 4403: cookies prove nothing without a trusted Origin."""
    outcome = await ws.handshake("/ws/echo/", origin=None, headers=[await session_cookie(make_user)])
    assert_refused(outcome, 4403)


async def test_missing_origin_with_access_token_cookie_is_forbidden(ws: Any, make_user: Any) -> None:
    """No Origin and a JWT in the ``access_token`` cookie gets 4403 as well."""
    user = await create_user(make_user)
    token = await mint(user, "jwt")
    outcome = await ws.handshake("/ws/echo/", origin=None, headers=[("Cookie", f"access_token={token}")])
    assert_refused(outcome, 4403)


async def test_missing_origin_with_header_token_is_admitted(ws: Any, make_user: Any) -> None:
    """A non-browser client (no Origin) with an explicit token is admitted (ALLOW_MISSING_ORIGIN on)."""
    outcome = await ws.handshake("/ws/echo/", origin=None, headers=[await drf_header(make_user)])
    assert outcome.whoami is not None
    assert outcome.whoami["user"] == "alice"


async def test_missing_origin_without_credentials_is_unauthenticated(ws: Any) -> None:
    """No Origin and no credentials passes the Origin check and gets 4401 for the missing credentials."""
    assert_refused(await ws.handshake("/ws/echo/", origin=None), 4401)


async def test_strict_prefix_refuses_missing_origin_with_header_token(ws: Any, make_user: Any) -> None:
    """Under ``/strict/`` (ALLOW_MISSING_ORIGIN off) no Origin gets 4403, even with a valid token."""
    outcome = await ws.handshake("/strict/ws/echo/", origin=None, headers=[await drf_header(make_user)])
    assert_refused(outcome, 4403)


async def test_strict_prefix_refuses_missing_origin_without_credentials(ws: Any) -> None:
    """Under ``/strict/`` no Origin and no credentials gets 4403, the Origin being checked first."""
    assert_refused(await ws.handshake("/strict/ws/echo/", origin=None), 4403)


async def test_strict_prefix_admits_allowed_origin(ws: Any, make_user: Any) -> None:
    """Control: under ``/strict/`` an allow-listed Origin with a token is admitted."""
    outcome = await ws.handshake("/strict/ws/echo/", headers=[await drf_header(make_user)])
    assert outcome.whoami is not None
    assert outcome.whoami["user"] == "alice"
