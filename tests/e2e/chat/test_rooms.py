"""Private rooms: refused at connect with 4403 (unknown rooms alike); a staff removal, and making a room
private, take the sockets that may no longer be there out of the room (warden's ``warden.left``),
closing single-room sockets."""

from __future__ import annotations

import pytest

from ..lifecycle import disconnect_frame
from .support import ChatServer, Sockets, assert_message, error, presence, token_auth, unique_text


def warden_left(room: str, reason: str = "removed") -> dict[str, str]:
    """Warden's frame when a staff removal (or a re-check the policy refused) took the socket out of
    the room's group."""
    return {"type": "warden.left", "group": f"chat.{room}", "reason": reason}


@pytest.mark.parametrize("room", ["private", "no-such-room", "bad%20name"])
async def test_room_socket_refused_with_4403(chat_server: ChatServer, sockets: Sockets, room: str) -> None:
    """carol on a private room, an unknown room or a malformed name: the same 4403 frame and close."""
    socket = await sockets.open(
        chat_server, f"/ws/chat/{room}/", token_auth(await chat_server.token("carol"))
    )
    end = await socket.closure()
    assert (end.before, end.frame, end.code) == ([], disconnect_frame(4403), 4403)


async def test_member_opens_the_private_room(chat_server: ChatServer, sockets: Sockets) -> None:
    """bob, a member of the seeded private room, opens it."""
    socket = await sockets.open(chat_server, "/ws/chat/private/", token_auth(await chat_server.token("bob")))
    frame = await socket.receive()
    assert (frame["type"], frame["room"], "bob" in frame["users"]) == ("presence", "private", True)


async def remove(server: ChatServer, room: str, username: str) -> None:
    """alice (staff) removes ``username`` from ``room`` through the API."""
    headers = {"Authorization": f"Token {await server.token('alice')}"}
    reply = await server.http("POST", f"/api/rooms/{room}/members/{username}/remove/", {}, headers=headers)
    assert (reply.status, reply.body) == (200, {"ok": True})


async def test_removal_closes_the_members_room_socket(chat_server: ChatServer, sockets: Sockets) -> None:
    """A removed member's /ws/chat/<room>/ socket hears ``warden.left`` and closes with 4403; the
    others see him go."""
    room = chat_server.db.create_room(members=["alice", "bob"])
    alice = await sockets.room(chat_server, room, "alice")
    bob = await sockets.room(chat_server, room, "bob")
    await alice.receive()
    await remove(chat_server, room, "bob")
    end = await bob.closure()
    before = [frame for _, frame in end.before]
    assert (before, end.frame, end.code) == ([warden_left(room)], disconnect_frame(4403), 4403)
    assert await alice.receive() == presence(room, "alice")
    assert chat_server.db.members(room) == ["alice"]


async def test_removal_keeps_the_members_sockets_for_other_rooms(
    chat_server: ChatServer, sockets: Sockets
) -> None:
    """Removal from one room leaves the member's socket in another room open."""
    room = chat_server.db.create_room(members=["bob"])
    other = chat_server.db.create_room(members=["bob"])
    await sockets.room(chat_server, room, "bob")
    bob_other = await sockets.room(chat_server, other, "bob")
    await remove(chat_server, room, "bob")
    text = unique_text()
    await bob_other.send({"type": "message", "text": text})
    assert_message(await bob_other.receive(), other, "bob", text)


async def test_removal_leaves_the_room_on_the_multi_room_socket(
    chat_server: ChatServer, sockets: Sockets
) -> None:
    """On /ws/chat/ a removed member gets ``warden.left`` and {"type": "left", "reason": "removed"};
    the socket stays."""
    room = chat_server.db.create_room(members=["bob"])
    other = chat_server.db.create_room(members=["bob"])
    bob = await sockets.multi(chat_server, "bob")
    for slug in (room, other):
        await bob.send({"type": "join", "room": slug})
        await bob.receive_all(2)
    await remove(chat_server, room, "bob")
    assert await bob.receive_all(2) == [
        warden_left(room),
        {"type": "left", "room": room, "reason": "removed"},
    ]
    text = unique_text()
    await bob.send({"type": "message", "room": other, "text": text})
    assert_message(await bob.receive(), other, "bob", text)


