"""The example's GraphQL API (``/graphql/``, Strawberry) behind warden on a real server.

Over WebSocket the credential is a JWT or DRF token in ``connectionParams``; over HTTP, Django's session.
Messages sent through GraphQL reach the room's subscriptions through the chat's channel-layer group.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any
from urllib.parse import urlencode

from ..graphql.gql import gql_socket, refused
from .support import ChatServer, unique_text

SUBSCRIBE = "subscription ($room: String!) { messages(room: $room) { room user text } }"
SEND = "mutation ($room: String!, $text: String!) { send(room: $room, text: $text) { id user } }"


def visible_slugs(server: ChatServer, username: str) -> list[dict[str, str]]:
    """The rooms a non-staff user may open, from the server's database (other tests add rooms)."""
    rows = server.db.rows(
        "SELECT slug FROM chat_room WHERE NOT private OR id IN "
        "(SELECT room_id FROM chat_room_members WHERE user_id = %s) ORDER BY slug",
        [server.db.user_id(username)],
    )
    return [{"slug": slug} for (slug,) in rows]


async def operation(gql: Any, op_id: str, query: str, **variables: Any) -> None:
    await gql.send({"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables}})


async def next_payload(gql: Any, op_id: str, timeout: float = 5.0) -> dict[str, Any]:
    while True:
        frame = await gql.next_frame(timeout)
        assert frame is not None, "socket closed"
        if frame.get("id") == op_id and frame["type"] == "next":
            payload: dict[str, Any] = frame["payload"]
            return payload


async def test_message_sent_by_mutation_reaches_a_subscription(chat_server: ChatServer) -> None:
    """bob subscribes to the lobby with a JWT; alice's ``send`` (DRF token) arrives on his subscription."""
    text = unique_text()
    bob = {"Authorization": f"Bearer {await chat_server.jwt('bob')}"}
    alice = {"Authorization": f"Token {await chat_server.token('alice')}"}
    async with (
        gql_socket(chat_server, "/graphql/") as listener,
        gql_socket(chat_server, "/graphql/") as sender,
    ):
        assert await listener.init(bob) == {"type": "connection_ack"}
        await operation(listener, "sub", SUBSCRIBE, room="lobby")
        assert await sender.init(alice) == {"type": "connection_ack"}
        # The subscription joins its group in the background: send until it hears one.
        heard: dict[str, Any] | None = None
        for attempt in range(10):
            await operation(sender, f"send{attempt}", SEND, room="lobby", text=text)
            sent = await next_payload(sender, f"send{attempt}")
            with contextlib.suppress(TimeoutError):
                heard = await next_payload(listener, "sub", timeout=1.0)
                break
    assert sent["data"]["send"]["user"] == "alice"
    assert heard == {"data": {"messages": {"room": "lobby", "user": "alice", "text": text}}}


async def test_private_room_subscription_is_refused_to_a_non_member(chat_server: ChatServer) -> None:
    """carol may not follow the private room: the operation errors, the socket stays open."""
    carol = {"authToken": await chat_server.jwt("carol")}
    async with gql_socket(chat_server, "/graphql/") as gql:
        await gql.init(carol)
        await operation(gql, "sub", SUBSCRIBE, room="private")
        frame = await gql.next_frame()
        rooms = await gql.query("{ rooms { slug } }")
    assert frame is not None
    assert frame == {
        "id": "sub",
        "type": "next",
        "payload": {"data": None, "errors": [{"message": "no room 'private' for you"}]},
    }
    assert rooms == {"rooms": visible_slugs(chat_server, "carol")}
    assert {"slug": "private"} not in rooms["rooms"]


async def test_websocket_without_credentials_closes_4401(chat_server: ChatServer) -> None:
    """An empty ``connectionParams`` on the example's ``/graphql/`` socket: 4401, no warden frame."""
    end, _ = await refused(chat_server, "/graphql/")
    assert end.code == 4401


async def test_http_query_with_the_session(http_server: ChatServer) -> None:
    """``GET /graphql/?query=...`` with bob's session answers his rooms; without it, an error."""
    query = "/graphql/?" + urlencode(
        {"query": '{ rooms { slug } history(room: "lobby", limit: 1) { room } }'}
    )
    signed_in = await http_server.http("GET", query, cookies={"sessionid": await http_server.session("bob")})
    anonymous = await http_server.http("GET", query)
    assert (signed_in.status, signed_in.body["data"]["rooms"]) == (200, visible_slugs(http_server, "bob"))
    assert {"slug": "private"} in signed_in.body["data"]["rooms"]
    assert json.dumps(anonymous.body["errors"][0]["message"]) == '"sign in first"'


async def remove(server: ChatServer, room: str, username: str) -> None:
    """alice (staff) removes ``username`` from ``room`` through the API (it waits for every process)."""
    headers = {"Authorization": f"Token {await server.token('alice')}"}
    reply = await server.http("POST", f"/api/rooms/{room}/members/{username}/remove/", {}, headers=headers)
    assert (reply.status, reply.body) == (200, {"ok": True})


async def subscribed(listener: Any, sender: Any, op_id: str, room: str) -> dict[str, Any]:
    """Send to ``room`` until ``op_id`` on ``listener`` hears it (the join runs in the background)."""
    for attempt in range(10):
        await operation(sender, f"{op_id}-send{attempt}", SEND, room=room, text=unique_text())
        await next_payload(sender, f"{op_id}-send{attempt}")
        with contextlib.suppress(TimeoutError):
            return await next_payload(listener, op_id, timeout=1.0)
    raise AssertionError(f"{op_id} never heard {room}")


async def ending(gql: Any, op_id: str) -> list[dict[str, Any]]:
    """Read until ``op_id`` completes; its last two frames (messages sent before the end may precede)."""
    frames: list[dict[str, Any]] = []
    while not frames or frames[-1]["type"] != "complete":
        frame = await gql.next_frame()
        assert frame is not None, "socket closed"
        if frame.get("id") == op_id:
            frames.append(frame)
    return frames[-2:]


async def test_subscription_to_an_unknown_room_reads_like_a_private_one(chat_server: ChatServer) -> None:
    """The room policy refuses a room that does not exist with the same error as a private one."""
    carol = {"authToken": await chat_server.jwt("carol")}
    async with gql_socket(chat_server, "/graphql/") as gql:
        await gql.init(carol)
        await operation(gql, "sub", SUBSCRIBE, room="no-such-room")
        frame = await gql.next_frame()
        complete = await gql.next_frame()
    assert frame == {
        "id": "sub",
        "type": "next",
        "payload": {"data": None, "errors": [{"message": "no room 'no-such-room' for you"}]},
    }
    assert complete == {"id": "sub", "type": "complete"}


async def test_subscription_to_a_private_room_follows_its_policy(chat_server: ChatServer) -> None:
    """carol, added to a new private room in the database, may follow it: the policy asks the database."""
    room = chat_server.db.create_room(members=["alice", "carol"])
    carol = {"authToken": await chat_server.jwt("carol")}
    alice = {"Authorization": f"Token {await chat_server.token('alice')}"}
    async with (
        gql_socket(chat_server, "/graphql/") as listener,
        gql_socket(chat_server, "/graphql/") as sender,
    ):
        await listener.init(carol)
        await sender.init(alice)
        await operation(listener, "sub", SUBSCRIBE, room=room)
        heard = await subscribed(listener, sender, "sub", room)
    assert heard["data"]["messages"]["room"] == room


async def test_removal_ends_the_subscription_and_keeps_the_socket(chat_server: ChatServer) -> None:
    """bob removed from a room: his subscription ends with an error, his lobby one and the socket stay."""
    room = chat_server.db.create_room(members=["alice", "bob"])
    bob = {"Authorization": f"Bearer {await chat_server.jwt('bob')}"}
    alice = {"Authorization": f"Token {await chat_server.token('alice')}"}
    async with (
        gql_socket(chat_server, "/graphql/") as listener,
        gql_socket(chat_server, "/graphql/") as sender,
    ):
        await listener.init(bob)
        await sender.init(alice)
        await operation(listener, "room", SUBSCRIBE, room=room)
        await subscribed(listener, sender, "room", room)
        await operation(listener, "lobby", SUBSCRIBE, room="lobby")
        await subscribed(listener, sender, "lobby", "lobby")
        await remove(chat_server, room, "bob")
        ended = await ending(listener, "room")
        # Sent after the removal returned: it must not reach bob; the lobby still does.
        await operation(sender, "after", SEND, room=room, text=unique_text())
        await next_payload(sender, "after")
        text = unique_text()
        await operation(sender, "lobby-after", SEND, room="lobby", text=text)
        await next_payload(sender, "lobby-after")
        lobby = await next_payload(listener, "lobby")
        rooms = await listener.query("{ rooms { slug } }")
    assert ended == [
        {
            "id": "room",
            "type": "next",
            "payload": {"data": None, "errors": [{"message": f"left room '{room}': removed"}]},
        },
        {"id": "room", "type": "complete"},
    ]
    assert lobby == {"data": {"messages": {"room": "lobby", "user": "alice", "text": text}}}
    assert [f for f in listener.frames if f.get("id") == "room"][-2:] == ended
    assert {"slug": room} not in rooms["rooms"]


async def test_room_made_private_ends_a_non_members_subscription(chat_server: ChatServer) -> None:
    """A public room turned private re-checks its policy: carol's subscription ends with ``forbidden``."""
    room = chat_server.db.create_room(private=False)
    carol = {"authToken": await chat_server.jwt("carol")}
    alice = {"Authorization": f"Token {await chat_server.token('alice')}"}
    async with (
        gql_socket(chat_server, "/graphql/") as listener,
        gql_socket(chat_server, "/graphql/") as sender,
    ):
        await listener.init(carol)
        await sender.init(alice)
        await operation(listener, "sub", SUBSCRIBE, room=room)
        await subscribed(listener, sender, "sub", room)
        reply = await chat_server.http(
            "PATCH",
            f"/api/rooms/{room}/",
            {"private": True},
            headers={"Authorization": alice["Authorization"]},
        )
        ended = await ending(listener, "sub")
    assert reply.status == 200
    assert ended == [
        {
            "id": "sub",
            "type": "next",
            "payload": {"data": None, "errors": [{"message": f"left room '{room}': forbidden"}]},
        },
        {"id": "sub", "type": "complete"},
    ]
