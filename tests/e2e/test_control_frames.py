"""``warden.*`` frames through real servers: never handed to the application, however they are written.

The echo consumer sends back every text frame it gets, so a frame that reached the application
comes back; warden's own answers are ``warden.*`` frames and closes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from .helpers import create_user
from .lifecycle import Sockets, closure, disconnect_frame, echo, jwt_for, receive

pytestmark = pytest.mark.django_db(transaction=True)

#: Deep enough to raise RecursionError in json.loads, small enough to be under the size limit
#: (MAX_CREDENTIAL_BYTES 8192 + a 1024-character envelope).
DEPTH = 4000


@pytest.fixture
async def sockets() -> AsyncIterator[Sockets]:
    pool = Sockets()
    yield pool
    await pool.close_all()


async def test_escaped_refresh_frame_is_handled_by_warden(
    server: Any, sockets: Sockets, make_user: Any
) -> None:
    """``{"type": "\\u0077arden.refresh"}`` refreshes the socket; the application never sees the token."""
    user = await create_user(make_user)
    first, second = await jwt_for(user), await jwt_for(user, lifetime=600)
    socket = await sockets.jwt(server, "/ws/echo/", first.token)
    text = json.dumps({"type": "warden.refresh", "token": second.token}).replace("warden", "\\u0077arden")
    assert "warden" not in text
    await socket.send(text)
    assert await receive(socket) == {"type": "warden.refreshed", "expires_at": second.exp}
    assert await echo(socket) == "ping"


async def test_deeply_nested_warden_frame_closes_with_4400(
    server: Any, sockets: Sockets, make_user: Any
) -> None:
    """A warden.* frame nested 4000 deep closes the socket with 4400; no RecursionError in the server."""
    jwt = await jwt_for(await create_user(make_user))
    socket = await sockets.jwt(server, "/ws/echo/", jwt.token)
    text = '{"type": "warden.refresh", "token": "x", "n": ' + "[" * DEPTH + "]" * DEPTH + "}"
    assert len(text) < 8192 + 1024
    await socket.send(text)
    end = await closure(socket)
    assert (end.frame, end.code, end.before) == (disconnect_frame(4400), 4400, [])
    assert "RecursionError" not in server.log()


async def test_deeply_nested_application_frame_reaches_the_application(
    server: Any, sockets: Sockets, make_user: Any
) -> None:
    """The same nesting with the marker only inside a string is the application's frame."""
    jwt = await jwt_for(await create_user(make_user))
    socket = await sockets.jwt(server, "/ws/echo/", jwt.token)
    text = '{"note": "say \\"warden.refresh\\"", "n": ' + "[" * DEPTH + "]" * DEPTH + "}"
    await socket.send(text)
    assert await asyncio.wait_for(socket.recv(), 5) == text  # raw: the client's json.loads would recurse


async def test_oversized_warden_frame_closes_with_4400(server: Any, sockets: Sockets, make_user: Any) -> None:
    """A warden.refresh frame over the size limit closes with 4400 instead of reaching the application."""
    user = await create_user(make_user)
    jwt = await jwt_for(user)
    socket = await sockets.jwt(server, "/ws/echo/", jwt.token)
    await socket.send(
        json.dumps({"type": "warden.refresh", "token": (await jwt_for(user)).token + "=" * 20_000})
    )
    end = await closure(socket)
    assert (end.frame, end.code, end.before) == (disconnect_frame(4400), 4400, [])
