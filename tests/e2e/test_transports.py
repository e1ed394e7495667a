"""Every transport admits a valid credential through a real server, each only where it is enabled."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.conf import settings

from .helpers import assert_refused, create_user, mint

pytestmark = pytest.mark.django_db(transaction=True)


async def test_session_cookie_is_admitted(ws: Any, make_user: Any) -> None:
    """Django's session cookie opens the socket as the session's user."""
    user = await create_user(make_user)
    key = await mint(user, "session")
    outcome = await ws.handshake("/ws/echo/", headers=[("Cookie", f"{settings.SESSION_COOKIE_NAME}={key}")])
    assert outcome.whoami is not None
    assert (outcome.whoami["user"], outcome.whoami["authenticator"], outcome.whoami["transport"]) == (
        "alice",
        "session",
        "session",
    )


async def test_bearer_jwt_in_authorization_header_is_admitted(ws: Any, make_user: Any) -> None:
    """``Authorization: Bearer <SimpleJWT access token>`` opens the socket as the token's user."""
    user = await create_user(make_user)
    token = await mint(user, "jwt")
    outcome = await ws.handshake("/ws/echo/", headers=[("Authorization", f"Bearer {token}")])
    assert outcome.whoami is not None
    assert (outcome.whoami["user"], outcome.whoami["authenticator"], outcome.whoami["transport"]) == (
        "alice",
        "simplejwt",
        "header",
    )


@pytest.mark.parametrize("keyword", ["bearer", "BEARER", "bEaReR"])
async def test_bearer_keyword_is_case_insensitive(ws: Any, make_user: Any, keyword: str) -> None:
    """The ``Bearer`` keyword matches in any case."""
    user = await create_user(make_user)
    token = await mint(user, "jwt")
    outcome = await ws.handshake("/ws/echo/", headers=[("Authorization", f"{keyword} {token}")])
    assert outcome.whoami is not None
    assert (outcome.whoami["user"], outcome.whoami["authenticator"]) == ("alice", "simplejwt")


@pytest.mark.parametrize("keyword", ["Token", "token", "TOKEN"])
async def test_drf_token_keyword_is_case_insensitive(ws: Any, make_user: Any, keyword: str) -> None:
    """``Authorization: Token <DRF key>`` opens the socket, the keyword in any case."""
    user = await create_user(make_user)
    key = await mint(user, "drf")
    outcome = await ws.handshake("/ws/echo/", headers=[("Authorization", f"{keyword} {key}")])
    assert outcome.whoami is not None
    assert (outcome.whoami["user"], outcome.whoami["authenticator"], outcome.whoami["transport"]) == (
        "alice",
        "drf_token",
        "header",
    )


async def test_access_token_cookie_is_admitted(ws: Any, make_user: Any) -> None:
    """A JWT in the ``access_token`` cookie opens the socket as its user."""
    user = await create_user(make_user)
    token = await mint(user, "jwt")
    outcome = await ws.handshake("/ws/echo/", headers=[("Cookie", f"access_token={token}")])
    assert outcome.whoami is not None
    assert (outcome.whoami["user"], outcome.whoami["authenticator"], outcome.whoami["transport"]) == (
        "alice",
        "simplejwt",
        "cookie",
    )


async def test_subprotocol_jwt_is_admitted_and_only_the_marker_is_echoed(ws: Any, make_user: Any) -> None:
    """``["warden", "bearer.<jwt>"]`` opens the socket; the server selects ``warden``, never the token."""
    user = await create_user(make_user)
    token = await mint(user, "jwt")
    outcome = await ws.handshake("/ws/echo/", subprotocols=["warden", f"bearer.{token}"])
    assert outcome.subprotocol == "warden"
    assert outcome.whoami is not None
    assert (outcome.whoami["user"], outcome.whoami["authenticator"], outcome.whoami["transport"]) == (
        "alice",
        "simplejwt",
        "subprotocol",
    )


async def test_subprotocol_drf_token_is_admitted(ws: Any, make_user: Any) -> None:
    """``["warden", "token.<DRF key>"]`` opens the socket as the key's user."""
    user = await create_user(make_user)
    key = await mint(user, "drf")
    outcome = await ws.handshake("/ws/echo/", subprotocols=["warden", f"token.{key}"])
    assert outcome.subprotocol == "warden"
    assert outcome.whoami is not None
    assert (outcome.whoami["user"], outcome.whoami["authenticator"]) == ("alice", "drf_token")


