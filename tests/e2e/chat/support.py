"""What the chat suites share: the example's database, its HTTP API, and chat sockets on a real server.

Tests arrange rows (rooms, members, users, messages) with plain SQL on the server's database, the
way a fixture loader would, so that each test gets rooms nobody else uses; everything they assert
goes through the server: HTTP and WebSocket frames, and row counts for "stored exactly once".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import sqlite3
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from websockets.asyncio.client import ClientConnection, connect

from ..conftest import LiveServer
from ..example_project import PASSWORD
from ..lifecycle import Closure, closure, exchange

TIMEOUT = 5.0
#: How long a test waits to be sure that a frame does not come.
QUIET = 0.3
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


# The database ----------------------------------------------------------------------------------


class Database:
    """SQL on the example's database; queries are written with ``%s`` placeholders."""

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        found = self.rows(sql, params)
        assert len(found) == 1, (sql, params, found)
        return found[0][0]

    def user_id(self, username: str) -> int:
        return int(self.value("SELECT id FROM auth_user WHERE username = %s", [username]))

    def room_id(self, slug: str) -> int:
        return int(self.value("SELECT id FROM chat_room WHERE slug = %s", [slug]))

    def create_room(self, *, private: bool = True, members: Iterable[str] = ()) -> str:
        """A new room that only this test knows of; private (with ``members``) unless told otherwise."""
        slug = f"t-{uuid.uuid4().hex[:12]}"
        self.rows(
            "INSERT INTO chat_room (slug, title, private, created) VALUES (%s, %s, %s, CURRENT_TIMESTAMP)",
            [slug, f"Test {slug}", private],
        )
        for username in members:
            self.add_member(slug, username)
        return slug

    def add_member(self, slug: str, username: str) -> None:
        self.rows(
            "INSERT INTO chat_room_members (room_id, user_id) VALUES (%s, %s)",
            [self.room_id(slug), self.user_id(username)],
        )

    def members(self, slug: str) -> list[str]:
        return [
            row[0]
            for row in self.rows(
                "SELECT u.username FROM chat_room_members m JOIN auth_user u ON u.id = m.user_id "
                "WHERE m.room_id = %s ORDER BY u.username",
                [self.room_id(slug)],
            )
        ]

    def add_messages(self, slug: str, username: str, texts: Iterable[str]) -> list[int]:
        """Store messages as if they had been sent; return their ids, oldest first."""
        room, author = self.room_id(slug), self.user_id(username)
        return [
            int(
                self.value(
                    "INSERT INTO chat_message (room_id, author_id, text, created) "
                    "VALUES (%s, %s, %s, CURRENT_TIMESTAMP) RETURNING id",
                    [room, author, text],
                )
            )
            for text in texts
        ]

    def message_ids(self, text: str) -> list[int]:
        return [
            row[0] for row in self.rows("SELECT id FROM chat_message WHERE text = %s ORDER BY id", [text])
        ]

    def create_user(self) -> tuple[str, str]:
        """A new user with no password and a DRF token; return ``(username, token)``."""
        username = f"u{uuid.uuid4().hex[:12]}"
        self.rows(
            "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, "
            "is_staff, is_active, date_joined) "
            "VALUES ('!', %s, %s, '', '', '', %s, %s, CURRENT_TIMESTAMP)",
            [False, username, False, True],
        )
        token = secrets.token_hex(20)
        self.rows(
            "INSERT INTO authtoken_token (key, user_id, created) VALUES (%s, %s, CURRENT_TIMESTAMP)",
            [token, self.user_id(username)],
        )
        return username, token


class SqliteDatabase(Database):
    def __init__(self, path: Path) -> None:
        self.path = path

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with contextlib.closing(sqlite3.connect(self.path, timeout=20)) as db, db:
            return db.execute(sql.replace("%s", "?"), list(params)).fetchall()


