"""Live sockets through real servers: expiry, in-band refresh, first-message auth, tickets, revocation,
connection limits and the handshake throttle.

Sockets stay open across the steps of a test. Django events (logout, password change, deactivation)
happen inside the server through its test endpoints, because the in-memory channel layer reaches
only the process that sends a revocation.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from .helpers import create_user, mint
from .lifecycle import (
    ORIGIN,
    Sockets,
    bearer_subprotocols,
    closure,
    csrf_headers,
    disconnect_frame,
    echo,
    jwt_for,
    login,
    post,
    receive,
    watch,
    whoami,
)

pytestmark = pytest.mark.django_db(transaction=True)

OTHER_ORIGIN = "http://localhost:3000"  # trusted for sockets, but not the Origin a ticket was bound to


@pytest.fixture
async def sockets() -> AsyncIterator[Sockets]:
    pool = Sockets()
    yield pool
    await pool.close_all()


async def api_ticket(server: Any, authorization: str, origin: str = ORIGIN) -> str:
    """A ticket from ``POST /api/ticket/`` (DRF), bound to ``origin``."""
    reply = await post(server, "/api/ticket/", headers={"Authorization": authorization, "Origin": origin})
    assert reply.status == 200, reply.body
    ticket: str = reply.body["ticket"]
    return ticket


# Expiry and refresh ----------------------------------------------------------------------------


async def test_socket_closes_with_4498_within_1s_of_the_jwt_exp(
    server: Any, sockets: Sockets, make_user: Any, report_figure: Any
) -> None:
    """A JWT socket is closed with 4498 ``token_expired`` less than a second after the token's exp.

    The token is shorter than the default 30 s EXPIRY_WARNING, so its one warning comes at once.
    """
    jwt = await jwt_for(await create_user(make_user), lifetime=2)
    socket = await sockets.jwt(server, "/ws/echo/", jwt.token)
    end = await closure(socket, timeout=4)
    report_figure(f"{server.kind}: 4498 close observed {end.at - jwt.exp:+.3f}s after the JWT exp")
    warnings = [frame for _, frame in end.before]
    assert (end.frame, end.code, warnings) == (
        disconnect_frame(4498),
        4498,
        [{"type": "warden.expiring", "expires_at": float(jwt.exp)}],
    )
    assert jwt.exp <= end.at < jwt.exp + 1


async def test_expiring_frame_arrives_before_the_exp(
    server: Any, sockets: Sockets, make_user: Any, report_figure: Any
) -> None:
    """With EXPIRY_WARNING 1, one ``warden.expiring`` frame naming the exp precedes the 4498 close."""
    jwt = await jwt_for(await create_user(make_user), lifetime=3)
    socket = await sockets.jwt(server, "/live/ws/echo/", jwt.token)
    end = await closure(socket, timeout=5)
    [(warned_at, warning)] = end.before
    report_figure(f"{server.kind}: warden.expiring arrived {jwt.exp - warned_at:.3f}s before the exp")
    assert warning == {"type": "warden.expiring", "expires_at": jwt.exp}
    assert warned_at < jwt.exp
    assert (end.frame, end.code) == (disconnect_frame(4498), 4498)


async def test_refresh_extends_the_socket_past_the_first_exp(
    server: Any, sockets: Sockets, make_user: Any
) -> None:
    """After ``warden.refresh`` the socket still echoes past the first exp and closes after the new one."""
    user = await create_user(make_user)
    first = await jwt_for(user, lifetime=3)
    second = await jwt_for(user, lifetime=4)
    socket = await sockets.jwt(server, "/live/ws/echo/", first.token)
    await socket.send(json.dumps({"type": "warden.refresh", "token": second.token}))
    assert await receive(socket) == {"type": "warden.refreshed", "expires_at": second.exp}
    await asyncio.sleep(first.exp + 0.3 - time.time())
    assert await echo(socket) == "ping"
    end = await closure(socket, timeout=second.exp - time.time() + 2)
    assert (end.frame, end.code) == (disconnect_frame(4498), 4498)
    assert end.at >= second.exp


async def test_refresh_with_another_users_token_closes_with_4401(
    server: Any, sockets: Sockets, make_user: Any
) -> None:
    """A ``warden.refresh`` carrying someone else's valid JWT closes the socket with 4401."""
    alice = await jwt_for(await create_user(make_user))
    bob = await jwt_for(await create_user(make_user, "bob"))
    socket = await sockets.jwt(server, "/live/ws/echo/", alice.token)
    await socket.send(json.dumps({"type": "warden.refresh", "token": bob.token}))
    end = await closure(socket)
    assert (end.frame, end.code, end.before) == (disconnect_frame(4401), 4401, [])


