"""Group memberships across two uvicorn processes over one real Redis: a revocation asked of process
A takes the user's sockets on process B out of the group, and the management command reaches both.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from ..group_client import GroupSocket, left, open_group_socket, put_in_room, token_with
from ..helpers import create_user
from ..lifecycle import Sockets, post
from .conftest import Cluster
from .test_cluster import manage

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def sockets() -> AsyncIterator[Sockets]:
    pool = Sockets()
    yield pool
    await pool.close_all()


async def joined(socket: GroupSocket, *groups: str) -> GroupSocket:
    for group in groups:
        assert (await socket.join(group))["op"] == "joined"
    return socket


async def heard_nothing_more(sender: GroupSocket, receivers: list[GroupSocket], group: str, n: int) -> None:
    """Send ``n`` to ``group`` and then a lobby message; each receiver hears the lobby one, not ``n``."""
    await sender.send_to(group, n)
    await sender.send_to("open.lobby", n + 1)
    for receiver in receivers:
        await receiver.wait_for(lambda f: f == {"op": "message", "group": "open.lobby", "n": n + 1})
        assert n not in receiver.messages(group)


async def test_revocation_on_a_removes_the_users_sockets_on_b_within_1s(
    cluster: Cluster, sockets: Sockets, make_user: Any, report_figure: Any
) -> None:
    """``revoke_membership(alice, "room.x", wait=2)`` asked of A takes alice's sockets on A and B out
    of the room within a second, both processes confirm, bob (on B) keeps hearing it, and presence
    asked of either process agrees."""
    alice, bob = await create_user(make_user, "alice"), await create_user(make_user, "bob")
    for user in (alice, bob):
        await put_in_room(user, "x")
    alice_token, bob_token = await token_with(alice), await token_with(bob)
    alice_a = await joined(await open_group_socket(sockets, cluster.a, alice_token), "room.x", "open.lobby")
    alice_b = await joined(await open_group_socket(sockets, cluster.b, alice_token), "room.x", "open.lobby")
    bob_b = await joined(await open_group_socket(sockets, cluster.b, bob_token), "room.x", "open.lobby")
    await bob_b.send_to("room.x", 1)
    for socket in (alice_a, alice_b):
        await socket.wait_for(lambda f: f == {"op": "message", "group": "room.x", "n": 1})
    started = time.time()
    reply = await post(cluster.a, "/test/groups/revoke/", {"username": "alice", "group": "room.x", "wait": 2})
    returned = time.time()
    _, left_on_b, _ = await alice_b.wait_for(lambda f: f == left("room.x", "revoked"))
    _, left_on_a, _ = await alice_a.wait_for(lambda f: f == left("room.x", "revoked"))
    report_figure(
        f"revoke on A -> warden.left on B {1000 * (left_on_b - started):.1f} ms, on A "
        f"{1000 * (left_on_a - started):.1f} ms; revoke_membership(wait) answered in "
        f"{1000 * (returned - started):.1f} ms"
    )
    assert reply.status == 200, reply.body
    confirmation = reply.body["confirmation"]
    assert confirmation["missing"] == []
    assert sorted(confirmation["answered"].values()) == [1, 1]
    assert left_on_b - started < 1
    await heard_nothing_more(bob_b, [alice_a, alice_b], "room.x", 2)
    assert bob_b.messages("room.x") == [1, 2]
    assert [await socket.groups() for socket in (alice_a, alice_b)] == [["open.lobby"]] * 2
    presences = [
        (await post(server, "/test/groups/members/", {"group": group, "wait": 2})).body
        for server in (cluster.a, cluster.b)
        for group in ("room.x", "open.lobby")
    ]
    room = {"members": [{"name": "bob", "sockets": 1}], "anonymous": 0, "answered": 2, "missing": []}
    lobby = {**room, "members": [{"name": "alice", "sockets": 2}, {"name": "bob", "sockets": 1}]}
    assert presences == [room, lobby, room, lobby]


async def test_management_command_takes_the_user_out_of_the_group_on_both_processes(
    cluster: Cluster, sockets: Sockets, make_user: Any
) -> None:
    """``manage.py warden_revoke_group --user alice --group open.news`` reaches A and B and confirms."""
    alice = await create_user(make_user, "alice")
    token = await token_with(alice)
    on_a = await joined(await open_group_socket(sockets, cluster.a, token), "open.news", "open.lobby")
    on_b = await joined(await open_group_socket(sockets, cluster.b, token), "open.news", "open.lobby")
    result = await asyncio.to_thread(
        manage, cluster, "warden_revoke_group", "--user", "alice", "--group", "open.news", "--reason", "moved"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Took alice's sockets out of open.news: 2 socket(s) in ")
    for socket in (on_a, on_b):
        await socket.wait_for(lambda f: f == left("open.news", "moved"))
        assert await socket.groups() == ["open.lobby"]