async def test_removed_room_is_not_delivered_any_more(chat_server: ChatServer, sockets: Sockets) -> None:
    """After removal, the room's messages no longer reach the member's multi-room socket."""
    room = chat_server.db.create_room(members=["alice", "bob"])
    alice = await sockets.room(chat_server, room, "alice")
    bob = await sockets.multi(chat_server, "bob")
    await bob.send({"type": "join", "room": room})
    await bob.receive_all(2)
    await alice.receive()
    await remove(chat_server, room, "bob")
    assert await bob.receive_all(2) == [
        warden_left(room),
        {"type": "left", "room": room, "reason": "removed"},
    ]
    assert await alice.receive() == presence(room, "alice")
    await alice.send({"type": "message", "text": unique_text()})
    await alice.receive()
    await bob.quiet()


async def test_removed_member_cannot_join_again(chat_server: ChatServer, sockets: Sockets) -> None:
    """Joining the room again after removal answers forbidden."""
    room = chat_server.db.create_room(members=["bob"])
    bob = await sockets.multi(chat_server, "bob")
    await bob.send({"type": "join", "room": room})
    await bob.receive_all(2)
    await remove(chat_server, room, "bob")
    await bob.receive_all(2)
    await bob.send({"type": "join", "room": room})
    assert await bob.receive() == error("forbidden", "you may not join this room", room=room)


async def make_private(server: ChatServer, room: str) -> None:
    """alice (staff) makes ``room`` private through the API."""
    headers = {"Authorization": f"Token {await server.token('alice')}"}
    reply = await server.http("PATCH", f"/api/rooms/{room}/", {"private": True}, headers=headers)
    assert (reply.status, reply.body["private"]) == (200, True)


async def test_making_a_room_private_closes_non_members_room_sockets(
    chat_server: ChatServer, sockets: Sockets
) -> None:
    """carol's /ws/chat/<room>/ socket closes with 4403 when the room turns private; bob, a member, stays."""
    room = chat_server.db.create_room(private=False, members=["bob"])
    bob = await sockets.room(chat_server, room, "bob")
    carol = await sockets.room(chat_server, room, "carol")
    assert await bob.receive() == presence(room, "bob", "carol")
    await make_private(chat_server, room)
    end = await carol.closure()
    before = [frame for _, frame in end.before]
    assert (before, end.frame, end.code) == ([warden_left(room, "forbidden")], disconnect_frame(4403), 4403)
    assert await bob.receive() == presence(room, "bob")
    text = unique_text()
    await bob.send({"type": "message", "text": text})
    assert_message(await bob.receive(), room, "bob", text)


async def test_making_a_room_private_stops_its_messages_to_non_members(
    chat_server: ChatServer, sockets: Sockets
) -> None:
    """On /ws/chat/ carol is told she left the room, and bob's next message does not reach her."""
    room = chat_server.db.create_room(private=False, members=["bob"])
    other = chat_server.db.create_room(members=["carol"])
    bob = await sockets.room(chat_server, room, "bob")
    carol = await sockets.multi(chat_server, "carol")
    for slug in (room, other):
        await carol.send({"type": "join", "room": slug})
        await carol.receive_all(2)
    assert await bob.receive() == presence(room, "bob", "carol")
    await make_private(chat_server, room)
    assert await carol.receive_all(2) == [
        warden_left(room, "forbidden"),
        {"type": "left", "room": room, "reason": "removed"},
    ]
    assert await bob.receive() == presence(room, "bob")
    await bob.send({"type": "message", "text": unique_text()})
    await bob.receive()
    await carol.quiet()
    text = unique_text()
    await carol.send({"type": "message", "room": other, "text": text})
    assert_message(await carol.receive(), other, "carol", text)


async def test_making_a_room_private_keeps_staff_in_it(chat_server: ChatServer, sockets: Sockets) -> None:
    """alice (staff, not a member) may open every room: her socket stays and keeps receiving."""
    room = chat_server.db.create_room(private=False, members=["bob"])
    alice = await sockets.room(chat_server, room, "alice")
    bob = await sockets.room(chat_server, room, "bob")
    assert await alice.receive() == presence(room, "alice", "bob")
    await make_private(chat_server, room)
    text = unique_text()
    await bob.send({"type": "message", "text": text})
    assert_message(await alice.receive(), room, "bob", text)
