"""Presence from memberships: one entry per user, sockets counted, merged across processes."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.contrib.auth.models import AnonymousUser, User
from django.core.cache import cache

from channels_warden.groups import Grant, Member, Presence, members, warden_join
from channels_warden.groups.presence import answer, merge, summarise
from channels_warden.groups.processes import INDEX_KEY, PROCESS_ID
from channels_warden.revocation import listener
from tests.groupkit import consumer_of, declared, groups_cleanup, opened  # noqa: F401

pytestmark = pytest.mark.usefixtures("groups_cleanup")

ALICE = User(pk=1, username="alice")
BOB = User(pk=2, username="bob")


async def guest(user: Any, scope: Any, room: str) -> Grant:
    return Grant(metadata={"role": "guest"})


async def joined(user: Any, group: str, layer: Any = None) -> Any:
    socket = await opened(user)
    await warden_join(await consumer_of(socket, layer or get_channel_layer()), group)
    return socket


async def test_summary_counts_each_users_sockets() -> None:
    """Two sockets of alice and one of bob: two users, their socket counts and grant metadata."""
    with declared({"unit.{room}": guest}):
        for user in (ALICE, ALICE, BOB):
            await joined(user, "unit.a")
        summary = summarise("unit.a")
    assert summary == {
        "users": {
            "1": {"name": "alice", "sockets": 2, "metadata": {"role": "guest"}},
            "2": {"name": "bob", "sockets": 1, "metadata": {"role": "guest"}},
        },
        "anonymous": 0,
    }


async def test_anonymous_sockets_are_counted_apart() -> None:
    """Sockets without a user are a count, not entries."""
    with declared({"unit.{room}": guest}):
        await joined(AnonymousUser(), "unit.b")
        assert summarise("unit.b") == {"users": {}, "anonymous": 1}


def test_merge_sums_a_users_sockets_across_processes() -> None:
    """alice on two processes is one member with the sockets of both."""
    entry = {"name": "alice", "sockets": 1, "metadata": {}}
    presence = merge(
        "unit.c",
        {"p1": {"users": {"1": entry}, "anonymous": 1}, "p2": {"users": {"1": entry}, "anonymous": 0}},
    )
    assert presence == Presence(
        "unit.c", (Member("1", "alice", 2, presence.members[0].metadata),), 1, ("p1", "p2")
    )
    assert presence.complete is True


async def test_members_without_a_layer_reads_this_process(settings: Any) -> None:
    """With no channel layer, ``members`` answers from this process."""
    with declared({"unit.{room}": guest}):
        await joined(BOB, "unit.d", layer=InMemoryChannelLayer())
        settings.CHANNEL_LAYERS = {}
        presence = await members("unit.d")
    assert ([m.name for m in presence.members], presence.answered) == (["bob"], (PROCESS_ID,))


async def test_members_through_the_listener() -> None:
    """Through the listener, this (the only listed) process answers and nobody is missing."""
    cache.delete(INDEX_KEY)
    listener.ensure_running()
    await asyncio.wait_for(listener.joined.wait(), 5)
    with declared({"unit.{room}": guest}):
        await joined(ALICE, "unit.e")
        presence = await members("unit.e", wait=5)
    assert ([(m.name, m.sockets) for m in presence.members], presence.missing) == ([("alice", 1)], ())


async def test_members_refuses_a_bad_group_name() -> None:
    """A name that is no group name is a ``ValueError``, not a broadcast."""
    with pytest.raises(ValueError, match="not a valid group name"):
        await members("not a group")


async def test_malformed_query_is_ignored(caplog: pytest.LogCaptureFixture) -> None:
    """A query without a reply channel answers nothing and says so."""
    with caplog.at_level(logging.WARNING, "channels_warden.groups"):
        await answer({"type": "warden.members", "group": "unit.f"})
    assert caplog.messages == ["ignored a malformed members query"]
