"""Every credential the chat accepts opens both chat routes, on uvicorn and on daphne."""

from __future__ import annotations

import pytest

from ..lifecycle import disconnect_frame
from .support import (
    NO_AUTH,
    Auth,
    ChatServer,
    ChatSocket,
    Sockets,
    jwt_auth,
    presence,
    session_auth,
    ticket_auth,
    token_auth,
)

KINDS = ("session", "jwt", "token", "ticket")


async def credential(server: ChatServer, kind: str, username: str) -> Auth:
    if kind == "session":
        return session_auth(await server.session(username))
    if kind == "jwt":
        return jwt_auth(await server.jwt(username))
    if kind == "token":
        return token_auth(await server.token(username))
    return ticket_auth(await server.ticket(username))


async def first_message(server: ChatServer, sockets: Sockets, path: str, username: str) -> ChatSocket:
    """Open ``path`` with no credential and authenticate with a ``warden.auth`` frame (a JWT)."""
    socket = await sockets.open(server, path, NO_AUTH)
    await socket.send({"type": "warden.auth", "token": await server.jwt(username)})
    authenticated = await socket.receive()
    assert authenticated["type"] == "warden.authenticated", authenticated
    return socket


@pytest.mark.parametrize("kind", KINDS)
async def test_credential_opens_the_room_route(chat_server: ChatServer, sockets: Sockets, kind: str) -> None:
    """Each credential opens /ws/chat/<room>/ as its user, who is then in the room's presence."""
    room = chat_server.db.create_room(members=["bob"])
    socket = await sockets.open(chat_server, f"/ws/chat/{room}/", await credential(chat_server, kind, "bob"))
    assert await socket.receive() == presence(room, "bob")


@pytest.mark.parametrize("kind", KINDS)
async def test_credential_opens_the_multi_room_route(
    chat_server: ChatServer, sockets: Sockets, kind: str
) -> None:
    """Each credential opens /ws/chat/ as its user, who can then join a room."""
    room = chat_server.db.create_room(members=["bob"])
    socket = await sockets.open(chat_server, "/ws/chat/", await credential(chat_server, kind, "bob"))
    await socket.send({"type": "join", "room": room})
    assert await socket.receive_all(2) == [{"type": "joined", "room": room}, presence(room, "bob")]


async def test_first_message_opens_the_room_route(chat_server: ChatServer, sockets: Sockets) -> None:
    """With no credential, a warden.auth frame opens /ws/chat/<room>/; presence follows it."""
    room = chat_server.db.create_room(members=["carol"])
    socket = await first_message(chat_server, sockets, f"/ws/chat/{room}/", "carol")
    assert await socket.receive() == presence(room, "carol")


async def test_first_message_opens_the_multi_room_route(chat_server: ChatServer, sockets: Sockets) -> None:
    """With no credential, a warden.auth frame opens /ws/chat/, and joins work after it."""
    room = chat_server.db.create_room(members=["carol"])
    socket = await first_message(chat_server, sockets, "/ws/chat/", "carol")
    await socket.send({"type": "join", "room": room})
    assert await socket.receive_all(2) == [{"type": "joined", "room": room}, presence(room, "carol")]


async def test_first_message_with_a_drf_token(chat_server: ChatServer, sockets: Sockets) -> None:
    """A warden.auth frame may carry a DRF token with "scheme": "token"."""
    room = chat_server.db.create_room(members=["carol"])
    socket = await sockets.open(chat_server, f"/ws/chat/{room}/", NO_AUTH)
    await socket.send({"type": "warden.auth", "token": await chat_server.token("carol"), "scheme": "token"})
    authenticated = await socket.receive()
    assert (authenticated["type"], authenticated["expires_at"]) == ("warden.authenticated", None)
    assert await socket.receive() == presence(room, "carol")


async def test_jwt_socket_gets_the_warden_subprotocol_back(chat_server: ChatServer, sockets: Sockets) -> None:
    """The server answers ["warden", "bearer.<jwt>"] with "warden", never the token."""
    socket = await sockets.open(chat_server, "/ws/chat/", jwt_auth(await chat_server.jwt("alice")))
    assert socket.subprotocol == "warden"


@pytest.mark.parametrize("path", ["/ws/chat/", "/ws/chat/lobby/"])
async def test_chat_frame_before_warden_auth_closes_with_4400(
    chat_server: ChatServer, sockets: Sockets, path: str
) -> None:
    """A socket with no credential whose first frame is not warden.auth is closed with 4400."""
    socket = await sockets.open(chat_server, path, NO_AUTH)
    await socket.send({"type": "message", "room": "lobby", "text": "hi"})
    end = await socket.closure()
    assert (end.frame, end.code, end.before) == (disconnect_frame(4400), 4400, [])


@pytest.mark.parametrize("path", ["/ws/chat/", "/ws/chat/lobby/"])
async def test_bad_token_in_warden_auth_closes_with_4401(
    chat_server: ChatServer, sockets: Sockets, path: str
) -> None:
    """A warden.auth frame with a token that is not valid closes the socket with 4401."""
    socket = await sockets.open(chat_server, path, NO_AUTH)
    await socket.send({"type": "warden.auth", "token": "not-a-valid-token", "scheme": "token"})
    end = await socket.closure()
    assert (end.frame, end.code) == (disconnect_frame(4401), 4401)


async def test_ticket_is_single_use(chat_server: ChatServer, sockets: Sockets) -> None:
    """A ticket that opened one socket is refused with 4401 on the next."""
    auth = ticket_auth(await chat_server.ticket("alice"))
    first = await sockets.open(chat_server, "/ws/chat/lobby/", auth)
    assert (await first.receive())["type"] == "presence"
    second = await sockets.open(chat_server, "/ws/chat/lobby/", auth)
    end = await second.closure()
    assert (end.frame, end.code) == (disconnect_frame(4401), 4401)


async def test_session_cookie_from_a_foreign_origin_is_refused(
    chat_server: ChatServer, sockets: Sockets
) -> None:
    """A session cookie sent from an untrusted Origin is closed with 4403, on the chat too."""
    key = await chat_server.session("alice")
    auth = Auth(headers=(("Cookie", f"sessionid={key}"), ("Origin", "http://evil.example")))
    socket = await sockets.open(chat_server, "/ws/chat/", auth)
    end = await socket.closure()
    assert (end.frame, end.code) == (disconnect_frame(4403), 4403)