async def test_refresh_with_a_garbage_token_closes_with_4401(
    server: Any, sockets: Sockets, make_user: Any
) -> None:
    """A ``warden.refresh`` whose token is no JWT closes the socket with 4401."""
    jwt = await jwt_for(await create_user(make_user))
    socket = await sockets.jwt(server, "/live/ws/echo/", jwt.token)
    await socket.send(json.dumps({"type": "warden.refresh", "token": secrets.token_urlsafe(32)}))
    end = await closure(socket)
    assert (end.frame, end.code, end.before) == (disconnect_frame(4401), 4401, [])


@pytest.mark.parametrize(
    "text",
    [
        '{"type": "chat.message", "text": "warden.refresh"}',
        '{"type": "chat.message", "next": "warden.auth", "token": "abc"}',
        '{"kind": "warden.refresh", "token": "abc"}',
        '["warden.refresh", {"token": "abc"}]',
        '{"type": "warden.refresh", "token": ',
    ],
    ids=["other-type", "other-type-with-token", "no-type", "array", "not-json"],
)
async def test_application_frames_mentioning_warden_reach_the_consumer(
    server: Any, sockets: Sockets, make_user: Any, text: str
) -> None:
    """A frame that mentions ``"warden.`` but is not a warden control frame is echoed untouched."""
    jwt = await jwt_for(await create_user(make_user))
    socket = await sockets.jwt(server, "/live/ws/echo/", jwt.token)
    await socket.send(text)
    assert await asyncio.wait_for(socket.recv(), 5) == text


# First-message authentication -------------------------------------------------------------------


async def test_first_message_auth_admits_the_tokens_user(
    server: Any, sockets: Sockets, make_user: Any
) -> None:
    """On a first-message route a ``warden.auth`` frame is answered and the consumer sees its user."""
    jwt = await jwt_for(await create_user(make_user))
    socket = await sockets.open(server, "/live/ws/first/")
    await socket.send(json.dumps({"type": "warden.auth", "token": jwt.token}))
    assert await receive(socket) == {"type": "warden.authenticated", "expires_at": jwt.exp}
    me = await whoami(socket)
    assert (me["user"], me["authenticator"], me["transport"]) == ("alice", "simplejwt", "message")


async def test_first_message_auth_times_out_with_4408(server: Any, sockets: Sockets) -> None:
    """A first-message route that gets no frame within AUTH_TIMEOUT closes with 4408."""
    socket = await sockets.open(server, "/live/ws/first/")
    end = await closure(socket, timeout=3)
    assert (end.frame, end.code, end.before) == (disconnect_frame(4408), 4408, [])


async def test_first_message_that_is_not_auth_closes_with_4400(server: Any, sockets: Sockets) -> None:
    """An application frame sent first on a first-message route closes the socket with 4400."""
    socket = await sockets.open(server, "/live/ws/first/")
    await socket.send("hello")
    end = await closure(socket)
    assert (end.frame, end.code, end.before) == (disconnect_frame(4400), 4400, [])


# Tickets ------------------------------------------------------------------------------------------


async def test_ticket_from_the_api_opens_a_socket_without_the_ticket_in_its_scope(
    server: Any, ws: Any, make_user: Any
) -> None:
    """A ticket from ``POST /api/ticket/`` (DRF token) opens the socket; the consumer never sees it."""
    key = await mint(await create_user(make_user), "drf")
    ticket = await api_ticket(server, f"Token {key}")
    outcome = await ws.handshake(f"/live/ws/echo/?ticket={ticket}&room=lobby")
    assert outcome.whoami is not None
    me = outcome.whoami
    assert (me["user"], me["authenticator"], me["transport"]) == ("alice", "ticket", "ticket")
    assert me["query_string"] == "room=lobby"


