"""The authenticator contract, shown with a custom authenticator: None absent, result valid, raise invalid."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.contrib.auth.models import User

from channels_warden import WardenMiddleware, guard
from channels_warden.authenticators import BaseAuthenticator, token_digest
from channels_warden.credentials import Credential
from channels_warden.exceptions import AuthenticationFailed
from channels_warden.identity import CredentialInfo
from channels_warden.testing import WardenCommunicator, handshake
from tests.inprocess import RecordingApp

SERVICE = User(pk=7, username="billing-service")
KEYS = {"k-live-0001": SERVICE}


class ApiKeyAuthenticator(BaseAuthenticator):
    """The module docstring's example, with a dict for a table: keys it knows, refuses or passes on."""

    name = "api_key"
    default_schemes = ("apikey",)

    async def authenticate(self, credential: Credential, scope: Any) -> Any:
        if credential.secret.startswith("other-"):
            return None  # not one of ours: the next authenticator may know it
        user = KEYS.get(credential.secret)
        if user is None:
            raise AuthenticationFailed("unknown API key")
        return user, CredentialInfo(token_id=token_digest(credential.secret, "apikey"))


class OtherKeyAuthenticator(BaseAuthenticator):
    """A second authenticator for the same scheme, consulted when the first returns None."""

    name = "other_key"
    default_schemes = ("apikey",)

    async def authenticate(self, credential: Credential, scope: Any) -> Any:
        if credential.secret == "other-0002":
            return User(pk=8, username="reporting-service"), CredentialInfo()
        return None


TRANSPORT = {
    "CLASS": "channels_warden.transports.AuthorizationHeaderTransport",
    "OPTIONS": {"keywords": {"ApiKey": "apikey"}},
}


pytestmark = pytest.mark.usefixtures("stop_revocation_listener")


def application(inner: Any, *authenticators: BaseAuthenticator) -> WardenMiddleware:
    settings = {"TRANSPORTS": [TRANSPORT], "AUTHENTICATORS": list(authenticators)}
    return WardenMiddleware(guard(inner, allow_anonymous=True), settings=settings)


def communicator_for(app: Any, key: str) -> WardenCommunicator:
    return WardenCommunicator(app, "/ws/", headers=[(b"authorization", f"ApiKey {key}".encode())])


async def test_valid_key_admits_its_user() -> None:
    """A custom authenticator's (user, info) becomes scope['auth'] under its name."""
    inner = RecordingApp()
    communicator = communicator_for(application(inner, ApiKeyAuthenticator()), "k-live-0001")
    assert (await handshake(communicator)).admitted is True
    await communicator.disconnect()
    auth = inner.scope["auth"]
    assert (auth.user, auth.authenticator, auth.transport, auth.token_id) == (
        SERVICE,
        "api_key",
        "header",
        "apikey:" + hashlib.sha256(b"k-live-0001").hexdigest()[:32],
    )


async def test_raising_stops_the_chain() -> None:
    """A raised rejection refuses the socket; no later authenticator and no anonymous fallback."""
    inner = RecordingApp()
    app = application(inner, ApiKeyAuthenticator(), OtherKeyAuthenticator())
    outcome = await handshake(communicator_for(app, "k-unknown"))
    assert (outcome.close_code, inner.calls) == (4401, 0)


async def test_none_lets_the_next_authenticator_judge() -> None:
    """None means 'not mine': the next authenticator claiming the scheme is asked."""
    inner = RecordingApp()
    communicator = communicator_for(
        application(inner, ApiKeyAuthenticator(), OtherKeyAuthenticator()), "other-0002"
    )
    assert (await handshake(communicator)).admitted is True
    await communicator.disconnect()
    assert (inner.scope["user"].username, inner.scope["auth"].authenticator) == (
        "reporting-service",
        "other_key",
    )


async def test_none_from_every_authenticator_is_anonymous() -> None:
    """When every authenticator passes, the client is anonymous (the route decides if that is enough)."""
    inner = RecordingApp()
    communicator = communicator_for(
        application(inner, ApiKeyAuthenticator(), OtherKeyAuthenticator()), "other-9"
    )
    assert (await handshake(communicator)).admitted is True
    await communicator.disconnect()
    assert inner.scope["auth"].is_authenticated is False


async def test_base_authenticate_is_abstract() -> None:
    """Subclasses must implement authenticate."""
    with pytest.raises(NotImplementedError):
        await BaseAuthenticator().authenticate(Credential("x", "y", "z"), {})


def test_schemes_default_to_the_class_and_can_be_overridden() -> None:
    """default_schemes apply unless schemes are given; both are lower-cased."""
    assert (ApiKeyAuthenticator().schemes, ApiKeyAuthenticator(schemes=["Key", "APIKEY"]).schemes) == (
        frozenset({"apikey"}),
        frozenset({"key", "apikey"}),
    )


def test_handles_only_its_schemes() -> None:
    """handles() is a scheme check, nothing else."""
    authenticator = ApiKeyAuthenticator()
    assert (
        authenticator.handles(Credential("apikey", "x", "header")),
        authenticator.handles(Credential("bearer", "x", "header")),
    ) == (True, False)


def test_token_digest_is_stable_and_short() -> None:
    """token_digest names a token by prefix and 32 hex characters of its SHA-256."""
    assert token_digest("secret", "drf") == "drf:" + hashlib.sha256(b"secret").hexdigest()[:32]


def test_lazy_exports_resolve() -> None:
    """The package exports each built-in authenticator lazily, by name."""
    import channels_warden.authenticators as package
    from channels_warden.authenticators.knox import KnoxAuthenticator

    assert package.KnoxAuthenticator is KnoxAuthenticator


def test_unknown_export_is_an_attribute_error() -> None:
    """A name the package does not export raises AttributeError naming it."""
    import channels_warden.authenticators as package

    with pytest.raises(
        AttributeError, match=r"^module 'channels_warden.authenticators' has no attribute 'Nope'$"
    ):
        package.Nope  # noqa: B018
