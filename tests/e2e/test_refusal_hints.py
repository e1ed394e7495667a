"""Refusals explain themselves in the real servers' logs (uvicorn and daphne), never with the secret.

Each test refuses one socket for a common mistake and reads the line warden wrote about it in the
server's log: the check that failed, the transport, the hint, and no trace of the credential. The
client still gets only the stable reason word.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from .helpers import assert_refused, create_user, mint, unique
from .lifecycle import Sockets, closure, jwt_for

pytestmark = pytest.mark.django_db(transaction=True)

LOG_TIMEOUT = 5.0


async def warden_line(server: Any, marker: str) -> str:
    """Warden's log line about the socket whose path holds ``marker`` (waits for it to be written)."""
    deadline = asyncio.get_running_loop().time() + LOG_TIMEOUT
    while True:
        lines = [line for line in server.log().splitlines() if marker in line and " websocket " in line]
        if lines:
            return lines[0]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no warden line with {marker} in the {server.kind} log")
        await asyncio.sleep(0.02)


async def test_raw_jwt_subprotocol_names_the_compatibility_transport(
    ws: Any, server: Any, make_user: Any
) -> None:
    """A JWT as the only subprotocol, compatibility off: 4401, and the log names the transport to enable."""
    user = await create_user(make_user)
    token = await mint(user, "jwt")
    marker = unique()
    outcome = await ws.handshake(f"/ws/room/{marker}/", subprotocols=[token])
    assert_refused(outcome, 4401)
    line = await warden_line(server, marker)
    assert (token in server.log(), token.split(".")[2] in server.log()) == (False, False)
    assert line.endswith(
        f"refused websocket /ws/room/{marker}/ from 127.0.0.1 via -: 4401 unauthenticated; check policy: no "
        "credentials on a route that requires them; hint: the client offered a JWT as its only subprotocol "
        "(new WebSocket(url, token)); warden ignores it unless "
        "channels_warden.transports.RawJWTSubprotocolTransport is in WARDEN['EXTRA_TRANSPORTS'], which "
        "echoes the token (system check W003), so a browser fails the socket (1006); better, offer "
        "['warden', 'bearer.<token>'] (docs/migration.md)"
    )


async def test_query_token_names_the_query_transport(ws: Any, server: Any, make_user: Any) -> None:
    """?token=<DRF key> with the query transport off: 4401, the hint names the parameter, not the key."""
    user = await create_user(make_user)
    key = await mint(user, "drf")
    marker = unique()
    outcome = await ws.handshake(f"/ws/room/{marker}/?token={key}")
    assert_refused(outcome, 4401)
    line = await warden_line(server, marker)
    assert (
        key in server.log(),
        "hint: the query string carries 'token', which no transport reads" in line,
    ) == (
        False,
        True,
    )


async def test_refresh_token_as_access_token(ws: Any, server: Any, make_user: Any) -> None:
    """A refresh token in the access token's place: the simplejwt check and the hint, no token."""
    user = await create_user(make_user)
    refresh = str(RefreshToken.for_user(user))
    marker = unique()
    outcome = await ws.handshake(f"/ws/room/{marker}/", subprotocols=["warden", f"bearer.{refresh}"])
    assert_refused(outcome, 4401)
    line = await warden_line(server, marker)
    assert refresh.split(".")[2] not in server.log()
    assert line.endswith(
        f"refused websocket /ws/room/{marker}/ from 127.0.0.1 via subprotocol: 4401 unauthenticated; check "
        "authenticator simplejwt: JWT refused by SimpleJWT: Token has wrong type; hint: the JWT is a refresh "
        "token (token_type 'refresh'); send the access token and keep the refresh token for your "
        "token-refresh endpoint"
    )


async def test_origin_names_the_origin_and_the_list(ws: Any, server: Any) -> None:
    """An Origin off the allow-list: 4403; the log names the Origin and ALLOWED_ORIGINS."""
    marker = unique()
    outcome = await ws.handshake(f"/ws/room/{marker}/", origin="http://localhost:5173")
    assert_refused(outcome, 4403)
    line = await warden_line(server, marker)
    assert line.endswith(
        "4403 forbidden; check origin: Origin http://localhost:5173 is not in ALLOWED_ORIGINS; hint: the "
        "Origin 'http://localhost:5173' is not in WARDEN['ALLOWED_ORIGINS'] = ['http://testserver', "
        "'http://localhost:3000']; add it (scheme://host[:port], exactly as the browser sends it) if that "
        "front end is yours"
    )


async def test_cookie_without_trusted_origin(ws: Any, server: Any, make_user: Any) -> None:
    """A token cookie with no Origin: 4403 from the cookie-origin check, naming the cookie transport."""
    user = await create_user(make_user)
    token = await mint(user, "jwt")
    marker = unique()
    outcome = await ws.handshake(
        f"/ws/room/{marker}/", origin=None, headers=[("Cookie", f"access_token={token}")]
    )
    assert_refused(outcome, 4403)
    line = await warden_line(server, marker)
    assert token.split(".")[2] not in server.log()
    assert (
        f"refused websocket /ws/room/{marker}/ from 127.0.0.1 via cookie: 4403 forbidden; check cookie "
        "origin: cookie credentials from an Origin that is not trusted; hint: a cookie credential came with "
        "no Origin header: browsers attach cookies"
    ) in line


async def test_unknown_path(ws: Any, server: Any, make_user: Any) -> None:
    """A path no route matches (no trailing slash): 4404 with the route check and the trailing-slash hint."""
    user = await create_user(make_user)
    key = await mint(user, "drf")
    marker = unique()
    outcome = await ws.handshake(f"/ws/{marker}", headers=[("Authorization", f"Token {key}")])
    assert (outcome.frame or {}).get("code") == 4404
    line = await warden_line(server, marker)
    assert line.endswith(
        f"refused websocket /ws/{marker} from 127.0.0.1 via header: 4404 not_found; check route: no route "
        "below warden matches the path; hint: no route matches; the path has no trailing slash, and "
        "URLRouter does not redirect like APPEND_SLASH: check the client's URL against websocket_urlpatterns "
        "(warden_explain lists them)"
    )


async def test_a_live_expiry_is_logged_as_closed_not_refused(server: Any, make_user: Any) -> None:
    """A socket closed at its JWT's exp (4498) is a 'closed websocket' line, never 'refused websocket'."""
    jwt = await jwt_for(await create_user(make_user), lifetime=2)
    marker = unique()
    lives = Sockets()
    try:
        socket = await lives.jwt(server, f"/ws/room/{marker}/", jwt.token)
        end = await closure(socket, timeout=4)
    finally:
        await lives.close_all()
    line = await warden_line(server, marker)
    assert end.code == 4498
    assert f"refused websocket /ws/room/{marker}/" not in server.log()
    assert line.endswith(
        f"closed websocket /ws/room/{marker}/ from 127.0.0.1 via subprotocol: 4498 token_expired; check "
        "expiry: credential expired"
    )
