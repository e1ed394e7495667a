"""Two uvicorn processes of the example on one Redis and one PostgreSQL: one chat, not two."""

from __future__ import annotations

import asyncio
import signal

import pytest

from ..graphql.gql import gql_socket
from ..lifecycle import disconnect_frame
from .conftest import CLUSTER_LEASE, ChatCluster
from .support import Sockets, assert_message, presence, session_auth, token_auth, unique_text
from .test_graphql import SUBSCRIBE, ending, operation, subscribed


async def test_alice_on_a_and_bob_on_b_chat(chat_cluster: ChatCluster, sockets: Sockets) -> None:
    """Messages cross between processes in both directions, identical on both ends."""
    a, b = chat_cluster.a, chat_cluster.b
    room = a.db.create_room(members=["alice", "bob"])
    alice = await sockets.room(a, room, "alice")
    bob = await sockets.room(b, room, "bob")
    await alice.receive()  # bob's arrival
    for sender, receiver, name in ((alice, bob, "alice"), (bob, alice, "bob")):
        text = unique_text()
        await sender.send({"type": "message", "text": text})
        sent = await sender.receive()
        assert_message(sent, room, name, text)
        assert await receiver.receive() == sent


async def test_presence_agrees_on_both_processes(chat_cluster: ChatCluster, sockets: Sockets) -> None:
    """alice on A and bob on B both see [alice, bob]; when bob leaves, A sees [alice]."""
    a, b = chat_cluster.a, chat_cluster.b
    room = a.db.create_room(members=["alice", "bob"])
    alice = await sockets.room(a, room, "alice")
    bob = await sockets.open(b, "/ws/chat/", token_auth(await b.token("bob")))
    await bob.send({"type": "join", "room": room})
    assert await bob.receive_all(2) == [{"type": "joined", "room": room}, presence(room, "alice", "bob")]
    assert await alice.receive() == presence(room, "alice", "bob")
    await bob.send({"type": "leave", "room": room})
    assert await bob.receive() == {"type": "left", "room": room}
    assert await alice.receive() == presence(room, "alice")


async def test_user_on_both_processes_is_one_entry(chat_cluster: ChatCluster, sockets: Sockets) -> None:
    """alice with a socket on A and one on B is listed once, and stays listed until both close."""
    a, b = chat_cluster.a, chat_cluster.b
    room = a.db.create_room(members=["alice", "bob"])
    bob = await sockets.room(a, room, "bob")
    alice_a = await sockets.room(a, room, "alice")
    alice_b = await sockets.room(b, room, "alice")
    assert await bob.receive_all(2) == [presence(room, "alice", "bob")] * 2
    await alice_a.close()
    assert await bob.receive() == presence(room, "alice", "bob")
    await alice_b.close()
    assert await bob.receive() == presence(room, "bob")


async def test_each_message_is_stored_exactly_once(chat_cluster: ChatCluster, sockets: Sockets) -> None:
    """Messages heard by sockets on both processes are one row each, with the id everyone received."""
    a, b = chat_cluster.a, chat_cluster.b
    room = a.db.create_room(members=["alice", "bob"])
    alice = await sockets.room(a, room, "alice")
    listeners = [await sockets.room(b, room, "bob"), await sockets.room(a, room, "bob")]
    await alice.receive_all(2)
    await listeners[0].receive()
    texts = [unique_text() for _ in range(3)]
    for text in texts:
        await alice.send({"type": "message", "text": text})
    sent = [assert_message(await alice.receive(), room, "alice", text) for text in texts]
    for listener in listeners:
        assert [frame["id"] for frame in await listener.receive_all(3)] == sent
    assert [a.db.message_ids(text) for text in texts] == [[message_id] for message_id in sent]


