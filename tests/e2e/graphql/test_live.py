"""A live GraphQL subscription behind warden: expiry closes with a code the client retries,
revocation with one it does not, and warden's own frames never appear.

Django events (logout, token deletion, deactivation) happen inside the server through the test
project's endpoints, because the in-memory channel layer only reaches the process that sends.
"""

from __future__ import annotations

from typing import Any

import pytest

from ..helpers import create_user, mint
from ..lifecycle import ORIGIN, jwt_for, login, post, session_cookie
from .gql import CLOCK, GqlSocket, gql_socket

pytestmark = pytest.mark.django_db(transaction=True)


async def streaming(gql: GqlSocket) -> dict[str, Any]:
    """Subscribe to ``clock`` and return its first tick."""
    await gql.subscribe(CLOCK)
    frame = await gql.next_frame()
    assert frame is not None
    assert frame["type"] == "next", frame
    tick: dict[str, Any] = frame["payload"]["data"]["clock"]
    return tick


async def test_expiry_closes_4498_within_a_second_of_exp(
    server: Any, make_user: Any, report_figure: Any
) -> None:
    """A JWT from ``connectionParams`` that ends mid-subscription: 4498 (retried), no warden.expiring."""
    jwt = await jwt_for(await create_user(make_user), lifetime=2)
    async with gql_socket(server, "/live/ws/graphql/") as gql:
        await gql.init({"Authorization": f"Bearer {jwt.token}"})
        tick = await streaming(gql)
        end = await gql.closed(timeout=5)
    report_figure(f"{server.kind}: GraphQL 4498 close {end.at - jwt.exp:+.3f}s after the JWT exp")
    assert (tick["user"], tick["expiresAt"]) == ("alice", float(jwt.exp))
    assert end.code == 4498
    assert jwt.exp <= end.at < jwt.exp + 1.5
    assert [frame["type"] for frame in gql.frames] == ["connection_ack"] + ["next"] * (len(gql.frames) - 1)


async def test_logout_closes_4401_not_4499(server: Any, make_user: Any) -> None:
    """Logging out the session a subscription runs on closes it with 4401, which graphql-ws does not retry."""
    await create_user(make_user)
    key = await login(server)
    async with gql_socket(server, "/ws/graphql/", origin=ORIGIN, headers=[session_cookie(key)]) as gql:
        await gql.init()
        await streaming(gql)
        reply = await post(server, "/logout/", cookies={"sessionid": key})
        end = await gql.closed()
    assert (reply.status, end.code) == (200, 4401)


async def test_deleted_drf_token_closes_4401(server: Any, make_user: Any) -> None:
    """Deleting the DRF token a subscription authenticated with closes it with 4401."""
    key = await mint(await create_user(make_user), "drf")
    async with gql_socket(server, "/ws/graphql/") as gql:
        await gql.init({"Authorization": f"Token {key}"})
        await streaming(gql)
        reply = await post(server, "/test/users/alice/delete-tokens/")
        end = await gql.closed()
    assert (reply.status, end.code) == (200, 4401)


async def test_deactivation_closes_a_jwt_subscription_4401(server: Any, make_user: Any) -> None:
    """Deactivating the user behind a JWT subscription closes it with 4401."""
    jwt = await jwt_for(await create_user(make_user))
    async with gql_socket(server, "/ws/graphql/") as gql:
        await gql.init({"authToken": jwt.token})
        await streaming(gql)
        reply = await post(server, "/test/users/alice/deactivate/")
        end = await gql.closed()
    assert (reply.status, end.code) == (200, 4401)


async def test_warden_refresh_frame_is_the_applications_unknown_message(server: Any, make_user: Any) -> None:
    """Warden does not intercept ``warden.*`` frames here: Strawberry closes with the protocol's 4400."""
    jwt = await jwt_for(await create_user(make_user))
    async with gql_socket(server, "/ws/graphql/") as gql:
        await gql.init({"authToken": jwt.token})
        await gql.send({"type": "warden.refresh", "token": jwt.token})
        end = await gql.closed()
    assert end.code == 4400
