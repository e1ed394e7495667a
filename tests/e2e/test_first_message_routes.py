"""First-message authentication reaches the routed application, with or without ``guard()``.

``URLRouter`` hands each route a copy of warden's scope. On a route without ``guard()`` the
``warden.auth`` frame is read only when the application first reads, after that copy was made; the
application must still see the authenticated user, not ``AnonymousUser`` (issue 10, finding 10).
The ``/firstmsg/`` profile of ``tests/project/asgi.py`` sets ``FIRST_MESSAGE_AUTH = True``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from .conftest import LiveServer
from .helpers import create_user
from .lifecycle import Sockets, jwt_for, receive, whoami

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def sockets() -> AsyncIterator[Sockets]:
    pool = Sockets()
    yield pool
    await pool.close_all()


@pytest.mark.parametrize(
    "path",
    [
        "/firstmsg/ws/echo/",  # async consumer, no guard()
        "/firstmsg/ws/sync/",  # sync consumer, no guard()
        "/firstmsg/ws/raw/",  # bare ASGI application, no guard()
        "/firstmsg/ws/room/lobby/",  # guard() that inherits FIRST_MESSAGE_AUTH
        "/firstmsg/ws/first/",  # guard(first_message=True)
    ],
)
async def test_routed_application_sees_the_user_of_the_auth_frame(
    server: LiveServer, sockets: Sockets, make_user: Any, path: str
) -> None:
    """After ``warden.auth`` the routed application's scope holds the token's user and auth."""
    jwt = await jwt_for(await create_user(make_user))
    socket = await sockets.open(server, path)
    await socket.send(json.dumps({"type": "warden.auth", "token": jwt.token}))
    assert await receive(socket) == {"type": "warden.authenticated", "expires_at": jwt.exp}
    me = await whoami(socket)
    assert (me["user"], me["is_authenticated"], me["authenticator"], me["transport"]) == (
        "alice",
        True,
        "simplejwt",
        "message",
    )
