"""Per-route policy through a real server: anonymous routes, permissions, sync and bare ASGI apps."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from channels.db import database_sync_to_async

from .helpers import assert_refused, create_user, mint

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def grant(user: Any, app_label: str, codename: str) -> None:
    from django.contrib.auth.models import Permission

    user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


async def token_header(make_user: Any, username: str = "alice", **fields: Any) -> tuple[str, str]:
    user = await create_user(make_user, username, **fields)
    return ("Authorization", f"Token {await mint(user, 'drf')}")


# /ws/public/: guard(allow_anonymous=True) ---------------------------------------------------------


async def test_public_route_admits_anonymous_client(ws: Any) -> None:
    """``/ws/public/`` admits a client with no credentials as AnonymousUser."""
    outcome = await ws.handshake("/ws/public/")
    assert outcome.whoami is not None
    assert (outcome.whoami["user"], outcome.whoami["is_authenticated"], outcome.whoami["authenticator"]) == (
        None,
        False,
        None,
    )


async def test_public_route_refuses_invalid_credentials(ws: Any) -> None:
    """``/ws/public/`` still refuses an invalid token with 4401 instead of treating it as anonymous."""
    outcome = await ws.handshake("/ws/public/", headers=[("Authorization", f"Token {secrets.token_hex(20)}")])
    assert_refused(outcome, 4401)


async def test_public_route_refuses_malformed_credentials(ws: Any) -> None:
    """``/ws/public/`` refuses a malformed credential with 4400 instead of treating it as anonymous."""
    assert_refused(await ws.handshake("/ws/public/", headers=[("Authorization", "Bearer")]), 4400)


async def test_public_route_identifies_authenticated_client(ws: Any, make_user: Any) -> None:
    """``/ws/public/`` with a valid token admits the client as its user, not as anonymous."""
    outcome = await ws.handshake("/ws/public/", headers=[await token_header(make_user)])
    assert outcome.whoami is not None
    assert (outcome.whoami["user"], outcome.whoami["is_authenticated"]) == ("alice", True)


# /ws/staff/: guard(permissions=[IsStaff()]) ---------------------------------------------------------


async def test_staff_route_refuses_anonymous_as_unauthenticated(ws: Any) -> None:
    """``/ws/staff/`` without credentials gets 4401: credentials could help."""
    assert_refused(await ws.handshake("/ws/staff/"), 4401)


async def test_staff_route_forbids_non_staff_user(ws: Any, make_user: Any) -> None:
    """``/ws/staff/`` with a valid token of a non-staff user gets 4403."""
    assert_refused(await ws.handshake("/ws/staff/", headers=[await token_header(make_user)]), 4403)


async def test_staff_route_admits_staff_user(ws: Any, make_user: Any) -> None:
    """``/ws/staff/`` admits a staff user."""
    outcome = await ws.handshake("/ws/staff/", headers=[await token_header(make_user, is_staff=True)])
    assert outcome.whoami is not None
    assert outcome.whoami["user"] == "alice"


# /ws/perm/: guard(permissions=[HasPerm("auth.view_user")]) -------------------------------------------


async def test_perm_route_forbids_user_without_permission(ws: Any, make_user: Any) -> None:
    """``/ws/perm/`` with a user lacking ``auth.view_user`` gets 4403."""
    assert_refused(await ws.handshake("/ws/perm/", headers=[await token_header(make_user)]), 4403)


async def test_perm_route_admits_user_with_permission(ws: Any, make_user: Any) -> None:
    """``/ws/perm/`` admits a user granted ``auth.view_user``."""
    user = await create_user(make_user)
    await grant(user, "auth", "view_user")
    token = await mint(user, "drf")
    outcome = await ws.handshake("/ws/perm/", headers=[("Authorization", f"Token {token}")])
    assert outcome.whoami is not None
    assert outcome.whoami["user"] == "alice"


async def test_perm_route_forbids_user_with_another_permission(ws: Any, make_user: Any) -> None:
    """``/ws/perm/`` with ``auth.change_user`` but not ``auth.view_user`` gets 4403."""
    user = await create_user(make_user)
    await grant(user, "auth", "change_user")
    token = await mint(user, "drf")
    assert_refused(await ws.handshake("/ws/perm/", headers=[("Authorization", f"Token {token}")]), 4403)


async def test_perm_route_admits_superuser(ws: Any, make_user: Any) -> None:
    """``/ws/perm/`` admits a superuser, who holds every permission."""
    header = await token_header(make_user, is_superuser=True)
    outcome = await ws.handshake("/ws/perm/", headers=[header])
    assert outcome.whoami is not None
    assert outcome.whoami["user"] == "alice"


async def test_perm_route_refuses_anonymous_as_unauthenticated(ws: Any) -> None:
    """``/ws/perm/`` without credentials gets 4401."""
    assert_refused(await ws.handshake("/ws/perm/"), 4401)


# /ws/room/<slug>/: the guard runs inside the router ------------------------------------------------


async def test_room_route_sees_url_route(ws: Any, make_user: Any) -> None:
    """``/ws/room/lobby/`` admits an authenticated client, and the route's kwargs reach the app."""
    outcome = await ws.handshake("/ws/room/lobby/", headers=[await token_header(make_user)])
    assert outcome.whoami is not None
    assert (outcome.whoami["user"], outcome.whoami["url_route"]) == ("alice", {"room": "lobby"})


async def test_room_route_refuses_anonymous(ws: Any) -> None:
    """``/ws/room/lobby/`` without credentials gets 4401 (routes inherit ALLOW_ANONYMOUS=False)."""
    assert_refused(await ws.handshake("/ws/room/lobby/"), 4401)


# Sync consumer and bare ASGI app: protected with no base class --------------------------------------


@pytest.mark.parametrize("path", ["/ws/sync/", "/ws/raw/"])
async def test_any_app_refuses_missing_credentials(ws: Any, path: str) -> None:
    """A sync consumer and a bare ASGI app get 4401 without credentials, like the async consumer."""
    assert_refused(await ws.handshake(path), 4401)


@pytest.mark.parametrize("path", ["/ws/sync/", "/ws/raw/"])
async def test_any_app_refuses_invalid_credentials(ws: Any, path: str) -> None:
    """A sync consumer and a bare ASGI app get 4401 for an invalid token."""
    outcome = await ws.handshake(path, headers=[("Authorization", f"Token {secrets.token_hex(20)}")])
    assert_refused(outcome, 4401)


@pytest.mark.parametrize("path", ["/ws/sync/", "/ws/raw/"])
async def test_any_app_sees_the_user_without_the_credential(ws: Any, make_user: Any, path: str) -> None:
    """A sync consumer and a bare ASGI app are admitted with ``scope["user"]`` set and the header gone."""
    outcome = await ws.handshake(path, headers=[await token_header(make_user)])
    assert outcome.whoami is not None
    assert (outcome.whoami["user"], outcome.whoami["transport"]) == ("alice", "header")
    assert "authorization" not in outcome.whoami["headers"]


@pytest.mark.parametrize("path", ["/ws/sync/", "/ws/raw/"])
async def test_any_app_gets_the_marker_subprotocol(ws: Any, make_user: Any, path: str) -> None:
    """An app that accepts without choosing a subprotocol still answers ``warden`` to a subprotocol client."""
    user = await create_user(make_user)
    token = await mint(user, "jwt")
    outcome = await ws.handshake(path, subprotocols=["warden", f"bearer.{token}"])
    assert outcome.subprotocol == "warden"
    assert outcome.whoami is not None
    assert outcome.whoami["user"] == "alice"
