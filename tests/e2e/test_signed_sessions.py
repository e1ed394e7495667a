"""Signed-cookie sessions through a real server (profile ``/signed/``: the user cached, no thread hop)."""

from __future__ import annotations

from importlib import import_module
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

from .helpers import assert_refused, create_user

pytestmark = pytest.mark.django_db(transaction=True)

SIGNED = "django.contrib.sessions.backends.signed_cookies"


@database_sync_to_async
def signed_session(user: Any) -> str:
    store = import_module(SIGNED).SessionStore()
    store.update(
        {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: settings.AUTHENTICATION_BACKENDS[0],
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
    )
    store.save()
    return str(store.session_key)


def cookie(value: str) -> list[tuple[str, str]]:
    return [("Cookie", f"{settings.SESSION_COOKIE_NAME}={value}")]


async def test_a_signed_cookie_session_is_admitted_again_and_again(ws: Any, make_user: Any) -> None:
    """The first handshake loads the user; the next ones (judged from the cache) admit the same user."""
    user = await create_user(make_user, "signed-alice")
    value = await signed_session(user)
    outcomes = [await ws.handshake("/signed/ws/echo/", headers=cookie(value)) for _ in range(3)]
    assert [outcome.whoami["user"] for outcome in outcomes] == ["signed-alice"] * 3
    assert {outcome.whoami["authenticator"] for outcome in outcomes} == {"session"}


async def test_a_tampered_signed_cookie_is_refused(ws: Any, make_user: Any) -> None:
    """A signed cookie whose signature does not match is a 4401, cached user or not."""
    user = await create_user(make_user, "signed-bob")
    value = await signed_session(user)
    await ws.handshake("/signed/ws/echo/", headers=cookie(value))
    tampered = value[:-2] + ("AA" if not value.endswith("AA") else "BB")
    assert_refused(await ws.handshake("/signed/ws/echo/", headers=cookie(tampered)), 4401)
