"""The identity cache through real servers: one configuration's verdicts, and never staler than a save.

The profiles (``tests.project.asgi``) put the cache under three configurations of the SimpleJWT
authenticator: ``/cached/`` (database mode, ``AccessToken``), ``/cached-lax/`` (``UntypedToken``,
which takes a refresh token too) and ``/cached-stateless/`` (no query: a deactivated user keeps
access until ``exp``, by design). One server process serves them all, with one identity cache.
"""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async

from .helpers import assert_refused, create_user, mint
from .lifecycle import bearer_subprotocols, post

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def refresh_token(user: Any) -> str:
    from rest_framework_simplejwt.tokens import RefreshToken

    return str(RefreshToken.for_user(user))


async def test_strict_token_class_refuses_a_token_the_lax_stack_cached(
    server: Any, ws: Any, make_user: Any
) -> None:
    """A refresh token cached by the UntypedToken stack still gets 4401 from the AccessToken stack."""
    token = await refresh_token(await create_user(make_user))
    lax = await ws.handshake("/cached-lax/ws/echo/", subprotocols=bearer_subprotocols(token))
    assert lax.whoami is not None
    assert (lax.whoami["user"], lax.whoami["authenticator"]) == ("alice", "simplejwt")
    assert_refused(await ws.handshake("/cached/ws/echo/", subprotocols=bearer_subprotocols(token)), 4401)


async def test_database_mode_refuses_a_deactivated_user_the_stateless_stack_cached(
    server: Any, ws: Any, make_user: Any
) -> None:
    """After a stateless stack cached the token of a deactivated user, the database stack still says 4403."""
    token = await mint(await create_user(make_user), "jwt")
    reply = await post(server, "/test/users/alice/deactivate/")
    assert reply.status == 200, reply.body
    strict = bearer_subprotocols(token)
    assert_refused(await ws.handshake("/cached/ws/echo/", subprotocols=strict), 4403)
    stateless = await ws.handshake("/cached-stateless/ws/echo/", subprotocols=strict)
    assert stateless.whoami is not None
    assert (stateless.whoami["is_authenticated"], stateless.whoami["authenticator"]) == (True, "simplejwt")
    assert_refused(await ws.handshake("/cached/ws/echo/", subprotocols=strict), 4403)


@pytest.mark.parametrize("kind", ["drf", "jwt"])
async def test_demoted_staff_user_is_refused_on_the_next_handshake(
    server: Any, ws: Any, make_user: Any, kind: str
) -> None:
    """Staff status removed by a save: IsStaff refuses the cached token at once (4403), no TTL wait."""
    token = await mint(await create_user(make_user, is_staff=True), kind)  # type: ignore[arg-type]
    headers = [("Authorization", f"{'Token' if kind == 'drf' else 'Bearer'} {token}")]
    admitted = await ws.handshake("/cached/ws/staff/", headers=headers)
    assert admitted.whoami is not None
    assert admitted.whoami["user"] == "alice"
    again = await ws.handshake("/cached/ws/staff/", headers=headers)  # served from the cache
    assert again.whoami is not None
    reply = await post(server, "/test/users/alice/demote/")
    assert reply.status == 200, reply.body
    assert_refused(await ws.handshake("/cached/ws/staff/", headers=headers), 4403)
    still_a_user = await ws.handshake("/cached/ws/echo/", headers=headers)
    assert still_a_user.whoami is not None
