"""No signal receiver ever sees a credential, whatever transport carried it (issue 10, finding 8).

A server runs with ``tests/project/signal_probe.py`` connected to every warden signal: it writes down
every string reachable from each signal's arguments. Each test opens sockets with real credentials in
one transport, makes every signal fire (admitted, refused, refreshed, revoked, closed), and searches
the probe's notes for the secrets it used.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection

from .conftest import SERVERS, LiveServer, start_server
from .helpers import access_claims, crafted_jwt, create_user, mint
from .lifecycle import ORIGIN, Sockets, bearer_subprotocols, closure, jwt_for, login, post, receive

pytestmark = pytest.mark.django_db(transaction=True)

EVERY_SIGNAL = {
    "connection_admitted",
    "connection_rejected",
    "connection_refreshed",
    "connection_revoked",
    "connection_closed",
}


class Probe:
    """The notes of the server's signal probe."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def clear(self) -> None:
        self.path.write_text("")

    def notes(self) -> list[dict[str, Any]]:
        """Every complete line: the server may be halfway through writing the last one."""
        if not self.path.exists():
            return []
        text = self.path.read_text()
        complete = text[: text.rfind("\n") + 1]
        return [json.loads(line) for line in complete.splitlines() if line]

    async def wait_for(self, names: set[str], timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            notes = self.notes()
            if names <= {note["signal"] for note in notes} or time.monotonic() > deadline:
                return notes


@pytest.fixture(scope="module", params=SERVERS)
def probed(
    request: pytest.FixtureRequest, django_db_setup: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, Probe]]:
    """A server whose every warden signal is written down by the probe."""
    from django.conf import settings

    directory = tmp_path_factory.mktemp(f"signals-{request.param}")
    probe = Probe(directory / "signals.jsonl")
    env = {
        "WARDEN_TEST_DB": str(settings.DATABASES["default"]["NAME"]),
        "WARDEN_TEST_SIGNAL_PROBE": str(probe.path),
    }
    live = start_server(request.param, directory / "server.log", env)
    yield live, probe
    live.stop()


@pytest.fixture
async def sockets() -> AsyncIterator[Sockets]:
    pool = Sockets()
    yield pool
    await pool.close_all()


def bogus() -> str:
    """A credential-shaped secret that no authenticator accepts."""
    return "bogus" + secrets.token_urlsafe(24)


def leaks(notes: list[dict[str, Any]], secrets_used: list[str]) -> list[tuple[str, str]]:
    """(signal, secret) pairs where a receiver could read the secret."""
    return [
        (note["signal"], secret[:12])
        for note in notes
        for secret in secrets_used
        if any(secret in text for text in note["strings"])
    ]


async def refresh_then_close(socket: ClientConnection, token: str) -> None:
    await socket.send(json.dumps({"type": "warden.refresh", "token": token}))
    assert (await receive(socket))["type"] == "warden.refreshed"
    await socket.close()


async def refused(sockets: Sockets, server: LiveServer, path: str, **kwargs: Any) -> int | None:
    socket = await sockets.open(server, path, **kwargs)
    return (await closure(socket)).code


async def test_session_cookie_never_reaches_a_receiver(
    probed: tuple[LiveServer, Probe], sockets: Sockets, make_user: Any
) -> None:
    """Session cookie: admitted, refused (staff route), revoked and closed without the key in sight."""
    server, probe = probed
    probe.clear()
    await create_user(make_user)
    key = await login(server)
    wrong = bogus()
    socket = await sockets.session(server, "/ws/echo/", key)
    assert await refused(sockets, server, "/ws/staff/", headers=[("Cookie", f"sessionid={key}")]) == 4403
    assert await refused(sockets, server, "/ws/echo/", headers=[("Cookie", f"sessionid={wrong}")]) == 4401
    watcher = asyncio.ensure_future(closure(socket))
    await post(server, "/logout/", cookies={"sessionid": key})
    assert (await watcher).code == 4499
    notes = await probe.wait_for(EVERY_SIGNAL - {"connection_refreshed"})
    assert {note["signal"] for note in notes} >= EVERY_SIGNAL - {"connection_refreshed"}
    assert leaks(notes, [key, wrong]) == []