@pytest.mark.parametrize("where", ["a", "b"])
async def test_logout_on_either_process_closes_sockets_on_both(
    chat_cluster: ChatCluster, sockets: Sockets, where: str
) -> None:
    """A logout handled by one process closes the session's sockets on both, with 4499 logout."""
    a, b = chat_cluster.a, chat_cluster.b
    key, csrf_token = await a.new_session("alice")
    on_a = await sockets.open(a, "/ws/chat/", session_auth(key))
    on_b = await sockets.open(b, "/ws/chat/lobby/", session_auth(key))
    await on_b.receive()  # presence
    server = a if where == "a" else b
    reply = await server.http(
        "POST",
        "/api/auth/logout/",
        {},
        cookies={"sessionid": key, "csrftoken": csrf_token},
        headers={"X-CSRFToken": csrf_token, "Origin": server.origin},
    )
    assert (reply.status, reply.body) == (200, {"ok": True})
    for socket in (on_a, on_b):
        end = await socket.closure()
        assert (end.frame, end.code) == (disconnect_frame(4499, "logout"), 4499)


async def test_removal_on_a_closes_the_socket_on_b(chat_cluster: ChatCluster, sockets: Sockets) -> None:
    """alice removes bob through process A; bob's socket on process B hears ``warden.left`` and closes
    with 4403; the removal request answers only once process B confirmed."""
    a, b = chat_cluster.a, chat_cluster.b
    room = a.db.create_room(members=["bob"])
    bob = await sockets.room(b, room, "bob")
    headers = {"Authorization": f"Token {await a.token('alice')}"}
    reply = await a.http("POST", f"/api/rooms/{room}/members/bob/remove/", {}, headers=headers)
    assert (reply.status, reply.body) == (200, {"ok": True})
    end = await bob.closure()
    left = {"type": "warden.left", "group": f"chat.{room}", "reason": "removed"}
    assert ([frame for _, frame in end.before], end.frame, end.code) == ([left], disconnect_frame(4403), 4403)


async def test_dead_process_leaves_presence_within_its_lease(
    chat_cluster: ChatCluster, sockets: Sockets
) -> None:
    """bob's socket on a process killed with SIGKILL is gone from presence once its lease runs out."""
    a = chat_cluster.a
    room = a.db.create_room(members=["alice", "bob", "carol"])
    doomed = chat_cluster.start_another("doomed")
    try:
        alice = await sockets.room(a, room, "alice")
        await sockets.room(doomed, room, "bob")
        assert await alice.receive() == presence(room, "alice", "bob")
    finally:
        doomed.live.process.send_signal(signal.SIGKILL)
        doomed.live.process.wait()
    await asyncio.sleep(CLUSTER_LEASE + 0.5)
    await sockets.room(a, room, "carol")
    assert await alice.receive() == presence(room, "alice", "carol")


async def test_removal_on_a_ends_a_graphql_subscription_on_b(chat_cluster: ChatCluster) -> None:
    """bob's GraphQL subscription on process B ends when alice removes him through process A; the
    socket stays open."""
    a, b = chat_cluster.a, chat_cluster.b
    room = a.db.create_room(members=["alice", "bob"])
    async with gql_socket(b, "/graphql/") as listener, gql_socket(a, "/graphql/") as sender:
        await listener.init({"Authorization": f"Bearer {await b.jwt('bob')}"})
        await sender.init({"Authorization": f"Token {await a.token('alice')}"})
        await operation(listener, "sub", SUBSCRIBE, room=room)
        await subscribed(listener, sender, "sub", room)
        headers = {"Authorization": f"Token {await a.token('alice')}"}
        reply = await a.http("POST", f"/api/rooms/{room}/members/bob/remove/", {}, headers=headers)
        ended = await ending(listener, "sub")
        rooms = await listener.query("{ rooms { slug } }")
    assert (reply.status, reply.body) == (200, {"ok": True})
    assert ended == [
        {
            "id": "sub",
            "type": "next",
            "payload": {"data": None, "errors": [{"message": f"left room '{room}': removed"}]},
        },
        {"id": "sub", "type": "complete"},
    ]
    assert {"slug": room} not in rooms["rooms"]