async def test_ticket_never_appears_in_the_server_log(server: Any, ws: Any, make_user: Any) -> None:
    """The server's log lines for a ticket handshake do not contain the ticket."""
    key = await mint(await create_user(make_user), "drf")
    ticket = await api_ticket(server, f"Token {key}")
    outcome = await ws.handshake(f"/live/ws/echo/?ticket={ticket}")
    assert outcome.whoami is not None
    assert ticket not in server.log()


async def test_ticket_from_the_session_view_with_csrf_opens_a_socket(
    server: Any, ws: Any, make_user: Any
) -> None:
    """``POST /ticket/`` with a session cookie and a matching CSRF cookie and header issues a ticket."""
    await create_user(make_user)
    cookies, headers = csrf_headers(server, await login(server))
    reply = await post(server, "/ticket/", cookies=cookies, headers=headers)
    assert reply.status == 200, reply.body
    outcome = await ws.handshake(f"/live/ws/echo/?ticket={reply.body['ticket']}", origin=headers["Origin"])
    assert outcome.whoami is not None
    assert (outcome.whoami["user"], outcome.whoami["transport"]) == ("alice", "ticket")


async def test_ticket_view_refuses_a_post_without_csrf(server: Any, make_user: Any) -> None:
    """``POST /ticket/`` with only the session cookie is refused by Django's CSRF check with 403."""
    await create_user(make_user)
    key = await login(server)
    reply = await post(
        server, "/ticket/", cookies={"sessionid": key}, headers={"Origin": f"http://127.0.0.1:{server.port}"}
    )
    assert reply.status == 403


async def test_used_ticket_is_refused(server: Any, ws: Any, make_user: Any) -> None:
    """A ticket is single-use: its second handshake gets 4401."""
    key = await mint(await create_user(make_user), "drf")
    ticket = await api_ticket(server, f"Token {key}")
    assert (await ws.handshake(f"/live/ws/echo/?ticket={ticket}")).whoami is not None
    replay = await ws.handshake(f"/live/ws/echo/?ticket={ticket}")
    assert (replay.whoami, replay.frame, replay.close_code) == (None, disconnect_frame(4401), 4401)


async def test_concurrent_uses_of_one_ticket_admit_exactly_one(server: Any, ws: Any, make_user: Any) -> None:
    """Two handshakes racing with the same ticket: one is admitted, the other gets 4401."""
    key = await mint(await create_user(make_user), "drf")
    ticket = await api_ticket(server, f"Token {key}")
    outcomes = await asyncio.gather(*(ws.handshake(f"/live/ws/echo/?ticket={ticket}") for _ in range(2)))
    admitted = [outcome for outcome in outcomes if outcome.whoami is not None]
    refused = [(outcome.frame, outcome.close_code) for outcome in outcomes if outcome.whoami is None]
    assert [outcome.whoami["user"] for outcome in admitted] == ["alice"]
    assert refused == [(disconnect_frame(4401), 4401)]


async def test_ticket_used_from_another_origin_is_refused(server: Any, ws: Any, make_user: Any) -> None:
    """A ticket bound to the Origin of its POST gets 4401 from another (trusted) Origin."""
    key = await mint(await create_user(make_user), "drf")
    ticket = await api_ticket(server, f"Token {key}", origin=ORIGIN)
    outcome = await ws.handshake(f"/live/ws/echo/?ticket={ticket}", origin=OTHER_ORIGIN)
    assert (outcome.whoami, outcome.frame, outcome.close_code) == (None, disconnect_frame(4401), 4401)


# Revocation -------------------------------------------------------------------------------------


