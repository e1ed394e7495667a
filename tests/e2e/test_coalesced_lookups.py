"""A reconnect storm through a real server: coalesced lookups give every socket its own verdict.

Sixteen handshakes at once, mixing valid, unknown, inactive and deleted credentials, reach the
authenticators while lookups are in flight, so they are answered in shared batches
(:mod:`channels_warden.batching`). Each socket must still be admitted as its own user or refused
with its own code, and a database that fails under a batch must fail every member closed.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async

from .client import WsClient
from .conftest import LiveServer, start_server
from .helpers import assert_refused, mint

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def make_users(make_user: Any, count: int, prefix: str, **fields: Any) -> list[Any]:
    return [make_user(username=f"{prefix}{index}", **fields) for index in range(count)]


@database_sync_to_async
def delete(user: Any) -> None:
    user.delete()


async def storm(ws: WsClient, headers: list[list[tuple[str, str]]]) -> list[Any]:
    return list(await asyncio.gather(*(ws.handshake("/ws/echo/", headers=h) for h in headers)))


@pytest.mark.parametrize(("kind", "scheme"), [("drf", "Token"), ("jwt", "Bearer")])
async def test_a_storm_of_mixed_credentials_gets_one_verdict_each(
    ws: WsClient, make_user: Any, kind: Any, scheme: str
) -> None:
    """12 valid, 1 inactive, 1 deleted and 2 unknown credentials at once: each socket its own verdict."""
    valid = await make_users(make_user, 12, "storm")
    (inactive,) = await make_users(make_user, 1, "sleeper", is_active=False)
    (deleted,) = await make_users(make_user, 1, "ghost")
    secrets_by_user = [await mint(user, kind) for user in valid]
    inactive_secret = await mint(inactive, kind)
    deleted_secret = await mint(deleted, kind)
    await delete(deleted)
    unknown = [secrets.token_hex(20) for _ in range(2)] if kind == "drf" else ["x.y.z", "a.b.c"]
    order = [*secrets_by_user[:6], inactive_secret, unknown[0], *secrets_by_user[6:], deleted_secret]
    order.append(unknown[1])
    outcomes = await storm(ws, [[("Authorization", f"{scheme} {secret}")] for secret in order])
    admitted = [outcome.whoami["user"] for outcome in outcomes if outcome.admitted]
    assert admitted == [user.username for user in valid]
    assert_refused(outcomes[6], 4403)
    for refused in (outcomes[7], outcomes[14], outcomes[15]):
        assert_refused(refused, 4401)


@pytest.fixture(scope="module")
def broken_db(server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WsClient]:
    """A server of the same kind whose database file cannot be opened (real OperationalError)."""
    directory = tmp_path_factory.mktemp(f"storm-broken-db-{server.kind}")
    live = start_server(
        server.kind,
        directory / "server.log",
        env={"WARDEN_TEST_DB": str(directory / "no-such-directory" / "db.sqlite3")},
    )
    yield WsClient(live)
    live.stop()


async def test_a_storm_against_a_failing_database_fails_every_member_closed(
    broken_db: WsClient, make_user: Any
) -> None:
    """Eight DRF handshakes at once while the database cannot be opened: eight 4500s."""
    users = await make_users(make_user, 8, "doomed")
    tokens = [await mint(user, "drf") for user in users]
    outcomes = await storm(broken_db, [[("Authorization", f"Token {token}")] for token in tokens])
    for outcome in outcomes:
        assert_refused(outcome, 4500)
