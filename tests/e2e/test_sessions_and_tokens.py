"""Session cookies, DRF tokens and knox tokens that must not open a socket, and conflicting credentials."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone

from .helpers import assert_refused, create_user, mint

pytestmark = pytest.mark.django_db(transaction=True)


def session_cookie(key: str) -> tuple[str, str]:
    return ("Cookie", f"{settings.SESSION_COOKIE_NAME}={key}")


@database_sync_to_async
def expire_session(key: str) -> None:
    from django.contrib.sessions.models import Session

    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))


@database_sync_to_async
def anonymous_session_key() -> str:
    from importlib import import_module

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session["cart"] = "something that is not a login"
    session.save()
    return str(session.session_key)


@database_sync_to_async
def change_password(user: Any) -> None:
    user.set_password("a brand new password")
    user.save()


@database_sync_to_async
def deactivate(user: Any) -> None:
    user.is_active = False
    user.save(update_fields=["is_active"])


@database_sync_to_async
def expire_knox_tokens(user: Any) -> None:
    from knox.models import get_token_model

    get_token_model().objects.filter(user=user).update(expiry=timezone.now() - timedelta(seconds=1))


async def test_forged_session_cookie_is_refused(ws: Any) -> None:
    """A session key that names no session (guessed or forged) gets 4401."""
    outcome = await ws.handshake("/ws/echo/", headers=[session_cookie(secrets.token_hex(16))])
    assert_refused(outcome, 4401)


async def test_expired_session_is_refused(ws: Any, make_user: Any) -> None:
    """A session past its ``expire_date`` gets 4401."""
    user = await create_user(make_user)
    key = await mint(user, "session")
    await expire_session(key)
    assert_refused(await ws.handshake("/ws/echo/", headers=[session_cookie(key)]), 4401)


async def test_session_after_password_change_is_refused(ws: Any, make_user: Any) -> None:
    """A password change ends the user's other sessions (session auth hash), as in Django: 4401."""
    user = await create_user(make_user)
    key = await mint(user, "session")
    await change_password(user)
    assert_refused(await ws.handshake("/ws/echo/", headers=[session_cookie(key)]), 4401)


async def test_session_of_a_deleted_user_is_refused(ws: Any, make_user: Any) -> None:
    """A session whose user was deleted gets 4401."""
    user = await create_user(make_user)
    key = await mint(user, "session")
    await database_sync_to_async(user.delete)()
    assert_refused(await ws.handshake("/ws/echo/", headers=[session_cookie(key)]), 4401)


async def test_session_of_an_inactive_user_is_forbidden(ws: Any, make_user: Any) -> None:
    """A session whose user was deactivated gets 4403, as an inactive user's token does."""
    user = await create_user(make_user)
    key = await mint(user, "session")
    await deactivate(user)
    assert_refused(await ws.handshake("/ws/echo/", headers=[session_cookie(key)]), 4403)


async def test_session_without_a_login_is_anonymous(ws: Any) -> None:
    """A real session that nobody logged into is no credential: 4401 where credentials are required."""
    key = await anonymous_session_key()
    assert_refused(await ws.handshake("/ws/echo/", headers=[session_cookie(key)]), 4401)


async def test_session_cookie_with_characters_no_key_has_is_a_bad_request(ws: Any) -> None:
    """A session cookie value that cannot be a session key (``$``) gets 4400 before any lookup."""
    assert_refused(await ws.handshake("/ws/echo/", headers=[session_cookie("abc$def")]), 4400)


async def test_unknown_drf_token_is_refused(ws: Any) -> None:
    """A DRF key that matches no token gets 4401."""
    outcome = await ws.handshake("/ws/echo/", headers=[("Authorization", f"Token {secrets.token_hex(20)}")])
    assert_refused(outcome, 4401)


async def test_drf_token_of_a_deleted_user_is_refused(ws: Any, make_user: Any) -> None:
    """Deleting a user deletes its DRF token with it: the old key gets 4401."""
    user = await create_user(make_user)
    key = await mint(user, "drf")
    await database_sync_to_async(user.delete)()
    assert_refused(await ws.handshake("/ws/echo/", headers=[("Authorization", f"Token {key}")]), 4401)


