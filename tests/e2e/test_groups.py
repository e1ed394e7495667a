"""Group policies through real servers: refused joins, revocation, refresh re-checks, grant ends.

Policies are those of tests/project/warden.py. Revocations and re-checks are asked for over HTTP,
so that they run inside the server process (the in-memory channel layer reaches no other process).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from .group_client import (
    GroupSocket,
    denied,
    left,
    open_group_socket,
    put_in_room,
    take_out_of_room,
    token_with,
)
from .helpers import assert_refused, create_user
from .lifecycle import Sockets, post

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def sockets() -> AsyncIterator[Sockets]:
    pool = Sockets()
    yield pool
    await pool.close_all()


async def pair(
    server: Any, sockets: Sockets, make_user: Any, room: str = "x"
) -> tuple[GroupSocket, GroupSocket]:
    """alice (receiver) and bob (sender), both members of ``room.<room>`` and joined to ``open.lobby``."""
    alice, bob = await create_user(make_user, "alice"), await create_user(make_user, "bob")
    for user in (alice, bob):
        await put_in_room(user, room)
    receiver = await open_group_socket(sockets, server, await token_with(alice))
    sender = await open_group_socket(sockets, server, await token_with(bob))
    for socket in (receiver, sender):
        assert (await socket.join(f"room.{room}"))["op"] == "joined"
        assert (await socket.join("open.lobby"))["op"] == "joined"
    return receiver, sender


async def barrier(sender: GroupSocket, receiver: GroupSocket, n: int) -> int:
    """Send ``n`` to ``open.lobby`` and wait for the receiver to hear it; return its frame index.

    A channel delivers in order, so whatever the receiver would have heard before ``n`` has arrived.
    """
    await sender.send_to("open.lobby", n)
    index, _, _ = await receiver.wait_for(lambda f: f == {"op": "message", "group": "open.lobby", "n": n})
    return index


async def test_denied_join_keeps_the_socket_open_and_hears_nothing_from_that_group(
    server: Any, sockets: Sockets, make_user: Any
) -> None:
    """A join the policy refuses answers ``warden.denied``; the socket stays open, deaf to that group."""
    receiver, sender = await pair(server, sockets, make_user)
    await put_in_room(await create_user(make_user, "carol"), "private")
    assert await receiver.join("room.private") == denied("room.private", "forbidden")
    await sender.send_to("room.private", 1)
    index = await barrier(sender, receiver, 2)
    assert receiver.messages("room.private") == []
    assert await receiver.groups() == ["open.lobby", "room.x"]
    assert receiver.frames[index][1] == {"op": "message", "group": "open.lobby", "n": 2}


@pytest.mark.parametrize(
    ("group", "reason"),
    [("secret.x", "forbidden"), ("bad name!", "bad_request"), ("x" * 120, "bad_request")],
    ids=["no-policy", "invalid-name", "too-long"],
)
async def test_join_without_a_policy_or_with_a_bad_name_is_denied(
    server: Any, sockets: Sockets, make_user: Any, group: str, reason: str
) -> None:
    """A name no pattern matches (REQUIRE_POLICY) or no group name at all is denied; the socket lives."""
    socket = await open_group_socket(sockets, server, await token_with(await create_user(make_user)))
    assert await socket.join(group) == denied(group[:100], reason)
    assert await socket.ask({"op": "ping"}, lambda f: f.get("op") == "pong") == {"op": "pong"}


async def test_revoked_membership_stops_delivery_on_the_very_next_group_message(
    server: Any, sockets: Sockets, make_user: Any, report_figure: Any
) -> None:
    """While bob keeps sending numbered messages, alice is revoked from the room: she hears every
    message sent before the revocation returned and none sent after, then ``warden.left``."""
    receiver, sender = await pair(server, sockets, make_user)
    stop = asyncio.Event()
    sent_at: dict[int, float] = {}

    async def keep_sending() -> int:
        n = 0
        while not stop.is_set():
            n += 1
            sent_at[n] = time.time()
            await sender.send_to("room.x", n)
        return n

    sending = asyncio.get_running_loop().create_task(keep_sending())
    await receiver.wait_for(lambda f: f.get("op") == "message" and f.get("n") == 10)
    # Acknowledged before the request: the server sent it to the group while alice was a member.
    sent_before_request = max(f["n"] for _, f in sender.frames if f.get("op") == "sent")
    started = time.time()
    reply = await post(server, "/test/groups/revoke/", {"username": "alice", "group": "room.x", "wait": 2})
    returned = time.time()
    await asyncio.sleep(0.2)
    # The first message bob's client sent after the revocation returned: the very next group message.
    first_after_return = min(n for n, at in sent_at.items() if at > returned)
    await sender.wait_for(lambda f: f == {"op": "sent", "n": first_after_return + 10})
    stop.set()
    last_sent = await sending
    index = await barrier(sender, receiver, 1_000_000)
    heard = receiver.messages("room.x")
    _, left_at, _ = await receiver.wait_for(lambda f: f == left("room.x", "revoked"))
    report_figure(
        f"{server.kind}: revoke_membership(wait) answered in {1000 * (returned - started):.1f} ms; "
        f"warden.left {1000 * (left_at - started):.1f} ms after the request; alice heard 1..{heard[-1]} "
        f"of {last_sent}"
    )
    assert reply.status == 200, reply.body
    assert reply.body["confirmation"]["missing"] == []
    assert list(reply.body["confirmation"]["answered"].values()) == [1]
    assert heard == list(range(1, heard[-1] + 1))
    assert sent_before_request <= heard[-1] < first_after_return
    assert receiver.index_of({"op": "hook.left", "group": "room.x", "reason": "revoked"}) < index
    assert await receiver.groups() == ["open.lobby"]
    assert sender.messages("room.x")[-1] == last_sent  # bob was not touched


async def test_refresh_whose_token_lost_a_room_drops_that_group_only(
    server: Any, sockets: Sockets, make_user: Any
) -> None:
    """After ``warden.refresh`` with a token whose ``rooms`` claim lost ``b``, the socket leaves
    ``claim.b`` (before ``warden.refreshed``) and keeps ``claim.a``."""
    alice = await create_user(make_user, "alice")
    bob = await create_user(make_user, "bob")
    receiver = await open_group_socket(sockets, server, await token_with(alice, rooms=["a", "b"]))
    sender = await open_group_socket(sockets, server, await token_with(bob, rooms=["a", "b"]))
    for socket in (receiver, sender):
        for group in ("claim.a", "claim.b", "open.lobby"):
            assert (await socket.join(group))["op"] == "joined"
    after = len(receiver.frames)
    await receiver.socket.send(
        json.dumps({"type": "warden.refresh", "token": await token_with(alice, rooms=["a"])})
    )
    i_left, _, _ = await receiver.wait_for(lambda f: f == left("claim.b", "forbidden"), after)
    i_refreshed, _, _ = await receiver.wait_for(lambda f: f.get("type") == "warden.refreshed", after)
    await sender.send_to("claim.b", 1)
    await sender.send_to("claim.a", 2)
    await barrier(sender, receiver, 3)
    assert i_left < i_refreshed
    assert (receiver.messages("claim.a"), receiver.messages("claim.b")) == ([2], [])
    assert await receiver.groups() == ["claim.a", "open.lobby"]


async def test_grant_that_expires_leaves_its_group(
    server: Any, sockets: Sockets, make_user: Any, report_figure: Any
) -> None:
    """A 2 s grant takes the socket out of ``timed.2`` with ``warden.left`` ``expired``; it stays open."""
    alice = await create_user(make_user, "alice")
    receiver = await open_group_socket(sockets, server, await token_with(alice))
    sender = await open_group_socket(sockets, server, await token_with(await create_user(make_user, "bob")))
    for socket in (receiver, sender):
        assert (await socket.join("open.lobby"))["op"] == "joined"
    joined = await receiver.join("timed.2")
    assert joined["op"] == "joined"
    await sender.send_to("timed.2", 1)  # bob is not in the group: sending needs no membership
    await receiver.wait_for(lambda f: f == {"op": "message", "group": "timed.2", "n": 1})
    _, left_at, _ = await receiver.wait_for(lambda f: f == left("timed.2", "expired"), timeout=6)
    report_figure(
        f"{server.kind}: grant end to warden.left {1000 * (left_at - joined['expires_at']):+.1f} ms"
    )
    await sender.send_to("timed.2", 2)
    await barrier(sender, receiver, 3)
    assert receiver.messages("timed.2") == [1]
    assert joined["expires_at"] <= left_at < joined["expires_at"] + 1
    assert await receiver.groups() == ["open.lobby"]


async def test_recheck_after_leaving_the_django_group_leaves_the_room(
    server: Any, sockets: Sockets, make_user: Any
) -> None:
    """``recheck(user)`` after alice left the Django group ``room-x`` takes her out of ``room.x`` only."""
    receiver, sender = await pair(server, sockets, make_user)
    alice = await database_user("alice")
    await take_out_of_room(alice, "x")
    reply = await post(server, "/test/groups/recheck/", {"username": "alice", "wait": 2})
    assert reply.status == 200, reply.body
    await receiver.wait_for(lambda f: f == left("room.x", "forbidden"))
    await sender.send_to("room.x", 1)
    await barrier(sender, receiver, 2)
    assert receiver.messages("room.x") == []
    assert await receiver.groups() == ["open.lobby"]
    assert list(reply.body["confirmation"]["answered"].values()) == [1]


async def test_recheck_of_a_group_leaves_only_the_sockets_now_refused(
    server: Any, sockets: Sockets, make_user: Any
) -> None:
    """``recheck(group="room.x")`` after bob left ``room-x`` takes bob's socket out; alice stays."""
    alice, bob = await pair(server, sockets, make_user)
    await take_out_of_room(await database_user("bob"), "x")
    reply = await post(server, "/test/groups/recheck/", {"group": "room.x", "wait": 2})
    assert reply.status == 200, reply.body
    await bob.wait_for(lambda f: f == left("room.x", "forbidden"))
    await alice.send_to("room.x", 1)
    await alice.wait_for(lambda f: f == {"op": "message", "group": "room.x", "n": 1})
    await barrier(alice, bob, 2)
    assert (bob.messages("room.x"), await bob.groups(), await alice.groups()) == (
        [],
        ["open.lobby"],
        ["open.lobby", "room.x"],
    )
    assert list(reply.body["confirmation"]["answered"].values()) == [1]


