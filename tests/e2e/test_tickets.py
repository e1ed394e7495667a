"""Tickets through real servers: a ticket dies with the session or token it was bought with.

Each ticket is asked for and redeemed within its 30 seconds; what changes in between is its source:
a logout, a deleted token, a password change. The server's own views make those changes, so the
server process's signals run as they would in production.
"""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import assert_refused, create_user, mint
from .lifecycle import csrf_headers, login, post

pytestmark = pytest.mark.django_db(transaction=True)

PATH = "/live/ws/echo/"


async def session_ticket(server: Any, session_key: str) -> tuple[str, str]:
    """A ticket from ``POST /ticket/`` (session + CSRF); returns it and the Origin it is bound to."""
    cookies, headers = csrf_headers(server, session_key)
    reply = await post(server, "/ticket/", cookies=cookies, headers=headers)
    assert reply.status == 200, reply.body
    return reply.body["ticket"], headers["Origin"]


async def token_ticket(server: Any, key: str) -> str:
    """A ticket from ``POST /api/ticket/`` with a DRF token, bound to the test Origin."""
    reply = await post(
        server, "/api/ticket/", headers={"Authorization": f"Token {key}", "Origin": "http://testserver"}
    )
    assert reply.status == 200, reply.body
    ticket: str = reply.body["ticket"]
    return ticket


async def test_ticket_of_a_logged_out_session_is_refused(server: Any, ws: Any, make_user: Any) -> None:
    """A ticket bought with a session that logs out before using it gets 4401."""
    await create_user(make_user)
    session_key = await login(server)
    ticket, origin = await session_ticket(server, session_key)
    reply = await post(server, "/logout/", cookies={"sessionid": session_key})
    assert reply.status == 200, reply.body
    assert_refused(await ws.handshake(f"{PATH}?ticket={ticket}", origin=origin), 4401)


async def test_ticket_of_a_live_session_still_opens_a_socket(server: Any, ws: Any, make_user: Any) -> None:
    """The same ticket without the logout opens the socket: the check refuses only dead sources."""
    await create_user(make_user)
    ticket, origin = await session_ticket(server, await login(server))
    outcome = await ws.handshake(f"{PATH}?ticket={ticket}", origin=origin)
    assert outcome.whoami is not None
    assert (outcome.whoami["user"], outcome.whoami["transport"]) == ("alice", "ticket")


async def test_ticket_of_a_deleted_token_is_refused(server: Any, ws: Any, make_user: Any) -> None:
    """A ticket bought with a DRF token that is deleted before using it gets 4401."""
    key = await mint(await create_user(make_user), "drf")
    ticket = await token_ticket(server, key)
    reply = await post(server, "/test/users/alice/delete-tokens/")
    assert reply.status == 200, reply.body
    assert_refused(await ws.handshake(f"{PATH}?ticket={ticket}"), 4401)


async def test_password_change_voids_the_users_outstanding_tickets(
    server: Any, ws: Any, make_user: Any
) -> None:
    """A password change revokes the user, which voids a ticket bought earlier with a DRF token."""
    key = await mint(await create_user(make_user), "drf")
    ticket = await token_ticket(server, key)
    session_key = await login(server)
    reply = await post(
        server, "/password/", {"password": "another horse"}, cookies={"sessionid": session_key}
    )
    assert reply.status == 200, reply.body
    assert_refused(await ws.handshake(f"{PATH}?ticket={ticket}"), 4401)
