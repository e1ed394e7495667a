"""warden_join / warden_leave and the mixin: policy first, then group_add, membership recorded."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from channels.layers import InMemoryChannelLayer
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured

from channels_warden.conf import WardenSettings
from channels_warden.groups import (
    Grant,
    GroupDenied,
    WardenGroupsMixin,
    joined_groups,
    warden_join,
    warden_leave,
)
from channels_warden.groups.memberships import leave
from channels_warden.identity import AuthInfo
from tests.groupkit import FakeConsumer, consumer_of, declared, groups_cleanup, heard, opened  # noqa: F401

pytestmark = pytest.mark.usefixtures("groups_cleanup")

ALICE = User(pk=1, username="alice")


async def allow(user: Any, scope: Any, room: str) -> bool:
    return room != "shut"


async def test_join_adds_the_consumer_to_the_group() -> None:
    """After ``warden_join`` a ``group_send`` reaches the consumer's channel."""
    layer = InMemoryChannelLayer()
    consumer = await consumer_of(await opened(ALICE), layer)
    with declared({"unit.{room}": allow}):
        assert await warden_join(consumer, "unit.open") == Grant()
    await layer.group_send("unit.open", {"type": "hello"})
    assert await heard(layer, consumer) == [{"type": "hello"}]


async def test_join_records_the_membership_on_the_connection() -> None:
    """The connection holds the group with its grant, channel and the consumer's scope."""
    layer = InMemoryChannelLayer()
    socket = await opened(ALICE)
    consumer = await consumer_of(socket, layer, url_route={"kwargs": {"room": "open"}})
    grant = Grant.for_seconds(60, role="guest")

    async def granting(user: Any, scope: Any, room: str) -> Grant:
        return grant

    with declared({"unit.{room}": granting}):
        await warden_join(consumer, "unit.open")
    membership = socket.connection.memberships.groups["unit.open"]  # type: ignore[union-attr]
    assert (membership.grant, membership.channel_name, membership.scope) == (
        grant,
        consumer.channel_name,
        consumer.scope,
    )
    assert joined_groups(consumer) == frozenset({"unit.open"})


async def test_policy_sees_the_consumers_scope() -> None:
    """The policy gets the consumer's scope (with its ``url_route``), not the middleware's."""
    seen: list[Any] = []

    async def spy(user: Any, scope: Any, room: str) -> bool:
        seen.append(scope.get("url_route"))
        return True

    consumer = await consumer_of(await opened(ALICE), InMemoryChannelLayer(), url_route={"kwargs": {"a": 1}})
    with declared({"unit.{room}": spy}):
        await warden_join(consumer, "unit.x")
    assert seen == [{"kwargs": {"a": 1}}]


async def test_denied_join_adds_nothing() -> None:
    """A refused join raises ``GroupDenied``; the consumer is in no group and nothing is recorded."""
    layer = InMemoryChannelLayer()
    consumer = await consumer_of(await opened(ALICE), layer)
    with declared({"unit.{room}": allow}), pytest.raises(GroupDenied) as denied:
        await warden_join(consumer, "unit.shut")
    await layer.group_send("unit.shut", {"type": "hello"})
    assert (denied.value.reason, await heard(layer, consumer), joined_groups(consumer)) == (
        "forbidden",
        [],
        frozenset(),
    )


async def test_join_logs_the_refusal(caplog: pytest.LogCaptureFixture) -> None:
    """A refusal is logged with the group, the user key and the detail."""
    consumer = await consumer_of(await opened(ALICE), InMemoryChannelLayer())
    with declared({"unit.{room}": allow}), pytest.raises(GroupDenied):
        await warden_join(consumer, "unit.shut")
    assert caplog.messages == ["refused group 'unit.shut' to user 1: the policy refused"]


async def test_join_outside_warden_says_how_to_fix_it() -> None:
    """A consumer without warden's connection in its scope gets ``ImproperlyConfigured``."""
    consumer = FakeConsumer({"type": "websocket"}, InMemoryChannelLayer(), "x")
    with pytest.raises(ImproperlyConfigured, match="put WardenMiddleware"):
        await warden_join(consumer, "unit.x")