async def test_query_string_token_is_admitted_under_query_prefix(ws: Any, make_user: Any) -> None:
    """Under ``/query/`` (query transport enabled) ``?token=<jwt>`` opens the socket."""
    user = await create_user(make_user)
    token = await mint(user, "jwt")
    outcome = await ws.handshake(f"/query/ws/echo/?token={token}")
    assert outcome.whoami is not None
    assert (outcome.whoami["user"], outcome.whoami["authenticator"], outcome.whoami["transport"]) == (
        "alice",
        "simplejwt",
        "query",
    )


async def test_query_string_token_is_ignored_by_default(ws: Any, make_user: Any) -> None:
    """At the default prefix ``?token=`` is not a transport: the client sent no credentials (4401)."""
    user = await create_user(make_user)
    token = await mint(user, "jwt")
    outcome = await ws.handshake(f"/ws/echo/?token={token}")
    assert_refused(outcome, 4401)


async def test_raw_jwt_subprotocol_is_admitted_and_echoed_under_compat_prefix(
    ws: Any, make_user: Any
) -> None:
    """Under ``/compat/`` a bare JWT as the only subprotocol opens the socket, and the JWT is echoed."""
    user = await create_user(make_user)
    token = await mint(user, "jwt")
    outcome = await ws.handshake("/compat/ws/echo/", subprotocols=[token])
    assert outcome.subprotocol == token
    assert outcome.whoami is not None
    assert (outcome.whoami["user"], outcome.whoami["transport"]) == ("alice", "subprotocol_jwt")


async def test_raw_jwt_subprotocol_is_ignored_by_default(ws: Any, make_user: Any) -> None:
    """At the default prefix a bare JWT subprotocol is not a credential: no echo, 4401."""
    user = await create_user(make_user)
    token = await mint(user, "jwt")
    outcome = await ws.handshake("/ws/echo/", subprotocols=[token])
    assert outcome.subprotocol is None
    assert_refused(outcome, 4401)


async def test_knox_token_is_admitted_under_knox_prefix(ws: Any, make_user: Any) -> None:
    """Under ``/knox/`` ``Authorization: Token <knox token>`` opens the socket, validated by knox."""
    user = await create_user(make_user)
    token = await mint(user, "knox")
    outcome = await ws.handshake("/knox/ws/echo/", headers=[("Authorization", f"Token {token}")])
    assert outcome.whoami is not None
    assert (outcome.whoami["user"], outcome.whoami["authenticator"], outcome.whoami["transport"]) == (
        "alice",
        "knox",
        "header",
    )


async def test_knox_token_is_unknown_at_default_prefix(ws: Any, make_user: Any) -> None:
    """At the default prefix a knox token is judged as a DRF key, which it is not (4401)."""
    user = await create_user(make_user)
    token = await mint(user, "knox")
    outcome = await ws.handshake("/ws/echo/", headers=[("Authorization", f"Token {token}")])
    assert_refused(outcome, 4401)


async def test_stateless_jwt_is_admitted_under_stateless_prefix(ws: Any, make_user: Any) -> None:
    """Under ``/stateless/`` a JWT opens the socket as SimpleJWT's TokenUser, named by its user id."""
    user = await create_user(make_user)
    token = await mint(user, "jwt")
    outcome = await ws.handshake("/stateless/ws/echo/", headers=[("Authorization", f"Bearer {token}")])
    assert outcome.whoami is not None
    assert outcome.whoami["user"] == str(user.pk)
    assert (outcome.whoami["is_authenticated"], outcome.whoami["authenticator"]) == (True, "simplejwt")


async def test_stateless_mode_admits_a_deleted_users_token(ws: Any, make_user: Any) -> None:
    """Stateless mode makes no query, so a token outlives its user until ``exp`` (documented trade-off)."""
    user = await create_user(make_user)
    token = await mint(user, "jwt")
    user_id = user.pk
    await database_sync_to_async(user.delete)()
    outcome = await ws.handshake("/stateless/ws/echo/", headers=[("Authorization", f"Bearer {token}")])
    assert outcome.whoami is not None
    assert outcome.whoami["user"] == str(user_id)


async def test_database_mode_refuses_a_deleted_users_token(ws: Any, make_user: Any) -> None:
    """Database mode (the default) loads the user, so the same token of a deleted user gets 4401."""
    user = await create_user(make_user)
    token = await mint(user, "jwt")
    await database_sync_to_async(user.delete)()
    outcome = await ws.handshake("/ws/echo/", headers=[("Authorization", f"Bearer {token}")])
    assert_refused(outcome, 4401)
