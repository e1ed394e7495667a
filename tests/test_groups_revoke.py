"""Membership revocations and re-checks: the message, applying it here, and waiting for processes."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.contrib.auth.models import Group, User
from django.core.cache import cache

from channels_warden import revocation
from channels_warden.groups import (
    Confirmation,
    memberships,
    recheck,
    revoke_membership,
    revoke_membership_sync,
    warden_join,
)
from channels_warden.groups import revoke as revoke_module
from channels_warden.groups.processes import INDEX_KEY, PROCESS_ID, process_key
from channels_warden.groups.revoke import ACK_TYPE, MESSAGE_TYPE, apply, membership_message
from channels_warden.revocation import listener
from tests.groupkit import consumer_of, declared, groups_cleanup, opened  # noqa: F401

pytestmark = pytest.mark.usefixtures("groups_cleanup")

ALICE = User(pk=1, username="alice")
BOB = User(pk=2, username="bob")


async def allow(user: Any, scope: Any, room: str) -> bool:
    return True


def in_django_group(user: Any, scope: Any, room: str) -> bool:
    return bool(user.groups.filter(name=room).exists())


@pytest.fixture(autouse=True)
def fresh_inventory() -> None:
    """Every test starts with no process listed."""
    cache.delete(INDEX_KEY)


async def joined(user: Any, *groups: str, layer: Any = None) -> Any:
    socket = await opened(user)
    consumer = await consumer_of(socket, layer or get_channel_layer())
    for group in groups:
        await warden_join(consumer, group)
    return socket


# -- the message -------------------------------------------------------------------------------------


def test_revoke_message_names_user_group_and_reason() -> None:
    """The message carries the user's key, the group, the reason and an id; no reply channel yet."""
    message = membership_message("revoke", user=ALICE, group="unit.a", reason="removed")
    assert {k: v for k, v in message.items() if k != "id"} == {
        "type": MESSAGE_TYPE,
        "action": "revoke",
        "user": "1",
        "group": "unit.a",
        "reason": "removed",
        "reply_to": None,
    }


@pytest.mark.parametrize(
    ("action", "user", "group", "reason", "message"),
    [
        ("revoke", ALICE, "not a group", "revoked", "valid group name"),
        ("recheck", None, None, "recheck", "needs a user, a group or both"),
        ("recheck", ALICE, "not a group", "recheck", "is not a valid group name"),
        ("revoke", ALICE, "unit.a", "", "reason must be"),
        ("revoke", ALICE, "unit.a", "x" * 65, "reason must be"),
        ("revoke", ALICE, "unit.a", "bad\nreason", "reason must be"),
    ],
)
def test_bad_messages_are_refused(action: str, user: Any, group: Any, reason: str, message: str) -> None:
    """A message that would match nothing or carry a bad reason is a ``ValueError``."""
    with pytest.raises(ValueError, match=message):
        membership_message(action, user=user, group=group, reason=reason)


# -- applying it in this process ---------------------------------------------------------------------


async def test_revoke_takes_the_users_sockets_out_only() -> None:
    """alice's sockets leave ``unit.a``; bob's and alice's other groups stay."""
    with declared({"unit.{room}": allow}):
        alice = await joined(ALICE, "unit.a", "unit.b")
        bob = await joined(BOB, "unit.a")
        removed = await apply(membership_message("revoke", user=ALICE, group="unit.a", reason="removed"))
    assert (removed, alice.frames(), bob.frames()) == (
        1,
        [{"type": "warden.left", "group": "unit.a", "reason": "removed"}],
        [],
    )
    assert list(alice.connection.memberships.groups) == ["unit.b"]


async def test_revoke_without_a_user_empties_the_group() -> None:
    """``user=None`` takes every socket out of the group (a deleted room)."""
    with declared({"unit.{room}": allow}):
        sockets = [await joined(ALICE, "unit.a"), await joined(BOB, "unit.a")]
        removed = await apply(membership_message("revoke", user=None, group="unit.a", reason="revoked"))
    assert (removed, [len(s.frames()) for s in sockets]) == (2, [1, 1])


