"""KnoxAuthenticator against real knox tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from knox.models import get_token_model

from channels_warden.authenticators.knox import KnoxAuthenticator
from channels_warden.credentials import Credential
from channels_warden.exceptions import AuthenticationFailed, PermissionDenied

pytestmark = pytest.mark.django_db


def create_token(user: Any, **kwargs: Any) -> tuple[Any, str]:
    instance, token = get_token_model().objects.create(user=user, **kwargs)
    return instance, str(token)


def test_valid_token_is_its_user(make_user: Any) -> None:
    """A knox token authenticates its user."""
    user = make_user()
    _, token = create_token(user)
    assert KnoxAuthenticator().authenticate_sync(token)[0] == user


def test_expiry_and_token_id(make_user: Any) -> None:
    """expires_at is the token's expiry; the token id is a prefix of knox's digest, not the token."""
    instance, token = create_token(make_user())
    info = KnoxAuthenticator().authenticate_sync(token)[1]
    assert (info.expires_at, info.token_id) == (instance.expiry.timestamp(), f"knox:{instance.digest[:32]}")


def test_token_without_expiry(make_user: Any) -> None:
    """A knox token created without expiry never expires."""
    _, token = create_token(make_user(), expiry=None)
    assert KnoxAuthenticator().authenticate_sync(token)[1].expires_at is None


def test_expired_token_is_refused(make_user: Any) -> None:
    """An expired token is a 4401 (knox deletes it while refusing it)."""
    instance, token = create_token(make_user(), expiry=timedelta(seconds=-1))
    with pytest.raises(AuthenticationFailed) as exc_info:
        KnoxAuthenticator().authenticate_sync(token)
    assert (exc_info.value.code, exc_info.value.detail) == (4401, "knox refused the token: Invalid token.")
    assert not get_token_model().objects.filter(pk=instance.pk).exists()


def test_wrong_token_is_refused(make_user: Any) -> None:
    """A token that matches a stored prefix but not its digest is refused."""
    _, token = create_token(make_user())
    wrong = token[:15] + ("0" if token[15] != "0" else "1") + token[16:]
    with pytest.raises(AuthenticationFailed) as exc_info:
        KnoxAuthenticator().authenticate_sync(wrong)
    assert exc_info.value.detail == "knox refused the token: Invalid token."


def test_unknown_token_is_refused() -> None:
    """A token no row has is refused."""
    with pytest.raises(AuthenticationFailed) as exc_info:
        KnoxAuthenticator().authenticate_sync("f" * 64)
    assert exc_info.value.detail == "knox refused the token: Invalid token."


def test_inactive_user_is_forbidden(make_user: Any) -> None:
    """A valid token of a deactivated user is a 4403, as with the other backends."""
    _, token = create_token(make_user(is_active=False))
    with pytest.raises(PermissionDenied) as exc_info:
        KnoxAuthenticator().authenticate_sync(token)
    assert (exc_info.value.code, exc_info.value.detail) == (4403, "knox token user is inactive")


@pytest.mark.django_db(transaction=True)
async def test_authenticate_runs_the_lookup_off_the_loop(make_user: Any) -> None:
    """The async entry point returns the same result from a worker thread."""
    user = await database_sync_to_async(make_user)()
    _, token = await database_sync_to_async(create_token)(user)
    result = await KnoxAuthenticator().authenticate(Credential("token", token, "header"), {})
    assert result is not None
    assert result[0].pk == user.pk