async def test_staff_group_uses_the_drf_permission(server: Any, sockets: Sockets, make_user: Any) -> None:
    """``staff.{name}`` (DRF ``IsAdminUser`` through the adapter) admits staff and denies others."""
    staff = await open_group_socket(
        sockets, server, await token_with(await create_user(make_user, "root", is_staff=True))
    )
    user = await open_group_socket(sockets, server, await token_with(await create_user(make_user, "bob")))
    assert (await staff.join("staff.ops"))["op"] == "joined"
    assert await user.join("staff.ops") == denied("staff.ops", "forbidden")


async def database_user(username: str) -> Any:
    from channels.db import database_sync_to_async
    from django.contrib.auth import get_user_model

    return await database_sync_to_async(get_user_model().objects.get)(username=username)


async def test_can_join_opens_the_route_to_members_only(ws: Any, make_user: Any) -> None:
    """``guard(..., permissions=[CanJoin("room.{name}")])`` admits a member of ``room-x``, refuses
    others with 4403, and refuses a name the pattern does not match the same way."""
    alice, bob = await create_user(make_user, "alice"), await create_user(make_user, "bob")
    await put_in_room(alice, "x")
    member = await ws.handshake("/ws/member/x/", subprotocols=["warden", f"bearer.{await token_with(alice)}"])
    bob_token = await token_with(bob)
    stranger = await ws.handshake("/ws/member/x/", subprotocols=["warden", f"bearer.{bob_token}"])
    odd = await ws.handshake("/ws/member/a.b/", subprotocols=["warden", f"bearer.{bob_token}"])
    assert member.whoami is not None
    assert member.whoami["user"] == "alice"
    assert_refused(stranger, 4403)
    assert_refused(odd, 4403)


async def test_members_lists_each_user_once_with_their_sockets(
    server: Any, sockets: Sockets, make_user: Any
) -> None:
    """alice with two sockets and bob with one in ``open.lobby``: two members, 2 and 1 sockets."""
    alice, bob = await create_user(make_user, "alice"), await create_user(make_user, "bob")
    for user in (alice, alice, bob):
        socket = await open_group_socket(sockets, server, await token_with(user))
        assert (await socket.join("open.lobby"))["op"] == "joined"
    reply = await post(server, "/test/groups/members/", {"group": "open.lobby"})
    assert (reply.status, reply.body["members"], reply.body["missing"]) == (
        200,
        [{"name": "alice", "sockets": 2}, {"name": "bob", "sockets": 1}],
        [],
    )