async def test_join_without_a_channel_layer_says_so() -> None:
    """A consumer with no channel layer gets ``ImproperlyConfigured``."""
    socket = await opened(ALICE)
    consumer = FakeConsumer(socket.connection.scope, None, "")
    with pytest.raises(ImproperlyConfigured, match="needs a channel layer"):
        await warden_join(consumer, "unit.x")


async def test_join_beyond_max_per_socket_is_too_many() -> None:
    """A socket at ``MAX_PER_SOCKET`` groups cannot join another, but may re-join one it holds."""
    socket = await opened(ALICE, WardenSettings({"GROUPS": {"MAX_PER_SOCKET": 1}}))
    consumer = await consumer_of(socket, InMemoryChannelLayer())
    with declared({"unit.{room}": allow}):
        await warden_join(consumer, "unit.a")
        await warden_join(consumer, "unit.a")
        with pytest.raises(GroupDenied) as denied:
            await warden_join(consumer, "unit.b")
    assert denied.value.reason == "too_many"


async def test_hostile_name_is_a_bad_request() -> None:
    """A name that is not even a string is refused ``bad_request``, never raised as TypeError."""
    consumer = await consumer_of(await opened(ALICE), InMemoryChannelLayer())
    with pytest.raises(GroupDenied) as denied:
        await warden_join(consumer, {"$ne": 1})  # type: ignore[arg-type]
    assert (denied.value.reason, denied.value.group) == ("bad_request", "{'$ne': 1}")


async def test_failing_group_add_fails_closed() -> None:
    """If ``group_add`` fails the join is refused ``internal`` and no membership is kept."""

    class BrokenLayer(InMemoryChannelLayer):  # type: ignore[misc]
        async def group_add(self, group: str, channel: str) -> None:
            raise ConnectionError("redis down")

    consumer = await consumer_of(await opened(ALICE), BrokenLayer())
    with declared({"unit.{room}": allow}), pytest.raises(GroupDenied) as denied:
        await warden_join(consumer, "unit.a")
    assert (denied.value.reason, joined_groups(consumer)) == ("internal", frozenset())


async def test_revocation_during_group_add_wins() -> None:
    """A revocation that lands while ``group_add`` runs leaves the socket out of the group."""
    entered, release = asyncio.Event(), asyncio.Event()

    class SlowLayer(InMemoryChannelLayer):  # type: ignore[misc]
        async def group_add(self, group: str, channel: str) -> None:
            entered.set()
            await release.wait()
            await super().group_add(group, channel)

    layer = SlowLayer()
    socket = await opened(ALICE)
    consumer = await consumer_of(socket, layer)
    with declared({"unit.{room}": allow}):
        joining = asyncio.ensure_future(warden_join(consumer, "unit.a"))
        await entered.wait()  # the membership is recorded before group_add
        await leave(socket.connection, "unit.a", "revoked")
        release.set()
        with pytest.raises(GroupDenied) as denied:
            await joining
    await layer.group_send("unit.a", {"type": "hello"})
    assert (denied.value.detail, await heard(layer, consumer)) == (
        "the membership was revoked while it was being added",
        [],
    )


async def test_revocation_while_the_policy_runs_wins() -> None:
    """A revocation that lands while the join's policy runs makes the join fail, group never added."""
    entered, release = asyncio.Event(), asyncio.Event()

    async def slow(user: Any, scope: Any, room: str) -> bool:
        entered.set()
        await release.wait()
        return True  # the policy read the database before the removal committed

    layer = InMemoryChannelLayer()
    socket = await opened(ALICE)
    consumer = await consumer_of(socket, layer)
    with declared({"unit.{room}": slow}):
        joining = asyncio.ensure_future(warden_join(consumer, "unit.a"))
        await entered.wait()
        assert await leave(socket.connection, "unit.a", "revoked") is True
        release.set()
        with pytest.raises(GroupDenied) as denied:
            await joining
    await layer.group_send("unit.a", {"type": "hello"})
    assert (denied.value.detail, await heard(layer, consumer), socket.frames()) == (
        "the membership was revoked while its policy ran",
        [],
        [],
    )


