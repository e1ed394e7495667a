"""Every refusal on a GraphQL socket is a close code the protocol's clients act on, and no warden frame.

``gql_socket`` asserts, for every socket of every test here, that no ``warden.*`` frame arrived.
The codes are written out from the table in docs/graphql.md, not computed from the library.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from ..conftest import LiveServer, start_server
from ..helpers import access_claims, crafted_jwt, create_user, mint, now, unique
from ..lifecycle import ORIGIN, jwt_for, login, session_cookie
from .gql import LEGACY_WS, gql_socket, refused

pytestmark = pytest.mark.django_db(transaction=True)


def said(server: Any, reason: str) -> str:
    """The close reason a client reads: daphne sends none, uvicorn warden's word."""
    return "" if server.kind == "daphne" else reason


async def test_no_credential_closes_4401(server: Any) -> None:
    """An empty ``connection_init`` on a route that requires a user: 4401, which graphql-ws does not retry."""
    end, _ = await refused(server, "/ws/graphql/")
    assert (end.code, end.reason) == (4401, said(server, "unauthenticated"))


async def test_forged_jwt_closes_4401_and_is_not_logged(server: Any, make_user: Any) -> None:
    """A JWT signed with another key: 4401; the token is not in the server log."""
    token = crafted_jwt(access_claims(await create_user(make_user)), key=unique())
    end, _ = await refused(server, "/ws/graphql/", {"Authorization": f"Bearer {token}"})
    assert (end.code, end.reason) == (4401, said(server, "unauthenticated"))
    assert token not in server.log()


async def test_expired_jwt_closes_4498_so_the_client_retries(server: Any, make_user: Any) -> None:
    """A JWT already expired in ``connection_init``: 4498, which graphql-ws retries with fresh params."""
    claims = {**access_claims(await create_user(make_user)), "exp": now() - 60}
    end, _ = await refused(server, "/ws/graphql/", {"Authorization": f"Bearer {crafted_jwt(claims)}"})
    assert (end.code, end.reason) == (4498, said(server, "token_expired"))


async def test_deleted_drf_token_closes_4401(server: Any, make_user: Any) -> None:
    """A DRF key that names no token: 4401."""
    await create_user(make_user)
    end, _ = await refused(server, "/ws/graphql/", {"Authorization": f"Token {unique()}"})
    assert (end.code, end.reason) == (4401, said(server, "unauthenticated"))


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"Authorization": "Basic dXNlcjpwdw=="}, id="unknown-keyword"),
        pytest.param({"Authorization": "Bearer a b"}, id="space-in-token"),
        pytest.param({"Authorization": 42}, id="not-a-string"),
        pytest.param({"Authorization": "Bearer " + "a" * 9000}, id="over-8-kib"),
        pytest.param({"Authorization": "Bearer abc", "token": "abc"}, id="two-keys"),
        pytest.param("not an object", id="payload-not-an-object"),
    ],
)
async def test_malformed_credential_closes_4400(server: Any, payload: Any) -> None:
    """A credential that is not one (keyword, characters, type, size, count): 4400, final."""
    async with gql_socket(server, "/ws/graphql/") as gql:
        await gql.send({"type": "connection_init", "payload": payload})
        end = await gql.closed()
    assert (end.code, end.reason) == (4400, said(server, "bad_request"))


@pytest.mark.parametrize(
    ("first", "code"),
    [
        pytest.param('{"id": "1", "type": "subscribe", "payload": {"query": "{ whoami { user } }"}}', 4401),
        pytest.param("not json", 4400),
        pytest.param("[" * 50000, 4400, id="deep-nesting"),
        pytest.param(b"\x00binary", 4400),
        pytest.param(json.dumps({"type": "connection_init", "payload": {"x": "y" * 70000}}), 4400, id="64k"),
    ],
)
async def test_first_frame_other_than_connection_init_is_refused(server: Any, first: Any, code: int) -> None:
    """Nothing may precede ``connection_init``: a subscribe is 4401, anything unreadable 4400."""
    async with gql_socket(server, "/ws/graphql/") as gql:
        await gql.send(first) if isinstance(first, str) else await gql.socket.send(first)
        end = await gql.closed()
    assert end.code == code


async def test_staff_route_closes_4403_for_a_user(server: Any, make_user: Any) -> None:
    """An authenticated user a route's permission refuses: 4403 (graphql-ws retries it: see the docs)."""
    jwt = await jwt_for(await create_user(make_user))
    end, _ = await refused(server, "/ws/graphql/staff/", {"Authorization": f"Bearer {jwt.token}"})
    assert (end.code, end.reason) == (4403, said(server, "forbidden"))


async def test_inactive_users_token_closes_4403(server: Any, make_user: Any) -> None:
    """A valid DRF key of a deactivated user: 4403 (the DRF authenticator's PermissionDenied)."""
    key = await mint(await create_user(make_user, is_active=False), "drf")
    end, _ = await refused(server, "/ws/graphql/", {"Authorization": f"Token {key}"})
    assert (end.code, end.reason) == (4403, said(server, "forbidden"))