class PostgresDatabase(Database):
    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(self.conninfo, autocommit=True) as db:
            cursor = db.execute(sql, list(params))  # type: ignore[arg-type]
            return cursor.fetchall() if cursor.description else []


# HTTP ------------------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    body: Any
    cookies: dict[str, str]
    headers: dict[str, str]


def _http(
    port: int,
    method: str,
    path: str,
    payload: Any,
    form: dict[str, str] | None,
    headers: dict[str, str],
    cookies: dict[str, str],
) -> Reply:
    all_headers = dict(headers)
    body: str | None = None
    if form is not None:
        body = urlencode(form)
        all_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    elif payload is not None:
        body = json.dumps(payload)
        all_headers.setdefault("Content-Type", "application/json")
    got = exchange(port, method, path, body, all_headers, cookies)
    return Reply(got.status, got.json_or(got.raw.decode(errors="replace")), got.cookies, got.headers)


# Servers ---------------------------------------------------------------------------------------


@dataclass
class ChatServer:
    """One server process of the example, its database, and credentials minted through its API."""

    live: LiveServer
    db: Database
    _credentials: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def port(self) -> int:
        return self.live.port

    @property
    def kind(self) -> str:
        return self.live.kind

    @property
    def origin(self) -> str:
        """The server's own origin, which warden trusts for cookie credentials."""
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.live.url(path)

    async def http(
        self,
        method: str,
        path: str,
        payload: Any = None,
        *,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        cookies: dict[str, str] | None = None,
    ) -> Reply:
        """One HTTP request, in a worker thread so that open sockets keep being served."""
        return await asyncio.to_thread(
            _http, self.port, method, path, payload, form, headers or {}, cookies or {}
        )

    async def _minted(self, kind: str, username: str, path: str, key: str) -> str:
        if (kind, username) not in self._credentials:
            reply = await self.http("POST", path, {"username": username, "password": PASSWORD})
            assert reply.status == 200, reply.body
            self._credentials[kind, username] = reply.body[key] if key else reply.cookies["sessionid"]
        return self._credentials[kind, username]

    async def token(self, username: str) -> str:
        """The user's DRF token, from ``POST /api/auth/token/``."""
        return await self._minted("token", username, "/api/auth/token/", "token")

    async def jwt(self, username: str) -> str:
        """A SimpleJWT access token, from ``POST /api/auth/jwt/``."""
        return await self._minted("jwt", username, "/api/auth/jwt/", "access")

    async def session(self, username: str) -> str:
        """A session key, from ``POST /api/auth/session/`` (shared by the tests that do not end it)."""
        return await self._minted("session", username, "/api/auth/session/", "")

    async def new_session(self, username: str) -> tuple[str, str]:
        """A session of its own (for tests that log out): ``(session key, CSRF token)``."""
        reply = await self.http("POST", "/api/auth/session/", {"username": username, "password": PASSWORD})
        assert reply.status == 200, reply.body
        return reply.cookies["sessionid"], reply.cookies["csrftoken"]

    async def ticket(self, username: str) -> str:
        """A one-time ticket from ``POST /api/auth/ticket/``, asked for with the user's DRF token."""
        headers = {"Authorization": f"Token {await self.token(username)}"}
        reply = await self.http("POST", "/api/auth/ticket/", {}, headers=headers)
        assert reply.status == 200, reply.body
        ticket: str = reply.body["ticket"]
        return ticket


# Sockets ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Auth:
    """How a socket carries its credential."""

    headers: tuple[tuple[str, str], ...] = ()
    subprotocols: tuple[str, ...] = ()
    query: str = ""
    same_origin: bool = False


def token_auth(token: str) -> Auth:
    return Auth(headers=(("Authorization", f"Token {token}"),))


def jwt_auth(access: str) -> Auth:
    return Auth(subprotocols=("warden", f"bearer.{access}"))


def session_auth(key: str) -> Auth:
    return Auth(headers=(("Cookie", f"sessionid={key}"),), same_origin=True)


