"""AuthInfo and CredentialInfo: immutable records, read-only claims, secrets out of repr."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from channels_warden.identity import AuthInfo, CredentialInfo


def info_for(user: Any = "alice", claims: dict[str, Any] | None = None) -> AuthInfo:
    credential = CredentialInfo(
        expires_at=1700000000.0, claims=claims or {"user_id": "1"}, session_key="s3ss10n", token_id="jwt:j1"
    )
    return AuthInfo.from_credential(user, credential, authenticator="simplejwt", transport="subprotocol")


def test_auth_info_is_immutable() -> None:
    """scope['auth'] cannot be changed by the application."""
    auth = info_for()
    with pytest.raises(dataclasses.FrozenInstanceError):
        auth.user = "mallory"  # type: ignore[misc]


def test_credential_info_is_immutable() -> None:
    """An authenticator's result cannot be changed after the fact."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        CredentialInfo().expires_at = 1.0  # type: ignore[misc]


def test_claims_are_read_only() -> None:
    """The claims mapping refuses writes."""
    auth = info_for()
    with pytest.raises(TypeError):
        auth.claims["user_id"] = "2"  # type: ignore[index]


def test_claims_are_a_copy() -> None:
    """Changing the dict the claims came from does not change the record."""
    claims = {"user_id": "1"}
    auth = info_for(claims=claims)
    claims["user_id"] = "2"
    assert dict(auth.claims) == {"user_id": "1"}


def test_claims_given_directly_to_auth_info_are_read_only() -> None:
    """AuthInfo built by hand (custom middleware, tests) gets read-only claims too."""
    auth = AuthInfo(user="alice", claims={"scope": "chat"})
    with pytest.raises(TypeError):
        auth.claims["scope"] = "admin"  # type: ignore[index]


def test_empty_claims_are_read_only() -> None:
    """The default empty claims refuse writes as well."""
    with pytest.raises(TypeError):
        CredentialInfo().claims["x"] = 1  # type: ignore[index]


def test_from_credential_copies_every_field() -> None:
    """AuthInfo carries what the authenticator learned plus who vouched and how."""
    auth = info_for()
    assert (
        auth.user,
        auth.authenticator,
        auth.transport,
        auth.expires_at,
        dict(auth.claims),
        auth.session_key,
        auth.token_id,
    ) == ("alice", "simplejwt", "subprotocol", 1700000000.0, {"user_id": "1"}, "s3ss10n", "jwt:j1")


def test_anonymous_is_an_anonymous_user_with_nothing_else() -> None:
    """The anonymous record has AnonymousUser and no credential data."""
    auth = AuthInfo.anonymous()
    assert (
        isinstance(auth.user, AnonymousUser),
        auth.is_authenticated,
        auth.authenticator,
        auth.transport,
        auth.expires_at,
        dict(auth.claims),
        auth.token_id,
    ) == (True, False, None, None, None, {}, None)


def test_is_authenticated_follows_the_user() -> None:
    """A user object that says it is authenticated makes the record authenticated."""

    class User:
        is_authenticated = True

    assert AuthInfo(user=User()).is_authenticated is True


def test_user_without_is_authenticated_is_not_authenticated() -> None:
    """An object with no is_authenticated attribute is treated as anonymous."""
    assert AuthInfo(user=object()).is_authenticated is False


def test_repr_hides_the_session_key() -> None:
    """A logged AuthInfo does not leak the session key."""
    assert "s3ss10n" not in repr(info_for())


def test_credential_info_repr_hides_the_session_key() -> None:
    """A logged CredentialInfo does not leak the session key."""
    assert "s3ss10n" not in repr(CredentialInfo(session_key="s3ss10n"))