async def test_no_connection_init_in_time_closes_4408(server: Any) -> None:
    """A client that never sends ``connection_init`` is closed with 4408 after AUTH_TIMEOUT (1 s here)."""
    async with gql_socket(server, "/live/ws/graphql/") as gql:
        end = await gql.closed(timeout=5)
    assert (end.code, end.reason) == (4408, said(server, "auth_timeout"))


async def test_second_connection_init_closes_4429(server: Any, make_user: Any) -> None:
    """A second ``connection_init`` reaches Strawberry, which closes with the protocol's 4429."""
    jwt = await jwt_for(await create_user(make_user))
    async with gql_socket(server, "/ws/graphql/") as gql:
        await gql.init({"authToken": jwt.token})
        await gql.send({"type": "connection_init", "payload": {"authToken": jwt.token}})
        end = await gql.closed()
    assert end.code == 4429


async def test_cookie_and_params_of_different_users_close_4400(server: Any, make_user: Any) -> None:
    """A session cookie of alice and a JWT of bob in ``connectionParams``: conflicting, 4400."""
    await create_user(make_user)
    key = await login(server)
    bob = await jwt_for(await create_user(make_user, "bob"))
    async with gql_socket(server, "/ws/graphql/", origin=ORIGIN, headers=[session_cookie(key)]) as gql:
        answer = await gql.init({"Authorization": f"Bearer {bob.token}"})
        end = await gql.closed()
    assert (answer, end.code, end.reason) == (None, 4400, said(server, "bad_request"))


async def test_cookie_from_an_untrusted_origin_closes_4403(server: Any, make_user: Any) -> None:
    """A session cookie sent from an Origin warden does not trust: 4403 before any frame is read."""
    await create_user(make_user)
    key = await login(server)
    origin = "https://evil.example"
    async with gql_socket(server, "/ws/graphql/", origin=origin, headers=[session_cookie(key)]) as gql:
        end = await gql.closed()
    assert (end.code, end.reason) == (4403, said(server, "forbidden"))


async def test_legacy_refusal_sends_connection_error_then_closes(server: Any) -> None:
    """Legacy ``graphql-ws``: a ``connection_error`` (the only thing that client reports), then 4401."""
    async with gql_socket(server, "/ws/graphql/", subprotocols=[LEGACY_WS]) as gql:
        answer = await gql.init({"authToken": unique()}, legacy=True)
        end = await gql.closed()
    assert answer == {"type": "connection_error", "payload": {"message": "unauthenticated", "code": 4401}}
    assert end.code == 4401


# Fail closed -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def broken_db_server(server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server of the same kind as ``server`` whose database cannot be opened."""
    directory = tmp_path_factory.mktemp(f"graphql-broken-db-{server.kind}")
    unopenable = directory / "no-such-directory" / "db.sqlite3"
    live = start_server(server.kind, directory / "server.log", env={"WARDEN_TEST_DB": str(unopenable)})
    yield live
    live.stop()


async def test_database_failure_closes_4500(broken_db_server: LiveServer, make_user: Any) -> None:
    """A DRF key whose check needs the (dead) database: 4500, which graphql-ws does not retry."""
    key = await mint(await create_user(make_user), "drf")
    end, _ = await refused(broken_db_server, "/ws/graphql/", {"Authorization": f"Token {key}"})
    assert (end.code, end.reason) == (4500, said(broken_db_server, "internal"))


async def test_server_survives_a_refusal_storm(server: Any, make_user: Any) -> None:
    """Twenty refused sockets in a row leave the server admitting the next one."""
    for _ in range(20):
        end, _ = await refused(server, "/ws/graphql/", {"authToken": unique()})
        assert end.code == 4401
    jwt = await jwt_for(await create_user(make_user))
    async with gql_socket(server, "/ws/graphql/") as gql:
        assert await gql.init({"authToken": jwt.token}) == {"type": "connection_ack"}


async def test_deny_mode_still_closes_with_a_code(server: Any) -> None:
    """Deny mode does not apply: a GraphQL client gets 4401, never an HTTP 401 (which it reads as 1006)."""
    end, gql = await refused(server, "/deny/ws/graphql/")
    assert (gql.subprotocol, end.code) == ("graphql-transport-ws", 4401)


async def test_connection_limit_closes_4429(server: Any, make_user: Any) -> None:
    """A third socket over ``CONNECTION_LIMIT`` (2, reject_newest): 4429, which graphql-ws does not retry."""
    jwt = await jwt_for(await create_user(make_user))
    params = {"authToken": jwt.token}
    async with (
        gql_socket(server, "/limit/ws/graphql/") as first,
        gql_socket(server, "/limit/ws/graphql/") as second,
    ):
        assert await first.init(params) == {"type": "connection_ack"}
        assert await second.init(params) == {"type": "connection_ack"}
        end, _ = await refused(server, "/limit/ws/graphql/", params)
    assert (end.code, end.reason) == (4429, said(server, "too_many"))
