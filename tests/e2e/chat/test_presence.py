"""Presence: one entry per user however many sockets, sent on every join, leave and disconnect."""

from __future__ import annotations

from .support import ChatServer, Sockets, presence


async def test_two_users_see_each_other(chat_server: ChatServer, sockets: Sockets) -> None:
    """When bob joins alice's room, both receive [alice, bob]."""
    room = chat_server.db.create_room(members=["alice", "bob"])
    alice = await sockets.room(chat_server, room, "alice")
    bob = await sockets.room(chat_server, room, "bob")
    assert await alice.receive() == presence(room, "alice", "bob")
    await bob.quiet()


async def test_disconnect_is_announced(chat_server: ChatServer, sockets: Sockets) -> None:
    """When bob's socket closes, alice receives the presence without him."""
    room = chat_server.db.create_room(members=["alice", "bob"])
    alice = await sockets.room(chat_server, room, "alice")
    bob = await sockets.room(chat_server, room, "bob")
    await alice.receive()
    await bob.close()
    assert await alice.receive() == presence(room, "alice")


async def test_second_socket_of_a_user_is_one_entry(chat_server: ChatServer, sockets: Sockets) -> None:
    """alice's second socket in a room sends presence again, with alice listed once."""
    room = chat_server.db.create_room(members=["alice", "bob"])
    bob = await sockets.room(chat_server, room, "bob")
    first = await sockets.room(chat_server, room, "alice")
    assert await bob.receive() == presence(room, "alice", "bob")
    await sockets.room(chat_server, room, "alice")  # reads its own presence frame
    assert await first.receive() == presence(room, "alice", "bob")
    assert await bob.receive() == presence(room, "alice", "bob")


async def test_user_stays_present_until_the_last_socket_closes(
    chat_server: ChatServer, sockets: Sockets
) -> None:
    """Closing one of alice's two sockets keeps her listed; closing the other removes her."""
    room = chat_server.db.create_room(members=["alice", "bob"])
    bob = await sockets.room(chat_server, room, "bob")
    first = await sockets.room(chat_server, room, "alice")
    second = await sockets.room(chat_server, room, "alice")
    await bob.receive_all(2)
    await first.close()
    assert await bob.receive() == presence(room, "alice", "bob")
    await second.close()
    assert await bob.receive() == presence(room, "bob")


async def test_both_routes_of_one_user_are_one_entry(chat_server: ChatServer, sockets: Sockets) -> None:
    """A user in a room on /ws/chat/<room>/ and on /ws/chat/ is listed once."""
    room = chat_server.db.create_room(members=["bob"])
    single = await sockets.room(chat_server, room, "bob")
    multi = await sockets.multi(chat_server, "bob")
    await multi.send({"type": "join", "room": room})
    assert await multi.receive_all(2) == [{"type": "joined", "room": room}, presence(room, "bob")]
    assert await single.receive() == presence(room, "bob")


async def test_presence_of_one_room_is_not_sent_to_another(chat_server: ChatServer, sockets: Sockets) -> None:
    """A join in one room sends nothing to the sockets of another room."""
    first = chat_server.db.create_room(members=["alice", "bob"])
    second = chat_server.db.create_room(members=["alice", "bob"])
    alice = await sockets.room(chat_server, first, "alice")
    await sockets.room(chat_server, second, "bob")
    await alice.quiet()
