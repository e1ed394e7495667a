"""Re-checks: every group's policy asked again with the socket's current identity."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from channels.layers import InMemoryChannelLayer
from django.contrib.auth.models import User

from channels_warden.connection import Connection
from channels_warden.groups import Grant, warden_join
from channels_warden.groups.rechecks import MembershipHook, recheck_connection
from channels_warden.identity import AuthInfo
from tests.groupkit import consumer_of, declared, groups_cleanup, opened  # noqa: F401

pytestmark = pytest.mark.usefixtures("groups_cleanup")

ALICE = User(pk=1, username="alice")


async def in_claim(user: Any, scope: Any, room: str) -> bool:
    return room in scope["auth"].claims.get("rooms", ())


async def test_recheck_leaves_the_groups_now_refused_only() -> None:
    """After the token lost room ``b``, a re-check leaves ``claim.b`` and keeps ``claim.a``."""
    socket = await opened(ALICE, claims={"rooms": ["a", "b"]})
    consumer = await consumer_of(socket, InMemoryChannelLayer())
    with declared({"unit.{room}": in_claim}):
        await warden_join(consumer, "unit.a")
        await warden_join(consumer, "unit.b")
        socket.connection.auth = replace(socket.connection.auth, claims={"rooms": ["a"]})  # type: ignore[arg-type]
        assert await recheck_connection(socket.connection) == 1
    assert socket.frames() == [{"type": "warden.left", "group": "unit.b", "reason": "forbidden"}]
    assert list(socket.connection.memberships.groups) == ["unit.a"]  # type: ignore[union-attr]


async def test_recheck_keeps_the_new_grant() -> None:
    """A group still allowed keeps its membership with the grant the policy answers now."""
    grants = iter([Grant(), Grant.for_seconds(60, role="owner")])

    async def changing(user: Any, scope: Any, room: str) -> Grant:
        return next(grants)

    socket = await opened(ALICE)
    consumer = await consumer_of(socket, InMemoryChannelLayer())
    with declared({"unit.{room}": changing}):
        await warden_join(consumer, "unit.a")
        assert await recheck_connection(socket.connection) == 0
    grant = socket.connection.memberships.groups["unit.a"].grant  # type: ignore[union-attr]
    assert dict(grant.metadata) == {"role": "owner"}
    assert socket.connection.memberships.timer is not None  # type: ignore[union-attr]


async def test_recheck_asks_about_the_user_given() -> None:
    """A re-check with a fresh user passes that user, in the policy's arguments and its scope."""
    seen: list[Any] = []

    async def spy(user: Any, scope: Any, room: str) -> bool:
        seen.append((user, scope["user"]))
        return True

    fresh = User(pk=1, username="alice", is_staff=True)
    socket = await opened(ALICE)
    with declared({"unit.{room}": spy}):
        await warden_join(await consumer_of(socket, InMemoryChannelLayer()), "unit.a")
        await recheck_connection(socket.connection, fresh)
    assert seen[-1] == (fresh, fresh)


async def test_join_after_a_refresh_is_judged_on_the_current_token() -> None:
    """A join after the identity changed is decided with the connection's current ``auth``."""
    socket = await opened(ALICE, claims={"rooms": []})
    consumer = await consumer_of(socket, InMemoryChannelLayer())
    socket.connection.auth = AuthInfo(user=ALICE, claims={"rooms": ["a"]})
    with declared({"unit.{room}": in_claim}):
        assert await warden_join(consumer, "unit.a") == Grant()


async def test_recheck_of_a_socket_without_groups_does_nothing() -> None:
    """A socket that never joined through warden has nothing to re-check."""
    assert await recheck_connection((await opened(ALICE)).connection) == 0


async def test_hook_is_installed_on_connection() -> None:
    """Importing ``channels_warden.groups`` installs its hook on ``Connection``."""
    assert isinstance(Connection.membership_hook, MembershipHook)


async def test_finished_socket_leaves_its_groups() -> None:
    """``Connection.finish`` makes the socket leave every group it held."""
    layer = InMemoryChannelLayer()
    socket = await opened(ALICE, claims={"rooms": ["a"]})
    consumer = await consumer_of(socket, layer)
    with declared({"unit.{room}": in_claim}):
        await warden_join(consumer, "unit.a")
    await socket.connection.finish()
    await layer.group_send("unit.a", {"type": "hello"})
    assert (socket.connection.memberships.groups, layer.channels.get(consumer.channel_name)) == ({}, None)  # type: ignore[union-attr]
