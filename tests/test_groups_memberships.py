"""Memberships on a socket: the index, leaving (frames, fail-closed), and grant ends on one timer."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from channels.layers import InMemoryChannelLayer
from django.contrib.auth.models import User

from channels_warden.groups import Grant
from channels_warden.groups.memberships import (
    Membership,
    discard_many,
    forget,
    groups_here,
    holders,
    leave,
    leave_all,
    leave_many,
    record,
)
from tests.groupkit import groups_cleanup, opened  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("groups_cleanup")

ALICE = User(pk=1, username="alice")
BOB = User(pk=2, username="bob")


async def member(socket: Any, layer: InMemoryChannelLayer, group: str, **options: Any) -> Membership:
    """Put the socket in ``group`` on ``layer`` the way warden_join does."""
    channel = await layer.new_channel()
    membership = Membership(group, channel, layer, options.pop("grant", Grant()), {}, **options)
    record(socket.connection, membership)
    await layer.group_add(group, channel)
    return membership


async def test_record_indexes_the_socket_by_group() -> None:
    """A recorded membership is found by group, and by group and user."""
    layer = InMemoryChannelLayer()
    alice, bob = await opened(ALICE), await opened(BOB)
    await member(alice, layer, "unit.a")
    await member(bob, layer, "unit.a")
    assert set(holders("unit.a")) == {alice.connection, bob.connection}
    assert holders("unit.a", "1") == [alice.connection]
    assert groups_here()["unit.a"] == 2


async def test_forget_drops_the_index_entry() -> None:
    """Forgetting the last holder removes the group from the index."""
    layer = InMemoryChannelLayer()
    alice = await opened(ALICE)
    membership = await member(alice, layer, "unit.b")
    assert forget(alice.connection, "unit.b") is membership
    assert ("unit.b" in groups_here(), forget(alice.connection, "unit.b")) == (False, None)


async def test_leave_takes_the_socket_out_and_tells_the_client() -> None:
    """``leave`` discards the channel from the group, then sends ``warden.left``."""
    layer = InMemoryChannelLayer()
    alice = await opened(ALICE)
    membership = await member(alice, layer, "unit.c")
    assert await leave(alice.connection, "unit.c", "revoked") is True
    await layer.group_send("unit.c", {"type": "late"})
    assert alice.frames() == [{"type": "warden.left", "group": "unit.c", "reason": "revoked"}]
    assert (
        layer.channels.get(membership.channel_name) is None or layer.channels[membership.channel_name].empty()
    )


async def test_leave_without_reason_is_silent() -> None:
    """An application's own leave sends no frame."""
    layer = InMemoryChannelLayer()
    alice = await opened(ALICE)
    await member(alice, layer, "unit.d")
    assert (await leave(alice.connection, "unit.d", None), alice.frames()) == (True, [])


async def test_leave_of_a_group_not_held_is_false() -> None:
    """Leaving a group the socket does not hold changes nothing."""
    alice = await opened(ALICE)
    assert (await leave(alice.connection, "unit.none", "revoked"), alice.frames()) == (False, [])


async def test_leave_tells_a_consumer_that_asked() -> None:
    """With ``notify_consumer`` the consumer's channel gets the ``warden.left`` message too."""
    layer = InMemoryChannelLayer()
    alice = await opened(ALICE)
    membership = await member(alice, layer, "unit.e", notify_consumer=True)
    await leave(alice.connection, "unit.e", "expired")
    assert await layer.receive(membership.channel_name) == {
        "type": "warden.left",
        "group": "unit.e",
        "reason": "expired",
    }


async def test_failed_discard_closes_the_socket_with_4500() -> None:
    """If the layer cannot remove the socket from the group, the socket is closed (fail closed)."""

    class BrokenLayer(InMemoryChannelLayer):  # type: ignore[misc]
        async def group_discard(self, group: str, channel: str) -> None:
            raise ConnectionError("redis down")

    alice = await opened(ALICE)
    await member(alice, BrokenLayer(), "unit.f")
    await leave(alice.connection, "unit.f", "revoked")
    assert alice.connection.closed is True
    assert alice.frames() == [
        {"type": "warden.disconnect", "code": 4500, "reason": "internal", "reconnect": "backoff"}
    ]


async def test_leave_all_leaves_every_group_silently() -> None:
    """When the socket ends, all its groups are left without frames and the timer is cancelled."""
    layer = InMemoryChannelLayer()
    alice = await opened(ALICE)
    await member(alice, layer, "unit.g", grant=Grant.for_seconds(60))
    await member(alice, layer, "unit.h")
    await leave_all(alice.connection)
    assert alice.connection.memberships is not None
    assert (alice.connection.memberships.groups, alice.connection.memberships.timer, alice.frames()) == (
        {},
        None,
        [],
    )
    assert ("unit.g" in groups_here(), "unit.h" in groups_here()) == (False, False)