async def test_authorization_header_never_reaches_a_receiver(
    probed: tuple[LiveServer, Probe], sockets: Sockets, make_user: Any
) -> None:
    """DRF token in the Authorization header: admitted, refused, revoked (token deleted), closed."""
    server, probe = probed
    probe.clear()
    key = await mint(await create_user(make_user), "drf")
    wrong = bogus()
    socket = await sockets.open(server, "/ws/echo/", headers=[("Authorization", f"Token {key}")])
    assert await refused(sockets, server, "/ws/echo/", headers=[("Authorization", f"Token {wrong}")]) == 4401
    watcher = asyncio.ensure_future(closure(socket))
    await post(server, "/test/users/alice/delete-tokens/")
    assert (await watcher).code == 4499
    notes = await probe.wait_for(EVERY_SIGNAL - {"connection_refreshed"})
    assert {note["signal"] for note in notes} >= EVERY_SIGNAL - {"connection_refreshed"}
    assert leaks(notes, [key, wrong]) == []


@pytest.mark.parametrize(
    ("path", "carry"),
    [
        ("/ws/echo/", "subprotocol"),
        ("/ws/echo/", "cookie"),
        ("/query/ws/echo/", "query"),
        ("/compat/ws/echo/", "raw-subprotocol"),
    ],
)
async def test_jwt_never_reaches_a_receiver(
    probed: tuple[LiveServer, Probe], sockets: Sockets, make_user: Any, path: str, carry: str
) -> None:
    """A JWT in a subprotocol, a cookie or the query: admitted, refreshed, refused, closed."""
    server, probe = probed
    probe.clear()
    user = await create_user(make_user)
    first, second = (await jwt_for(user)).token, (await jwt_for(user, 600)).token
    wrong = crafted_jwt(access_claims(user), key="not-the-signing-key-" + secrets.token_hex(16))

    def carried(token: str) -> tuple[str, dict[str, Any]]:
        if carry == "subprotocol":
            return path, {"subprotocols": bearer_subprotocols(token)}
        if carry == "cookie":
            return path, {"headers": [("Cookie", f"access_token={token}")]}
        if carry == "query":
            return f"{path}?token={token}", {}
        return path, {"subprotocols": [token]}

    where, how = carried(first)
    await refresh_then_close(await sockets.open(server, where, **how), second)
    where, how = carried(wrong)
    assert await refused(sockets, server, where, **how) in (4400, 4401)
    notes = await probe.wait_for(EVERY_SIGNAL - {"connection_revoked"})
    assert {note["signal"] for note in notes} >= EVERY_SIGNAL - {"connection_revoked"}
    assert leaks(notes, [first, second, wrong]) == []


async def test_ticket_never_reaches_a_receiver(
    probed: tuple[LiveServer, Probe], sockets: Sockets, make_user: Any
) -> None:
    """A ticket in the query: admitted, refused when replayed, revoked with its token, closed."""
    server, probe = probed
    probe.clear()
    key = await mint(await create_user(make_user), "drf")
    reply = await post(server, "/api/ticket/", headers={"Authorization": f"Token {key}", "Origin": ORIGIN})
    ticket = reply.body["ticket"]
    socket = await sockets.open(server, f"/live/ws/echo/?ticket={ticket}")
    assert await refused(sockets, server, f"/live/ws/echo/?ticket={ticket}") == 4401  # single use
    watcher = asyncio.ensure_future(closure(socket))
    await post(server, "/test/users/alice/delete-tokens/")
    assert (await watcher).code == 4499
    notes = await probe.wait_for(EVERY_SIGNAL - {"connection_refreshed"})
    assert {note["signal"] for note in notes} >= EVERY_SIGNAL - {"connection_refreshed"}
    assert leaks(notes, [key, ticket]) == []


async def test_first_message_token_never_reaches_a_receiver(
    probed: tuple[LiveServer, Probe], sockets: Sockets, make_user: Any
) -> None:
    """A token in the warden.auth frame: admitted, refreshed, refused, closed."""
    server, probe = probed
    probe.clear()
    user = await create_user(make_user)
    first, second, wrong = (await jwt_for(user)).token, (await jwt_for(user, 600)).token, bogus()
    socket = await sockets.open(server, "/firstmsg/ws/echo/")
    await socket.send(json.dumps({"type": "warden.auth", "token": first}))
    assert (await receive(socket))["type"] == "warden.authenticated"
    await refresh_then_close(socket, second)
    bad = await sockets.open(server, "/firstmsg/ws/echo/")
    await bad.send(json.dumps({"type": "warden.auth", "token": wrong}))
    assert (await closure(bad)).code == 4401
    notes = await probe.wait_for(EVERY_SIGNAL - {"connection_revoked"})
    assert {note["signal"] for note in notes} >= EVERY_SIGNAL - {"connection_revoked"}
    assert leaks(notes, [first, second, wrong]) == []