async def test_logout_closes_that_sessions_sockets_only(
    server: Any, sockets: Sockets, make_user: Any, report_figure: Any
) -> None:
    """Logging out closes that session's socket (4499 ``logout``); another session's and a JWT's stay."""
    user = await create_user(make_user)
    mine, other = await login(server), await login(server)
    jwt = await jwt_for(user)
    socket = await sockets.session(server, "/ws/echo/", mine)
    others = [
        await sockets.session(server, "/ws/echo/", other),
        await sockets.jwt(server, "/ws/echo/", jwt.token),
    ]
    watcher = watch(socket)
    reply = await post(server, "/logout/", cookies={"sessionid": mine})
    end = await watcher
    report_figure(
        f"{server.kind}: logout revocation latency {1000 * (end.at - reply.sent_at):.1f} ms from the "
        f"request, {1000 * (end.at - reply.received_at):+.1f} ms from its response"
    )
    assert reply.status == 200
    assert (end.frame, end.code) == (disconnect_frame(4499, "logout"), 4499)
    assert [await echo(each) for each in others] == ["ping", "ping"]


async def sockets_of_every_kind(server: Any, sockets: Sockets, user: Any) -> dict[str, Any]:
    """One open socket per credential kind for ``user``: session, JWT, DRF token, knox, ticket."""
    session = await login(server)
    jwt = await jwt_for(user)
    drf = await mint(user, "drf")
    knox = await mint(user, "knox")
    ticket = await api_ticket(server, f"Bearer {jwt.token}")
    return {
        "session": await sockets.session(server, "/ws/echo/", session),
        "jwt": await sockets.jwt(server, "/ws/echo/", jwt.token),
        "drf": await sockets.open(server, "/ws/echo/", headers=[("Authorization", f"Token {drf}")]),
        "knox": await sockets.open(server, "/knox/ws/echo/", headers=[("Authorization", f"Token {knox}")]),
        "ticket": await sockets.open(server, f"/live/ws/echo/?ticket={ticket}"),
    }


