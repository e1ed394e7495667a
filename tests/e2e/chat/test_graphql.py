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