async def test_a_large_group_is_left_with_bounded_concurrency() -> None:
    """Taking 100 sockets out of a group never runs more than ``CONCURRENCY`` layer calls at once
    (redis-py's pools refuse calls beyond their size instead of queueing them)."""
    running, peak = 0, 0

    class CountingLayer(InMemoryChannelLayer):  # type: ignore[misc]
        async def group_discard(self, group: str, channel: str) -> None:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0)
            await super().group_discard(group, channel)
            running -= 1

    layer = CountingLayer()
    with declared({"unit.{room}": allow}):
        sockets = [await joined(ALICE, "unit.a", layer=layer) for _ in range(100)]
        removed = await apply(membership_message("revoke", user=None, group="unit.a", reason="revoked"))
    assert (removed, peak, sum(len(s.frames()) for s in sockets)) == (100, memberships.CONCURRENCY, 100)


async def test_apply_answers_the_reply_channel() -> None:
    """With ``reply_to``, this process confirms with its id and its count."""
    layer = get_channel_layer()
    reply = await layer.new_channel()
    with declared({"unit.{room}": allow}):
        await joined(ALICE, "unit.a")
        message = {
            **membership_message("revoke", user=ALICE, group="unit.a", reason="revoked"),
            "reply_to": reply,
        }
        await apply(message)
    assert await layer.receive(reply) == {
        "type": ACK_TYPE,
        "id": message["id"],
        "process": PROCESS_ID,
        "removed": 1,
    }


async def test_malformed_message_is_ignored_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    """A message with an unknown action changes nothing and says so."""
    with caplog.at_level(logging.WARNING, "channels_warden.groups"):
        assert await apply({"type": MESSAGE_TYPE, "action": "explode", "group": "unit.a"}) == 0
    assert caplog.messages == ["ignored a malformed membership message (action 'explode')"]


@pytest.mark.django_db(transaction=True)
async def test_recheck_reloads_the_user_from_the_database() -> None:
    """After alice left the Django group ``unit-a``, ``recheck`` takes her out of ``unit.unit-a``."""
    alice = await database_sync_to_async(User.objects.create_user)("alice")
    group = await database_sync_to_async(Group.objects.create)(name="unit-a")
    await database_sync_to_async(alice.groups.add)(group)
    with declared({"unit.{room}": in_django_group}):
        socket = await joined(alice, "unit.unit-a")
        await database_sync_to_async(alice.groups.remove)(group)
        removed = await apply(membership_message("recheck", user=alice, group=None, reason="recheck"))
    assert (removed, socket.frames()) == (
        1,
        [{"type": "warden.left", "group": "unit.unit-a", "reason": "forbidden"}],
    )


@pytest.mark.django_db(transaction=True)
async def test_recheck_of_a_group_asks_every_holder_about_that_group_only() -> None:
    """``recheck(group=...)`` re-runs that group's policy for every socket holding it, not the others."""
    users = [await database_sync_to_async(User.objects.create_user)(name) for name in ("alice", "bob")]
    allowed = {"unit.a": {"alice", "bob"}, "unit.b": {"alice", "bob"}}

    async def listed(user: Any, scope: Any, room: str) -> bool:
        return user.get_username() in allowed[f"unit.{room}"]

    with declared({"unit.{room}": listed}):
        alice = await joined(users[0], "unit.a", "unit.b")
        bob = await joined(users[1], "unit.a", "unit.b")
        allowed = {"unit.a": {"alice"}, "unit.b": set()}  # the room went private: only alice stays
        removed = await apply(membership_message("recheck", user=None, group="unit.a", reason="recheck"))
    assert (removed, alice.frames(), bob.frames()) == (
        1,
        [],
        [{"type": "warden.left", "group": "unit.a", "reason": "forbidden"}],
    )
    assert list(bob.connection.memberships.groups) == ["unit.b"]


@pytest.mark.django_db(transaction=True)
async def test_fresh_users_come_from_the_database_in_one_query_per_model() -> None:
    """Users are reloaded in bulk; a deleted user comes back anonymous; other objects are skipped."""
    alice = await database_sync_to_async(User.objects.create_user)("alice", is_staff=False)
    await database_sync_to_async(User.objects.filter(pk=alice.pk).update)(is_staff=True)
    gone = User(pk=999, username="gone")
    fresh = await revoke_module._fresh_users([alice, gone, object()])
    assert (fresh[str(alice.pk)].is_staff, fresh["999"].is_authenticated, len(fresh)) == (True, False, 2)


