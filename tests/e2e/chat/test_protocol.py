"""Every frame of the chat protocol (docs/chat-protocol.md) through a real server, uvicorn and daphne."""

from __future__ import annotations

from .support import ChatServer, Sockets, assert_message, presence, token_auth, unique_text


async def test_room_socket_gets_presence_on_connect(chat_server: ChatServer, sockets: Sockets) -> None:
    """Opening /ws/chat/<room>/ sends the room's presence, the new user included."""
    room = chat_server.db.create_room(members=["alice"])
    socket = await sockets.open(
        chat_server, f"/ws/chat/{room}/", token_auth(await chat_server.token("alice"))
    )
    assert await socket.receive() == presence(room, "alice")
    await socket.quiet()


async def test_room_message_reaches_every_member(chat_server: ChatServer, sockets: Sockets) -> None:
    """A message sent on /ws/chat/<room>/ reaches the sender and the other member, identically."""
    room = chat_server.db.create_room(members=["alice", "bob"])
    alice = await sockets.room(chat_server, room, "alice")
    bob = await sockets.room(chat_server, room, "bob")
    assert await alice.receive() == presence(room, "alice", "bob")
    text = unique_text()
    await alice.send({"type": "message", "text": text})
    sent = await alice.receive()
    assert_message(sent, room, "alice", text)
    assert await bob.receive() == sent


async def test_message_is_stored_before_broadcast_with_its_id(
    chat_server: ChatServer, sockets: Sockets
) -> None:
    """The broadcast carries the id of the row it was saved as."""
    room = chat_server.db.create_room(members=["alice"])
    alice = await sockets.room(chat_server, room, "alice")
    text = unique_text()
    await alice.send({"type": "message", "text": text})
    assert [assert_message(await alice.receive(), room, "alice", text)] == chat_server.db.message_ids(text)


async def test_room_socket_ignores_a_room_field(chat_server: ChatServer, sockets: Sockets) -> None:
    """On /ws/chat/<room>/ the socket's room is the URL's; a "room" field in the frame changes nothing."""
    room = chat_server.db.create_room(members=["alice"])
    alice = await sockets.room(chat_server, room, "alice")
    text = unique_text()
    await alice.send({"type": "message", "room": "lobby", "text": text})
    assert_message(await alice.receive(), room, "alice", text)


async def test_text_of_2000_characters_is_delivered(chat_server: ChatServer, sockets: Sockets) -> None:
    """The longest allowed text (2000 characters) goes through unchanged."""
    room = chat_server.db.create_room(members=["alice"])
    alice = await sockets.room(chat_server, room, "alice")
    text = "é" * 2000
    await alice.send({"type": "message", "text": text})
    assert_message(await alice.receive(), room, "alice", text)


async def test_join_answers_joined_then_presence(chat_server: ChatServer, sockets: Sockets) -> None:
    """{"type": "join"} answers {"type": "joined"}, then the room's presence."""
    room = chat_server.db.create_room(members=["alice"])
    alice = await sockets.multi(chat_server, "alice")
    await alice.send({"type": "join", "room": room})
    assert await alice.receive_all(2) == [{"type": "joined", "room": room}, presence(room, "alice")]


async def test_join_is_announced_to_the_room(chat_server: ChatServer, sockets: Sockets) -> None:
    """A join on /ws/chat/ sends the new presence to the sockets already in the room."""
    room = chat_server.db.create_room(members=["alice", "bob"])
    alice = await sockets.room(chat_server, room, "alice")
    bob = await sockets.multi(chat_server, "bob")
    await bob.send({"type": "join", "room": room})
    assert await alice.receive() == presence(room, "alice", "bob")


async def test_join_of_a_joined_room_answers_joined_only(chat_server: ChatServer, sockets: Sockets) -> None:
    """Joining a room twice answers joined again and changes nothing else."""
    room = chat_server.db.create_room(members=["alice"])
    alice = await sockets.multi(chat_server, "alice")
    await alice.send({"type": "join", "room": room})
    await alice.receive_all(2)
    await alice.send({"type": "join", "room": room})
    assert await alice.receive() == {"type": "joined", "room": room}
    await alice.quiet()


