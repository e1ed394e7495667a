"""Strawberry's own consumer behind warden, through uvicorn and daphne: every way in.

Credentials arrive in the ``connection_init`` payload (JWT, DRF token) or in the handshake (session
cookie, ticket); the application sees the identity in its scope and never the credential.
"""

from __future__ import annotations

from typing import Any

import pytest

from ..helpers import create_user, mint
from ..lifecycle import ORIGIN, jwt_for, login, post, session_cookie
from .gql import LEGACY_WS, TRANSPORT_WS, gql_socket

pytestmark = pytest.mark.django_db(transaction=True)


async def test_jwt_in_connection_params_admits_and_is_removed(server: Any, make_user: Any) -> None:
    """A JWT in ``connectionParams.Authorization`` admits; the app sees alice and only the other keys."""
    jwt = await jwt_for(await create_user(make_user))
    async with gql_socket(server, "/ws/graphql/") as gql:
        ack = await gql.init({"Authorization": f"Bearer {jwt.token}", "locale": "fr"})
        me = await gql.whoami()
    assert (gql.subprotocol, ack) == (TRANSPORT_WS, {"type": "connection_ack"})
    assert me == {
        "user": "alice",
        "authenticator": "simplejwt",
        "transport": "connection_init",
        "expiresAt": float(jwt.exp),
        "params": ["locale"],
        "subprotocols": [TRANSPORT_WS],
    }


async def test_bare_token_key_is_a_bearer_jwt(server: Any, make_user: Any) -> None:
    """``connectionParams.authToken`` holding a bare JWT is read as a bearer credential."""
    jwt = await jwt_for(await create_user(make_user))
    async with gql_socket(server, "/ws/graphql/") as gql:
        await gql.init({"authToken": jwt.token})
        me = await gql.whoami()
    assert (me["user"], me["authenticator"], me["params"]) == ("alice", "simplejwt", [])


async def test_drf_token_in_connection_params_admits(server: Any, make_user: Any) -> None:
    """``connectionParams.Authorization = "Token <key>"`` is judged by the DRF token authenticator."""
    key = await mint(await create_user(make_user), "drf")
    async with gql_socket(server, "/ws/graphql/") as gql:
        await gql.init({"Authorization": f"Token {key}"})
        me = await gql.whoami()
    assert (me["user"], me["authenticator"], me["transport"]) == ("alice", "drf_token", "connection_init")


async def test_session_cookie_in_the_handshake_admits(server: Any, make_user: Any) -> None:
    """A browser's session cookie (trusted Origin) admits with an empty ``connection_init``."""
    await create_user(make_user)
    key = await login(server)
    async with gql_socket(server, "/ws/graphql/", origin=ORIGIN, headers=[session_cookie(key)]) as gql:
        ack = await gql.init()
        me = await gql.whoami()
    assert ack == {"type": "connection_ack"}
    assert (me["user"], me["authenticator"], me["transport"]) == ("alice", "session", "session")


async def test_ticket_in_the_url_admits(server: Any, make_user: Any) -> None:
    """A one-time ticket from ``POST /api/ticket/`` admits on the ``live`` profile's GraphQL route."""
    key = await mint(await create_user(make_user), "drf")
    reply = await post(server, "/api/ticket/", headers={"Authorization": f"Token {key}", "Origin": ORIGIN})
    ticket = reply.body["ticket"]
    async with gql_socket(server, f"/live/ws/graphql/?ticket={ticket}", origin=ORIGIN) as gql:
        await gql.init()
        me = await gql.whoami()
    assert (me["user"], me["authenticator"], me["transport"]) == ("alice", "ticket", "ticket")
    assert ticket not in server.log()


async def test_cookie_and_same_users_params_admit_with_the_explicit_one(server: Any, make_user: Any) -> None:
    """A session cookie next to the same user's JWT in ``connectionParams``: the JWT is the identity."""
    user = await create_user(make_user)
    key = await login(server)
    jwt = await jwt_for(user)
    async with gql_socket(server, "/ws/graphql/", origin=ORIGIN, headers=[session_cookie(key)]) as gql:
        await gql.init({"Authorization": f"Bearer {jwt.token}"})
        me = await gql.whoami()
    assert (me["user"], me["authenticator"]) == ("alice", "simplejwt")


async def test_anonymous_route_admits_without_credentials(server: Any) -> None:
    """A route guarded with ``allow_anonymous=True`` acks an empty ``connection_init``."""
    async with gql_socket(server, "/ws/graphql/public/") as gql:
        ack = await gql.init()
        me = await gql.whoami()
    assert (ack, me["user"], me["transport"]) == ({"type": "connection_ack"}, "anonymous", None)


async def test_legacy_protocol_admits_a_jwt(server: Any, make_user: Any) -> None:
    """The legacy ``graphql-ws`` protocol reads the same ``connection_init`` payload."""
    jwt = await jwt_for(await create_user(make_user))
    async with gql_socket(server, "/ws/graphql/", subprotocols=[LEGACY_WS]) as gql:
        ack = await gql.init({"authToken": jwt.token, "locale": "fr"}, legacy=True)
        me = await gql.whoami(legacy=True)
    assert (gql.subprotocol, ack) == (LEGACY_WS, {"type": "connection_ack"})
    assert (me["user"], me["transport"], me["params"]) == ("alice", "connection_init", ["locale"])


async def test_first_message_route_reads_connection_init_instead(server: Any, make_user: Any) -> None:
    """On a ``first_message=True`` route the GraphQL socket is not asked for ``warden.auth``."""
    jwt = await jwt_for(await create_user(make_user))
    async with gql_socket(server, "/ws/graphql/first/") as gql:
        ack = await gql.init({"authToken": jwt.token})
        me = await gql.whoami()
    assert (ack, me["user"], me["transport"]) == ({"type": "connection_ack"}, "alice", "connection_init")