async def test_one_timer_armed_for_the_earliest_grant_end() -> None:
    """Two grants with ends arm a single handle, for the earlier end."""
    layer = InMemoryChannelLayer()
    alice = await opened(ALICE)
    await member(alice, layer, "unit.i", grant=Grant(expires_at=time.time() + 300))
    await member(alice, layer, "unit.j", grant=Grant(expires_at=time.time() + 100))
    timer = alice.connection.memberships.timer  # type: ignore[union-attr]
    loop = asyncio.get_running_loop()
    assert isinstance(timer, asyncio.TimerHandle)
    assert 90 < timer.when() - loop.time() <= 100


async def test_no_timer_without_ends() -> None:
    """Open-ended grants arm nothing."""
    alice = await opened(ALICE)
    await member(alice, InMemoryChannelLayer(), "unit.k")
    assert alice.connection.memberships.timer is None  # type: ignore[union-attr]


async def test_grant_end_leaves_that_group_only() -> None:
    """When a grant ends the socket leaves its group with ``expired`` and keeps the others."""
    layer = InMemoryChannelLayer()
    alice = await opened(ALICE)
    await member(alice, layer, "unit.l", grant=Grant(expires_at=time.time() + 0.05))
    await member(alice, layer, "unit.m")
    assert await alice.wait_frames(1) == [{"type": "warden.left", "group": "unit.l", "reason": "expired"}]
    assert list(alice.connection.memberships.groups) == ["unit.m"]  # type: ignore[union-attr]


async def test_leave_many_takes_every_socket_out_and_tells_each() -> None:
    """``leave_many`` removes all the sockets from the group and each hears ``warden.left``."""
    layer = InMemoryChannelLayer()
    alice, bob = await opened(ALICE), await opened(BOB)
    channels = [(await member(s, layer, "unit.n")).channel_name for s in (alice, bob)]
    assert await leave_many([alice.connection, bob.connection], "unit.n", "removed") == 2
    await layer.group_send("unit.n", {"type": "late"})
    assert [s.frames() for s in (alice, bob)] == [
        [{"type": "warden.left", "group": "unit.n", "reason": "removed"}]
    ] * 2
    assert all(layer.channels.get(c) is None or layer.channels[c].empty() for c in channels)


async def test_leave_many_closes_the_sockets_when_the_layer_fails() -> None:
    """If the layer cannot remove them, the sockets are closed with 4500 instead (fail closed)."""

    class BrokenLayer(InMemoryChannelLayer):  # type: ignore[misc]
        async def group_discard(self, group: str, channel: str) -> None:
            raise ConnectionError("redis down")

    alice = await opened(ALICE)
    await member(alice, BrokenLayer(), "unit.o")
    assert await leave_many([alice.connection], "unit.o", "removed") == 1
    assert (alice.connection.closed, alice.frames()[0]["code"]) == (True, 4500)


class FakeRedis:
    """Records the commands a channels_redis connection would get."""

    def __init__(self) -> None:
        self.commands: list[tuple[Any, ...]] = []

    async def zrem(self, key: bytes, *members: str) -> None:
        self.commands.append(("zrem", key, *members))


class RedisShapedLayer:
    """Shaped like channels_redis' RedisChannelLayer (the fast path checks the module name)."""

    __module__ = "channels_redis.core"

    def __init__(self) -> None:
        self.redis = FakeRedis()

    def _group_key(self, group: str) -> bytes:
        return f"asgi:group:{group}".encode()

    def consistent_hash(self, value: str) -> int:
        return 0

    def connection(self, index: int) -> FakeRedis:
        return self.redis

    async def group_discard(self, group: str, channel: str) -> None:
        raise AssertionError("one ZREM for all, not one group_discard each")


RedisShapedLayer.__module__ = "channels_redis.core"


async def test_discard_many_on_channels_redis_is_one_zrem() -> None:
    """On channels_redis, removing many channels is one ``ZREM`` of the group's sorted set."""
    layer = RedisShapedLayer()
    await discard_many(layer, "unit.p", ["a!1", "b!2", "c!3"])
    assert layer.redis.commands == [("zrem", b"asgi:group:unit.p", "a!1", "b!2", "c!3")]


async def test_discard_many_of_nothing_asks_nothing() -> None:
    """No channels, no command."""
    layer = RedisShapedLayer()
    await discard_many(layer, "unit.p", [])
    assert layer.redis.commands == []