async def test_recheck_that_cannot_load_the_user_leaves_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    """If the database fails during a re-check, the user's sockets leave their groups (fail closed)."""

    async def down(users: Any) -> Any:
        raise ConnectionError("database down")

    monkeypatch.setattr(revoke_module, "_fresh_users", down)
    with declared({"unit.{room}": allow}):
        socket = await joined(ALICE, "unit.a", "unit.b")
        removed = await apply(membership_message("recheck", user=ALICE, group=None, reason="recheck"))
    assert (removed, [f["reason"] for f in socket.frames()]) == (2, ["internal", "internal"])


# -- sending it ----------------------------------------------------------------------------------------


async def test_without_a_layer_the_revocation_is_applied_here(settings: Any) -> None:
    """With no channel layer, ``revoke_membership`` applies in this process and confirms it."""
    layer = InMemoryChannelLayer()
    with declared({"unit.{room}": allow}):
        socket = await joined(ALICE, "unit.a", layer=layer)
        settings.CHANNEL_LAYERS = {}
        confirmation = await revoke_membership(ALICE, "unit.a")
    assert confirmation == Confirmation({PROCESS_ID: 1})
    assert len(socket.frames()) == 1


async def test_waiting_revocation_is_confirmed_by_this_process() -> None:
    """Through the listener, ``wait=`` returns once this (the only listed) process confirmed."""
    listener.ensure_running()
    await asyncio.wait_for(listener.joined.wait(), 5)
    with declared({"unit.{room}": allow}):
        socket = await joined(ALICE, "unit.a")
        confirmation = await revoke_membership(ALICE, "unit.a", wait=5)
    assert confirmation == Confirmation({PROCESS_ID: 1}, ())
    assert (confirmation.complete, confirmation.removed, len(socket.frames())) == (True, 1, 1)


async def test_waiting_revocation_names_the_processes_that_did_not_answer() -> None:
    """A listed process that never confirms is reported missing once the wait is over."""
    listener.ensure_running()
    await asyncio.wait_for(listener.joined.wait(), 5)
    with declared({"unit.{room}": allow}):
        await joined(ALICE, "unit.a")
        cache.set(process_key("deadbeef0000"), 1.0, 60)
        cache.set(INDEX_KEY, [*cache.get(INDEX_KEY), "deadbeef0000"], None)
        confirmation = await revoke_membership(ALICE, "unit.a", wait=0.3)
    assert confirmation == Confirmation({PROCESS_ID: 1}, ("deadbeef0000",))


async def test_revocation_without_wait_goes_to_the_listener() -> None:
    """Without ``wait`` the message is broadcast once; this process's listener applies it."""
    listener.ensure_running()
    await asyncio.wait_for(listener.joined.wait(), 5)
    with declared({"unit.{room}": allow}):
        socket = await joined(ALICE, "unit.a")
        assert await revoke_membership(ALICE, "unit.a") is None
        assert await socket.wait_frames(1) == [
            {"type": "warden.left", "group": "unit.a", "reason": "revoked"}
        ]


async def test_recheck_is_a_handler_of_the_revocation_listener() -> None:
    """The groups package registers its message type with the revocation listener."""
    assert revocation.handlers[MESSAGE_TYPE] is apply


async def test_sync_revocation_from_a_worker_thread(settings: Any) -> None:
    """``revoke_membership_sync`` works from sync code running under the event loop."""
    settings.CHANNEL_LAYERS = {}
    with declared({"unit.{room}": allow}):
        socket = await joined(ALICE, "unit.a", layer=InMemoryChannelLayer())
        confirmation = await sync_to_async(revoke_membership_sync)(ALICE, "unit.a", reason="gone")
    assert (confirmation, socket.frames()) == (
        Confirmation({PROCESS_ID: 1}),
        [{"type": "warden.left", "group": "unit.a", "reason": "gone"}],
    )


async def test_recheck_without_a_layer_confirms_here(settings: Any) -> None:
    """``recheck`` with no channel layer re-checks this process's sockets of the user."""
    settings.CHANNEL_LAYERS = {}
    assert await recheck(ALICE) == Confirmation({PROCESS_ID: 0})


def test_confirmation_is_complete_without_missing_processes() -> None:
    """``complete`` and ``removed`` summarise the answers."""
    assert (Confirmation({"a": 2, "b": 1}).removed, Confirmation({}, ("b",)).complete) == (3, False)