async def test_drf_token_of_an_inactive_user_is_forbidden(ws: Any, make_user: Any) -> None:
    """A DRF token of a user with ``is_active=False`` gets 4403."""
    user = await create_user(make_user, is_active=False)
    key = await mint(user, "drf")
    assert_refused(await ws.handshake("/ws/echo/", headers=[("Authorization", f"Token {key}")]), 4403)


async def test_unknown_knox_token_is_refused(ws: Any) -> None:
    """Under ``/knox/`` a token knox never issued gets 4401."""
    outcome = await ws.handshake(
        "/knox/ws/echo/", headers=[("Authorization", f"Token {secrets.token_hex(32)}")]
    )
    assert_refused(outcome, 4401)


async def test_expired_knox_token_is_refused(ws: Any, make_user: Any) -> None:
    """Under ``/knox/`` a knox token past its expiry gets 4401."""
    user = await create_user(make_user)
    token = await mint(user, "knox")
    await expire_knox_tokens(user)
    assert_refused(await ws.handshake("/knox/ws/echo/", headers=[("Authorization", f"Token {token}")]), 4401)


async def test_knox_token_of_an_inactive_user_is_forbidden(ws: Any, make_user: Any) -> None:
    """Under ``/knox/`` a knox token of a user with ``is_active=False`` gets 4403."""
    user = await create_user(make_user, is_active=False)
    token = await mint(user, "knox")
    assert_refused(await ws.handshake("/knox/ws/echo/", headers=[("Authorization", f"Token {token}")]), 4403)


async def test_two_transports_naming_different_users_is_a_bad_request(ws: Any, make_user: Any) -> None:
    """A DRF token for alice in the header and a JWT for bob in the subprotocol get 4400."""
    alice = await create_user(make_user, "alice")
    bob = await create_user(make_user, "bob")
    drf, jwt = await mint(alice, "drf"), await mint(bob, "jwt")
    outcome = await ws.handshake(
        "/ws/echo/", headers=[("Authorization", f"Token {drf}")], subprotocols=["warden", f"bearer.{jwt}"]
    )
    assert_refused(outcome, 4400)


async def test_session_cookie_and_header_naming_different_users_is_a_bad_request(
    ws: Any, make_user: Any
) -> None:
    """A session cookie for alice and a JWT for bob in the header get 4400, not a choice of one."""
    alice = await create_user(make_user, "alice")
    bob = await create_user(make_user, "bob")
    session, jwt = await mint(alice, "session"), await mint(bob, "jwt")
    outcome = await ws.handshake(
        "/ws/echo/", headers=[session_cookie(session), ("Authorization", f"Bearer {jwt}")]
    )
    assert_refused(outcome, 4400)


async def test_two_transports_naming_the_same_user_are_admitted(ws: Any, make_user: Any) -> None:
    """A DRF token and a JWT for the same user agree: admitted, the explicit header credential first."""
    user = await create_user(make_user)
    drf, jwt = await mint(user, "drf"), await mint(user, "jwt")
    outcome = await ws.handshake(
        "/ws/echo/", headers=[("Authorization", f"Token {drf}")], subprotocols=["warden", f"bearer.{jwt}"]
    )
    assert outcome.whoami is not None
    assert (outcome.whoami["user"], outcome.whoami["transport"]) == ("alice", "header")


async def test_stale_cookie_next_to_a_valid_header_token_is_ignored(ws: Any, make_user: Any) -> None:
    """An invalid ``access_token`` cookie beside a valid header token proves nothing and is ignored."""
    user = await create_user(make_user)
    drf = await mint(user, "drf")
    outcome = await ws.handshake(
        "/ws/echo/", headers=[("Authorization", f"Token {drf}"), ("Cookie", "access_token=stale.jwt.value")]
    )
    assert outcome.whoami is not None
    assert (outcome.whoami["user"], outcome.whoami["transport"]) == ("alice", "header")


async def test_invalid_header_token_next_to_a_valid_cookie_is_refused(ws: Any, make_user: Any) -> None:
    """An invalid explicit credential is never outvoted by a valid cookie: 4401."""
    user = await create_user(make_user)
    session = await mint(user, "session")
    outcome = await ws.handshake(
        "/ws/echo/", headers=[session_cookie(session), ("Authorization", f"Token {secrets.token_hex(20)}")]
    )
    assert_refused(outcome, 4401)