async def closures(opened: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    ends = await asyncio.gather(*(closure(socket) for socket in opened.values()))
    return {kind: (end.frame, end.code) for kind, end in zip(opened, ends, strict=True)}


async def test_deactivation_closes_every_kind_of_socket(
    server: Any, sockets: Sockets, make_user: Any
) -> None:
    """Saving the user with ``is_active=False`` closes all its sockets with 4499 ``user_inactive``."""
    opened = await sockets_of_every_kind(server, sockets, await create_user(make_user))
    watcher = asyncio.ensure_future(closures(opened))
    assert (await post(server, "/test/users/alice/deactivate/")).status == 200
    expected = (disconnect_frame(4499, "user_inactive"), 4499)
    assert await watcher == dict.fromkeys(opened, expected)


async def test_deletion_closes_every_kind_of_socket(server: Any, sockets: Sockets, make_user: Any) -> None:
    """Deleting the user closes all its sockets with 4499; token sockets go first, as ``token_deleted``."""
    opened = await sockets_of_every_kind(server, sockets, await create_user(make_user))
    watcher = asyncio.ensure_future(closures(opened))
    assert (await post(server, "/test/users/alice/delete/")).status == 200
    user_deleted = (disconnect_frame(4499, "user_deleted"), 4499)
    token_deleted = (disconnect_frame(4499, "token_deleted"), 4499)
    assert await watcher == {
        "session": user_deleted,
        "jwt": user_deleted,
        "drf": token_deleted,
        "knox": token_deleted,
        "ticket": user_deleted,
    }


async def test_password_change_keeps_only_the_changing_sessions_socket(
    server: Any, sockets: Sockets, make_user: Any
) -> None:
    """A password change closes other sessions' and JWT sockets (``password_changed``), not its own."""
    user = await create_user(make_user)
    mine, other = await login(server), await login(server)
    jwt = await jwt_for(user)
    kept = await sockets.session(server, "/ws/echo/", mine)
    closed = [
        await sockets.session(server, "/ws/echo/", other),
        await sockets.jwt(server, "/ws/echo/", jwt.token),
    ]
    watcher = asyncio.ensure_future(asyncio.gather(*(closure(socket) for socket in closed)))
    reply = await post(
        server, "/password/", {"password": "a brand new password"}, cookies={"sessionid": mine}
    )
    assert reply.status == 200
    assert [(end.frame, end.code) for end in await watcher] == [
        (disconnect_frame(4499, "password_changed"), 4499)
    ] * 2
    assert await echo(kept) == "ping"


async def test_logout_after_password_change_closes_the_kept_socket(
    server: Any, sockets: Sockets, make_user: Any
) -> None:
    """The kept socket follows its session's new key: logging out with the new cookie closes it."""
    await create_user(make_user)
    old_key = await login(server)
    socket = await sockets.session(server, "/ws/echo/", old_key)
    reply = await post(
        server, "/password/", {"password": "a brand new password"}, cookies={"sessionid": old_key}
    )
    new_key = reply.cookies["sessionid"]
    assert new_key not in ("", old_key)
    assert await echo(socket) == "ping"
    watcher = watch(socket)
    assert (await post(server, "/logout/", cookies={"sessionid": new_key})).status == 200
    end = await watcher
    assert (end.frame, end.code) == (disconnect_frame(4499, "logout"), 4499)


async def test_deleting_drf_tokens_closes_their_sockets_only(
    server: Any, sockets: Sockets, make_user: Any
) -> None:
    """Deleting a user's DRF tokens closes the sockets opened with them, not the user's session socket."""
    user = await create_user(make_user)
    key = await mint(user, "drf")
    session_socket = await sockets.session(server, "/ws/echo/", await login(server))
    ticket = await api_ticket(server, f"Token {key}")
    opened = {
        "header": await sockets.open(server, "/ws/echo/", headers=[("Authorization", f"Token {key}")]),
        "subprotocol": await sockets.open(server, "/ws/echo/", subprotocols=["warden", f"token.{key}"]),
        "ticket": await sockets.open(server, f"/live/ws/echo/?ticket={ticket}"),
    }
    watcher = asyncio.ensure_future(closures(opened))
    assert (await post(server, "/test/users/alice/delete-tokens/")).status == 200
    assert await watcher == dict.fromkeys(opened, (disconnect_frame(4499, "token_deleted"), 4499))
    assert await echo(session_socket) == "ping"


# Connection limits and the handshake throttle --------------------------------------------------------


async def test_socket_over_the_limit_is_refused_with_retry_after(
    server: Any, ws: Any, sockets: Sockets, make_user: Any
) -> None:
    """Under ``/limit/`` (MAX 2, reject_newest) a user's third socket gets 4429 with ``retry_after``."""
    jwt = await jwt_for(await create_user(make_user))
    first, second = [await sockets.jwt(server, "/limit/ws/echo/", jwt.token) for _ in range(2)]
    outcome = await ws.handshake("/limit/ws/echo/", subprotocols=bearer_subprotocols(jwt.token))
    assert (outcome.whoami, outcome.frame, outcome.close_code) == (
        None,
        disconnect_frame(4429, retry_after=3),
        4429,
    )
    assert [await echo(first), await echo(second)] == ["ping", "ping"]


async def test_socket_over_the_limit_evicts_the_oldest(server: Any, sockets: Sockets, make_user: Any) -> None:
    """Under ``/evict/`` (MAX 2, evict_oldest) a third socket opens and the oldest closes with 4409."""
    jwt = await jwt_for(await create_user(make_user))
    oldest, second = [await sockets.jwt(server, "/evict/ws/echo/", jwt.token) for _ in range(2)]
    watcher = watch(oldest)
    newest = await sockets.jwt(server, "/evict/ws/echo/", jwt.token)
    assert (await whoami(newest))["user"] == "alice"
    end = await watcher
    assert (end.frame, end.code) == (disconnect_frame(4409, "replaced"), 4409)
    assert await echo(second) == "ping"


async def test_refused_handshakes_throttle_the_address(server: Any, ws: Any, make_user: Any) -> None:
    """Under ``/throttle/`` (3 failures per 5 s) a valid handshake after 3 refusals gets 4429."""
    jwt = await jwt_for(await create_user(make_user))
    refusals = [await ws.handshake("/throttle/ws/echo/") for _ in range(3)]
    assert [outcome.close_code for outcome in refusals] == [4401] * 3
    outcome = await ws.handshake("/throttle/ws/echo/", subprotocols=bearer_subprotocols(jwt.token))
    assert outcome.frame is not None
    retry_after = outcome.frame["retry_after"]
    assert (outcome.whoami, outcome.frame, outcome.close_code) == (
        None,
        disconnect_frame(4429, retry_after=retry_after),
        4429,
    )
    assert 1 <= retry_after <= 5
