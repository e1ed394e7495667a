"""The clients of the three seed posts, unchanged, against the chat's WARDEN_COMPAT=seeds profile.

Each test opens the socket exactly as its post's client does (the credential where the post puts it,
nothing else), is admitted as the user the credential names, chats as that user, and leaves no trace
of the credential in the server's log. Seed 000 also runs in Chromium (tests/browser/test_seeds.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ..conftest import SERVERS
from ..example_project import copy_database, demo_env, manage, migrated_sqlite, start_example
from .support import Auth, ChatServer, ChatSocket, Sockets, SqliteDatabase

#: The React app of seeds 000 and 002, which the compat profile trusts.
REACT_APP = "http://localhost:3000"


@pytest.fixture(scope="module", params=SERVERS)
def compat_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ChatServer]:
    """The example with WARDEN_COMPAT=seeds, on uvicorn and on daphne."""
    directory = tmp_path_factory.mktemp(f"seeds-{request.param}")
    database = copy_database(migrated_sqlite(tmp_path_factory), directory)
    manage(database, "seed_demo")
    live = start_example(request.param, directory, demo_env(database, WARDEN_COMPAT="seeds"))
    yield ChatServer(live, SqliteDatabase(database))
    live.stop()


async def chats_as(socket: ChatSocket, username: str, text: str, room: str | None = None) -> None:
    """Send a message and read it back: the server names ``username`` as its author."""
    frame = {"type": "message", "text": text, **({"room": room} if room else {})}
    await socket.send(frame)
    while (answer := await socket.receive())["type"] != "message":
        pass
    assert (answer["user"], answer["text"]) == (username, text)


def assert_never_logged(server: ChatServer, secret: str) -> None:
    log = server.live.log()
    assert (secret in log, secret[-16:] in log) == (False, False)


async def test_seed_000_raw_jwt_subprotocol(compat_server: ChatServer, sockets: Sockets) -> None:
    """000: new WebSocket(url, accessToken) from the React app: admitted as alice, the JWT echoed."""
    access = await compat_server.jwt("alice")
    socket = await sockets.open(
        compat_server, "/ws/chat/lobby/", Auth(subprotocols=(access,), headers=(("Origin", REACT_APP),))
    )
    presence = await socket.receive()
    assert (socket.subprotocol == access, presence) == (
        True,
        {"type": "presence", "room": "lobby", "users": ["alice"]},
    )
    await chats_as(socket, "alice", "hello from seed 000")
    assert_never_logged(compat_server, access)


async def test_seed_001_token_in_the_query_string(compat_server: ChatServer, sockets: Sockets) -> None:
    """001: ws://.../ws/chat/?token=<DRF token> from the chat's own page: admitted as bob, joins, chats."""
    token = await compat_server.token("bob")
    socket = await sockets.open(compat_server, "/ws/chat/", Auth(query=f"token={token}", same_origin=True))
    await socket.send({"type": "join", "room": "lobby"})
    assert await socket.receive() == {"type": "joined", "room": "lobby"}
    await chats_as(socket, "bob", "hello from seed 001", room="lobby")
    assert_never_logged(compat_server, token)
    if compat_server.kind == "uvicorn":  # uvicorn logs the query string: masked by the app's filter
        assert '"WebSocket /ws/chat/?token=[redacted]" [accepted]' in compat_server.live.log()


async def test_seed_002_token_in_a_cookie_named_key(compat_server: ChatServer, sockets: Sockets) -> None:
    """002: Cookie key=<DRF token> from the React app: admitted as carol, joins, chats, leaves."""
    token = await compat_server.token("carol")
    socket = await sockets.open(
        compat_server, "/ws/chat/", Auth(headers=(("Cookie", f"key={token}"), ("Origin", REACT_APP)))
    )
    await socket.send({"type": "join", "room": "lobby"})
    assert await socket.receive() == {"type": "joined", "room": "lobby"}
    await chats_as(socket, "carol", "hello from seed 002", room="lobby")
    await socket.send({"type": "leave", "room": "lobby"})
    while (answer := await socket.receive())["type"] != "left":
        pass
    assert answer == {"type": "left", "room": "lobby"}
    assert_never_logged(compat_server, token)


async def test_seed_002_cookie_from_a_foreign_page_is_refused(
    compat_server: ChatServer, sockets: Sockets
) -> None:
    """The compat cookie still needs a trusted Origin: a page elsewhere riding it gets 4403."""
    token = await compat_server.token("carol")
    socket = await sockets.open(
        compat_server,
        "/ws/chat/",
        Auth(headers=(("Cookie", f"key={token}"), ("Origin", "http://evil.example"))),
    )
    closure = await socket.closure()
    assert (closure.frame, closure.code) == (
        {"type": "warden.disconnect", "code": 4403, "reason": "forbidden", "reconnect": "never"},
        4403,
    )
