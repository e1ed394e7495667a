"""warden_listen: a Strawberry subscription's groups joined through their policies, ended by warden."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from channels.layers import InMemoryChannelLayer
from django.contrib.auth.models import User
from strawberry.channels.handlers.base import ChannelsConsumer

from channels_warden.groups import GroupDenied, GroupLeft, joined_groups, warden_listen
from channels_warden.groups.memberships import leave
from tests.groupkit import Socket, declared, groups_cleanup, opened  # noqa: F401

pytestmark = pytest.mark.usefixtures("groups_cleanup")

ALICE = User(pk=1, username="alice")


async def allow(user: Any, scope: Any, room: str) -> bool:
    return room != "shut"


@contextlib.asynccontextmanager
async def strawberry_consumer(socket: Socket) -> AsyncIterator[ChannelsConsumer]:
    """Strawberry's own consumer base on ``socket``, its channel pumped into ``dispatch``."""
    layer = InMemoryChannelLayer()
    consumer = ChannelsConsumer()
    consumer.scope = dict(socket.connection.scope)
    consumer.channel_layer = layer
    consumer.channel_name = await layer.new_channel()

    async def pump() -> None:
        while True:
            await consumer.dispatch(await layer.receive(consumer.channel_name))

    task = asyncio.create_task(pump())
    try:
        with declared({"unit.{room}": allow}):
            yield consumer
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def layer_of(consumer: ChannelsConsumer) -> Any:
    return consumer.channel_layer


async def test_refused_group_raises_group_denied_and_joins_nothing() -> None:
    """A policy's refusal raises ``GroupDenied`` on entering; no group is held afterwards."""
    async with strawberry_consumer(await opened(ALICE)) as consumer:
        with pytest.raises(GroupDenied) as denied:
            async with warden_listen(consumer, "unit.message", groups=["unit.open", "unit.shut"]):
                pass
        assert (denied.value.group, denied.value.reason) == ("unit.shut", "forbidden")
        assert joined_groups(consumer) == frozenset()


async def test_messages_of_the_type_reach_the_iteration() -> None:
    """A ``group_send`` of the listened type arrives on the iterator."""
    async with (
        strawberry_consumer(await opened(ALICE)) as consumer,
        warden_listen(consumer, "unit.message", groups=["unit.open"]) as events,
    ):
        await layer_of(consumer).group_send("unit.open", {"type": "unit.message", "n": 1})
        event = await asyncio.wait_for(anext(events), 5)
    assert event == {"type": "unit.message", "n": 1}


async def test_warden_taking_the_group_raises_group_left() -> None:
    """When warden takes the socket out of the group, the iteration raises ``GroupLeft`` with the reason."""
    socket = await opened(ALICE)
    async with (
        strawberry_consumer(socket) as consumer,
        warden_listen(consumer, "unit.message", groups=["unit.open"]) as events,
    ):
        await leave(socket.connection, "unit.open", "removed")
        with pytest.raises(GroupLeft) as left:
            await asyncio.wait_for(anext(events), 5)
    assert (left.value.group, left.value.reason, str(left.value)) == (
        "unit.open",
        "removed",
        "left group 'unit.open': removed",
    )


async def test_leaving_another_group_does_not_end_the_iteration() -> None:
    """A ``warden.left`` for a group this iteration does not hear is ignored."""
    socket = await opened(ALICE)
    async with (
        strawberry_consumer(socket) as consumer,
        warden_listen(consumer, "unit.other", groups=["unit.b"]),
        warden_listen(consumer, "unit.message", groups=["unit.a"]) as events,
    ):
        await leave(socket.connection, "unit.b", "removed")
        await layer_of(consumer).group_send("unit.a", {"type": "unit.message", "n": 2})
        event = await asyncio.wait_for(anext(events), 5)
    assert event == {"type": "unit.message", "n": 2}


async def test_group_is_left_when_the_last_listener_ends() -> None:
    """Two listeners of one group: the group is held until the second one ends."""
    async with strawberry_consumer(await opened(ALICE)) as consumer:
        async with warden_listen(consumer, "unit.message", groups=["unit.open"]):
            async with warden_listen(consumer, "unit.message", groups=["unit.open"]):
                pass
            still = joined_groups(consumer)
        after = joined_groups(consumer)
    assert (still, after) == (frozenset({"unit.open"}), frozenset())


async def test_timeout_ends_the_iteration_quietly() -> None:
    """With ``timeout``, an iteration that hears nothing ends without an error."""
    async with (
        strawberry_consumer(await opened(ALICE)) as consumer,
        warden_listen(consumer, "unit.message", groups=["unit.open"], timeout=0.05) as events,
    ):
        heard = [event async for event in events]
    assert heard == []


async def test_cancelled_subscription_leaves_the_group() -> None:
    """A subscription cancelled while it waits (the client's ``complete``) leaves its group."""
    async with strawberry_consumer(await opened(ALICE)) as consumer:
        listening = asyncio.Event()

        async def subscription() -> None:
            async with warden_listen(consumer, "unit.message", groups=["unit.open"]) as events:
                listening.set()
                async for _ in events:
                    pass

        task = asyncio.create_task(subscription())
        await asyncio.wait_for(listening.wait(), 5)
        held = joined_groups(consumer)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert (held, joined_groups(consumer)) == (frozenset({"unit.open"}), frozenset())