async def test_refresh_while_the_policy_runs_asks_again() -> None:
    """If the identity changes while the join's policy runs, the policy is asked about the new one."""
    entered, release = asyncio.Event(), asyncio.Event()
    seen: list[Any] = []

    async def in_claim(user: Any, scope: Any, room: str) -> bool:
        seen.append(list(scope["auth"].claims["rooms"]))
        if len(seen) == 1:
            entered.set()
            await release.wait()
        return room in scope["auth"].claims["rooms"]

    socket = await opened(ALICE, claims={"rooms": ["a"]})
    consumer = await consumer_of(socket, InMemoryChannelLayer())
    with declared({"unit.{room}": in_claim}):
        joining = asyncio.ensure_future(warden_join(consumer, "unit.a"))
        await entered.wait()
        socket.connection.auth = AuthInfo(user=ALICE, claims={"rooms": []})  # an in-band refresh
        release.set()
        with pytest.raises(GroupDenied):
            await joining
    assert (seen, joined_groups(consumer)) == ([["a"], []], frozenset())


async def test_rejoin_refused_now_leaves_the_group() -> None:
    """Joining a held group again when the policy now refuses raises and leaves the group."""
    answers = iter([True, False])

    async def changing(user: Any, scope: Any, room: str) -> bool:
        return next(answers)

    layer = InMemoryChannelLayer()
    consumer = await consumer_of(await opened(ALICE), layer)
    with declared({"unit.{room}": changing}):
        await warden_join(consumer, "unit.a")
        with pytest.raises(GroupDenied):
            await warden_join(consumer, "unit.a")
    await layer.group_send("unit.a", {"type": "hello"})
    assert (await heard(layer, consumer), joined_groups(consumer)) == ([], frozenset())


async def test_leave_takes_the_consumer_out() -> None:
    """``warden_leave`` removes the consumer from the group, without a frame."""
    layer = InMemoryChannelLayer()
    socket = await opened(ALICE)
    consumer = await consumer_of(socket, layer)
    with declared({"unit.{room}": allow}):
        await warden_join(consumer, "unit.a")
    assert (await warden_leave(consumer, "unit.a"), await warden_leave(consumer, "unit.a")) == (True, False)
    await layer.group_send("unit.a", {"type": "hello"})
    assert (await heard(layer, consumer), socket.frames()) == ([], [])


class MixinConsumer(WardenGroupsMixin):
    """The mixin on a stand-in for AsyncWebsocketConsumer."""

    def __init__(self, consumer: FakeConsumer) -> None:
        self.scope = consumer.scope
        self.channel_layer = consumer.channel_layer
        self.channel_name = consumer.channel_name
        self.texts: list[Any] = []
        self.left: list[tuple[str, str]] = []

    async def send(self, text_data: str) -> None:
        self.texts.append(json.loads(text_data))

    async def group_left(self, group: str, reason: str) -> None:
        self.left.append((group, reason))


async def test_mixin_answers_a_refusal_with_warden_denied() -> None:
    """``self.join`` of a refused group sends ``warden.denied`` and returns ``None``."""
    mixin = MixinConsumer(await consumer_of(await opened(ALICE), InMemoryChannelLayer()))
    with declared({"unit.{room}": allow}):
        assert await mixin.join("unit.shut") is None
    assert mixin.texts == [{"type": "warden.denied", "group": "unit.shut", "reason": "forbidden"}]


async def test_mixin_join_and_leave() -> None:
    """``self.join`` returns the grant, ``warden_groups`` lists the group, ``self.leave`` drops it."""
    mixin = MixinConsumer(await consumer_of(await opened(ALICE), InMemoryChannelLayer()))
    with declared({"unit.{room}": allow}):
        assert await mixin.join("unit.a") == Grant()
    assert mixin.warden_groups == frozenset({"unit.a"})
    assert (await mixin.leave("unit.a"), mixin.warden_groups) == (True, frozenset())


async def test_mixin_hears_that_warden_took_it_out() -> None:
    """A revocation reaches the mixin's ``warden_left`` handler, which calls ``group_left``."""
    layer = InMemoryChannelLayer()
    socket = await opened(ALICE)
    mixin = MixinConsumer(await consumer_of(socket, layer))
    with declared({"unit.{room}": allow}):
        await mixin.join("unit.a")
    await leave(socket.connection, "unit.a", "revoked")
    await mixin.warden_left(await layer.receive(mixin.channel_name))
    assert mixin.left == [("unit.a", "revoked")]
