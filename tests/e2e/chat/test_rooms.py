"""Private rooms: refused at connect with 4403 (unknown rooms alike); a staff removal takes the member's
sockets out of the room (warden's ``warden.left``), closing single-room sockets."""

from __future__ import annotations

import pytest

from ..lifecycle import disconnect_frame
from .support import ChatServer, Sockets, assert_message, error, presence, token_auth, unique_text


def warden_left(room: str) -> dict[str, str]:
    """Warden's frame when a staff removal took the socket out of the room's group."""
    return {"type": "warden.left", "group": f"chat.{room}", "reason": "removed"}


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