def ticket_auth(ticket: str) -> Auth:
    return Auth(query=f"ticket={ticket}")


NO_AUTH = Auth()


def decode(message: str | bytes) -> Any:
    if isinstance(message, bytes):
        return message
    try:
        return json.loads(message)
    except ValueError:
        return message


class ChatSocket:
    """A client socket that speaks the chat's JSON frames."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    @property
    def subprotocol(self) -> str | None:
        return self.connection.subprotocol

    async def send(self, frame: dict[str, Any] | str | bytes) -> None:
        await self.connection.send(json.dumps(frame) if isinstance(frame, dict) else frame)

    async def receive(self) -> Any:
        """The next frame, decoded."""
        return decode(await asyncio.wait_for(self.connection.recv(), TIMEOUT))

    async def receive_all(self, count: int) -> list[Any]:
        return [await self.receive() for _ in range(count)]

    async def quiet(self, wait: float = QUIET) -> None:
        """Fail if a frame arrives within ``wait`` seconds."""
        with contextlib.suppress(TimeoutError):
            frame = decode(await asyncio.wait_for(self.connection.recv(), wait))
            raise AssertionError(f"expected no frame, got {frame!r}")

    async def closure(self) -> Closure:
        """Read until the server closes the socket."""
        return await closure(self.connection, TIMEOUT)

    async def close(self) -> None:
        await self.connection.close()


class Sockets:
    """Opens chat sockets for one test and closes whichever are still open at its end."""

    def __init__(self) -> None:
        self.opened: list[ChatSocket] = []

    async def open(self, server: ChatServer, path: str, auth: Auth = NO_AUTH) -> ChatSocket:
        url = server.url(path)
        if auth.query:
            url = f"{url}{'&' if '?' in url else '?'}{auth.query}"
        headers = list(auth.headers)
        if auth.same_origin:
            headers.append(("Origin", server.origin))
        connection = await connect(
            url,
            additional_headers=headers,
            subprotocols=list(auth.subprotocols) or None,  # type: ignore[arg-type]
            open_timeout=TIMEOUT,
            close_timeout=1,
        )
        socket = ChatSocket(connection)
        self.opened.append(socket)
        return socket

    async def room(self, server: ChatServer, slug: str, username: str) -> ChatSocket:
        """``username``'s socket on ``/ws/chat/<slug>/`` (DRF token), after its own presence frame."""
        socket = await self.open(server, f"/ws/chat/{slug}/", token_auth(await server.token(username)))
        frame = await socket.receive()
        assert (frame["type"], frame["room"]) == ("presence", slug), frame
        return socket

    async def multi(self, server: ChatServer, username: str) -> ChatSocket:
        """``username``'s socket on ``/ws/chat/`` (DRF token), in no room yet."""
        return await self.open(server, "/ws/chat/", token_auth(await server.token(username)))

    async def close_all(self) -> None:
        for socket in self.opened:
            with contextlib.suppress(Exception):
                await socket.close()
        self.opened.clear()


# Expected frames -------------------------------------------------------------------------------


def presence(room: str, *users: str) -> dict[str, Any]:
    return {"type": "presence", "room": room, "users": sorted(users)}


def error(code: str, detail: str, room: str | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "code": code, "detail": detail}
    if room is not None:
        frame["room"] = room
    return frame


def assert_message(frame: Any, room: str, user: str, text: str) -> int:
    """``frame`` is the message object for ``text``; return its id."""
    assert isinstance(frame, dict), frame
    assert isinstance(frame.get("id"), int), frame
    assert frame["id"] > 0, frame
    assert isinstance(frame.get("ts"), str), frame
    assert TIMESTAMP.fullmatch(frame["ts"]), frame
    assert frame == {
        "type": "message",
        "room": room,
        "user": user,
        "text": text,
        "id": frame["id"],
        "ts": frame["ts"],
    }
    message_id: int = frame["id"]
    return message_id


def unique_text() -> str:
    return f"hello {uuid.uuid4().hex}"
