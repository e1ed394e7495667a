"""Credentials never reach the application's scope nor the server's log.

The consumer's ``whoami`` reports the scope it was given; for every transport the credential must be
gone from it while everything else the client sent stays. uvicorn logs every handshake's URL, query
string included; the app config puts ``RedactCredentialsFilter`` on its loggers. daphne logs the
path only.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from django.conf import settings

from .helpers import assert_refused, create_user, mint, unique

pytestmark = pytest.mark.django_db(transaction=True)

LOG_TIMEOUT = 5.0


def assert_nowhere(secret: str, whoami: dict[str, Any] | None) -> None:
    """The application saw the handshake, and the secret appears nowhere in what it saw."""
    assert whoami is not None
    assert secret not in json.dumps(whoami)


async def handshake_log_line(server: Any, marker: str) -> str:
    """The server's log line for the handshake whose path contains ``marker`` (waits for it to be written)."""
    tag = '"WebSocket ' if server.kind == "uvicorn" else '"WSCONNECT '
    deadline = asyncio.get_running_loop().time() + LOG_TIMEOUT
    while True:
        lines = [line for line in server.log().splitlines() if marker in line and tag in line]
        if lines:
            return lines[0]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no {tag} line with {marker} in the {server.kind} log")
        await asyncio.sleep(0.02)


# The application's scope ----------------------------------------------------------------------------


async def test_authorization_header_is_removed_other_headers_stay(ws: Any, make_user: Any) -> None:
    """The app sees no Authorization header, but keeps the client's other headers."""
    user = await create_user(make_user)
    token = await mint(user, "jwt")
    outcome = await ws.handshake(
        "/ws/echo/", headers=[("Authorization", f"Bearer {token}"), ("X-Client", "e2e")]
    )
    assert_nowhere(token, outcome.whoami)
    assert "authorization" not in outcome.whoami["headers"]
    assert outcome.whoami["headers"]["x-client"] == "e2e"


async def test_subprotocol_credential_is_removed_app_protocol_stays(ws: Any, make_user: Any) -> None:
    """The app sees neither ``warden`` nor ``bearer.<jwt>`` nor the raw header, only its own ``chat.v1``."""
    user = await create_user(make_user)
    token = await mint(user, "jwt")
    outcome = await ws.handshake("/ws/echo/", subprotocols=["warden", f"bearer.{token}", "chat.v1"])
    assert outcome.subprotocol == "warden"
    assert_nowhere(token, outcome.whoami)
    assert outcome.whoami["subprotocols"] == ["chat.v1"]
    assert "sec-websocket-protocol" not in outcome.whoami["headers"]


async def test_query_token_is_removed_other_parameters_stay(ws: Any, make_user: Any) -> None:
    """Under ``/query/`` the app's query string loses ``token`` and keeps the rest, in order."""
    user = await create_user(make_user)
    token = await mint(user, "jwt")
    outcome = await ws.handshake(f"/query/ws/echo/?room=lobby&token={token}&page=2")
    assert_nowhere(token, outcome.whoami)
    assert outcome.whoami["query_string"] == "room=lobby&page=2"


async def test_access_token_cookie_is_removed_other_cookies_stay(ws: Any, make_user: Any) -> None:
    """The ``access_token`` cookie is gone from the Cookie header and ``scope["cookies"]``; others stay."""
    user = await create_user(make_user)
    token = await mint(user, "jwt")
    outcome = await ws.handshake(
        "/ws/echo/", headers=[("Cookie", f"theme=dark; access_token={token}; lang=en")]
    )
    assert_nowhere(token, outcome.whoami)
    assert outcome.whoami["cookies"] == ["lang", "theme"]
    assert outcome.whoami["headers"]["cookie"] == "theme=dark; lang=en"


async def test_session_cookie_is_kept_for_the_application(ws: Any, make_user: Any) -> None:
    """The session cookie stays: ``scope["session"]`` and ``channels.auth.login`` rely on it."""
    user = await create_user(make_user)
    key = await mint(user, "session")
    cookie = f"{settings.SESSION_COOKIE_NAME}={key}"
    outcome = await ws.handshake("/ws/echo/", headers=[("Cookie", cookie)])
    assert outcome.whoami is not None
    assert outcome.whoami["cookies"] == [settings.SESSION_COOKIE_NAME]
    assert outcome.whoami["headers"]["cookie"] == cookie


async def test_raw_jwt_subprotocol_is_removed_under_compat_prefix(ws: Any, make_user: Any) -> None:
    """Under ``/compat/`` the JWT is echoed to the client (the mode's cost) but hidden from the app."""
    user = await create_user(make_user)
    token = await mint(user, "jwt")
    outcome = await ws.handshake("/compat/ws/echo/", subprotocols=[token])
    assert outcome.subprotocol == token
    assert_nowhere(token, outcome.whoami)
    assert outcome.whoami["subprotocols"] == []


async def test_scope_auth_carries_no_secret(ws: Any, make_user: Any) -> None:
    """``scope["auth"]`` names the token by a digest, never by the DRF key itself."""
    user = await create_user(make_user)
    key = await mint(user, "drf")
    outcome = await ws.handshake("/ws/echo/", headers=[("Authorization", f"Token {key}")])
    assert_nowhere(key, outcome.whoami)
    assert outcome.whoami["token_id"].startswith("drf:")


# The server's log ------------------------------------------------------------------------------------


async def test_query_token_is_redacted_from_the_server_log(ws: Any, make_user: Any) -> None:
    """After a ``/query/`` handshake the token is not in the log; uvicorn logs ``token=[redacted]``."""
    user = await create_user(make_user)
    token = await mint(user, "jwt")
    marker = unique()
    outcome = await ws.handshake(f"/query/ws/room/{marker}/?token={token}&room=lobby")
    assert outcome.whoami is not None
    line = await handshake_log_line(ws.server, marker)
    if ws.server.kind == "uvicorn":
        assert f'"WebSocket /query/ws/room/{marker}/?token=[redacted]&room=lobby" [accepted]' in line
    else:
        assert f'"WSCONNECT /query/ws/room/{marker}/"' in line
    assert token not in ws.server.log()


async def test_refused_query_token_is_redacted_from_the_server_log(ws: Any) -> None:
    """A refused query token is not logged either, by the server or by warden's refusal line."""
    secret = unique() + unique()
    marker = unique()
    outcome = await ws.handshake(f"/query/ws/room/{marker}/?token={secret}")
    assert_refused(outcome, 4401)
    await handshake_log_line(ws.server, marker)
    log = ws.server.log()
    assert f"refused websocket /query/ws/room/{marker}/ from 127.0.0.1" in log
    assert secret not in log


async def test_token_parameter_is_redacted_where_it_is_no_credential(ws: Any, make_user: Any) -> None:
    """At the default prefix ``?token=`` is not read by warden, yet the log filter still masks it."""
    user = await create_user(make_user)
    token = await mint(user, "jwt")
    marker = unique()
    outcome = await ws.handshake(f"/ws/room/{marker}/?token={token}")
    assert_refused(outcome, 4401)
    await handshake_log_line(ws.server, marker)
    assert token not in ws.server.log()