async def test_multi_room_message_reaches_the_room(chat_server: ChatServer, sockets: Sockets) -> None:
    """{"type": "message", "room", "text"} on /ws/chat/ reaches the room's sockets of both kinds."""
    room = chat_server.db.create_room(members=["alice", "bob"])
    bob = await sockets.room(chat_server, room, "bob")
    alice = await sockets.multi(chat_server, "alice")
    await alice.send({"type": "join", "room": room})
    await alice.receive_all(2)
    await bob.receive()  # presence with alice
    text = unique_text()
    await alice.send({"type": "message", "room": room, "text": text})
    sent = await alice.receive()
    assert_message(sent, room, "alice", text)
    assert await bob.receive() == sent


async def test_one_socket_hears_each_joined_room(chat_server: ChatServer, sockets: Sockets) -> None:
    """A multi-room socket receives the messages of every room it joined, each labelled with its room."""
    first, second = (chat_server.db.create_room(members=["alice", "bob"]) for _ in range(2))
    alice = await sockets.multi(chat_server, "alice")
    for room in (first, second):
        await alice.send({"type": "join", "room": room})
        await alice.receive_all(2)
    bob_first = await sockets.room(chat_server, first, "bob")
    bob_second = await sockets.room(chat_server, second, "bob")
    assert await alice.receive_all(2) == [presence(first, "alice", "bob"), presence(second, "alice", "bob")]
    await bob_first.send({"type": "message", "text": "one"})
    assert_message(await alice.receive(), first, "bob", "one")
    await bob_second.send({"type": "message", "text": "two"})
    assert_message(await alice.receive(), second, "bob", "two")


async def test_leave_answers_left_and_tells_the_room(chat_server: ChatServer, sockets: Sockets) -> None:
    """{"type": "leave"} answers {"type": "left"}; the room gets a presence without the leaver."""
    room = chat_server.db.create_room(members=["alice", "bob"])
    alice = await sockets.room(chat_server, room, "alice")
    bob = await sockets.multi(chat_server, "bob")
    await bob.send({"type": "join", "room": room})
    await bob.receive_all(2)
    assert await alice.receive() == presence(room, "alice", "bob")
    await bob.send({"type": "leave", "room": room})
    assert await bob.receive() == {"type": "left", "room": room}
    assert await alice.receive() == presence(room, "alice")


async def test_left_room_is_not_delivered(chat_server: ChatServer, sockets: Sockets) -> None:
    """After leaving a room a socket receives none of its messages."""
    room = chat_server.db.create_room(members=["alice", "bob"])
    alice = await sockets.room(chat_server, room, "alice")
    bob = await sockets.multi(chat_server, "bob")
    await bob.send({"type": "join", "room": room})
    await bob.receive_all(2)
    await bob.send({"type": "leave", "room": room})
    assert await bob.receive() == {"type": "left", "room": room}
    await alice.receive_all(2)  # presence with bob, then without
    await alice.send({"type": "message", "text": unique_text()})
    await alice.receive()
    await bob.quiet()


async def test_staff_may_open_a_private_room_without_membership(
    chat_server: ChatServer, sockets: Sockets
) -> None:
    """alice is staff: she may open a private room she is not a member of."""
    room = chat_server.db.create_room(members=["bob"])
    alice = await sockets.multi(chat_server, "alice")
    await alice.send({"type": "join", "room": room})
    assert await alice.receive_all(2) == [{"type": "joined", "room": room}, presence(room, "alice")]


async def test_public_room_is_open_to_everyone(chat_server: ChatServer, sockets: Sockets) -> None:
    """A public room takes users who are not members of it (the seeded lobby)."""
    carol = await sockets.multi(chat_server, "carol")
    await carol.send({"type": "join", "room": "lobby"})
    joined, frame = await carol.receive_all(2)
    assert joined == {"type": "joined", "room": "lobby"}
    assert (frame["type"], frame["room"], "carol" in frame["users"]) == ("presence", "lobby", True)
