"""The per-process identity cache: what it keeps, for how long, and what purges it."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from channels_warden.authenticators import DRFTokenAuthenticator, SimpleJWTAuthenticator
from channels_warden.credentials import Credential
from channels_warden.identity import CredentialInfo
from channels_warden.identity_cache import CacheConfig, IdentityCache, config_fingerprint

CONFIG = CacheConfig(ttl=60, max_entries=3)
DRF = DRFTokenAuthenticator()


def model_user(pk: int) -> Any:
    """An unsaved user model instance: what the database authenticators return."""
    from django.contrib.auth import get_user_model

    return get_user_model()(pk=pk, username=f"user{pk}")


def credential(secret: str = "a" * 40, scheme: str = "token") -> Credential:
    return Credential(scheme, secret, "header")


def stored(cache: IdentityCache, secret: str = "a" * 40, pk: int = 1, **info: Any) -> Credential:
    cred = credential(secret)
    user, generation = model_user(pk), cache.generation
    cache.put(cred, DRF, user, CredentialInfo(**info), config=CONFIG, generation=generation)
    return cred


def test_a_stored_credential_is_found_as_a_copy_of_its_user() -> None:
    """A hit returns the same identity, but a copy: consumers cannot change each other's user."""
    cache = IdentityCache()
    cred = stored(cache, token_id="drf:1")
    user, info = cache.get(cred, DRF)  # type: ignore[misc]
    again, _ = cache.get(cred, DRF)  # type: ignore[misc]
    assert (user.pk, info.token_id, user is again) == (1, "drf:1", False)


def test_another_authenticator_does_not_hit() -> None:
    """An entry made by one authenticator is not an answer for another."""
    cache = IdentityCache()
    assert cache.get(stored(cache), SimpleJWTAuthenticator(schemes=["token"])) is None


def test_same_class_with_other_options_does_not_hit() -> None:
    """An entry made under one configuration of a class is not an answer for another configuration."""
    cache = IdentityCache()
    cred = credential(scheme="bearer")
    lax = SimpleJWTAuthenticator(token_class="rest_framework_simplejwt.tokens.UntypedToken")
    cache.put(cred, lax, model_user(1), CredentialInfo(), config=CONFIG, generation=cache.generation)
    assert cache.get(cred, SimpleJWTAuthenticator()) is None


def test_an_equal_configuration_in_another_instance_hits() -> None:
    """A settings reload builds new instances; with the same options they share the entries."""
    cache = IdentityCache()
    assert cache.get(stored(cache), DRFTokenAuthenticator()) is not None


def test_fingerprint_covers_mode_token_class_and_schemes() -> None:
    """Every option of SimpleJWTAuthenticator changes its fingerprint; their order does not."""
    prints = {
        config_fingerprint(SimpleJWTAuthenticator()),
        config_fingerprint(SimpleJWTAuthenticator(mode="stateless")),
        config_fingerprint(SimpleJWTAuthenticator(token_class="x.Token")),
        config_fingerprint(SimpleJWTAuthenticator(schemes=["jwt"])),
    }
    same = config_fingerprint(SimpleJWTAuthenticator(schemes=["jwt", "bearer"])) == config_fingerprint(
        SimpleJWTAuthenticator(schemes=["bearer", "jwt"])
    )
    assert (len(prints), same) == (4, True)


def test_scheme_is_part_of_the_key() -> None:
    """The same secret under another scheme is another credential."""
    cache = IdentityCache()
    stored(cache, "s" * 40)
    assert cache.get(credential("s" * 40, scheme="bearer"), DRF) is None


def test_entry_never_outlives_its_credential() -> None:
    """An entry for a credential that has expired is gone, whatever the TTL."""
    cache = IdentityCache()
    cred = stored(cache, expires_at=time.time() - 1)
    assert (cache.get(cred, DRF), len(cache)) == (None, 0)


def test_entry_expires_after_the_ttl(monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry for an endless token is forgotten TTL seconds after it was stored."""
    cache = IdentityCache()
    cred = stored(cache)
    later = time.time() + CONFIG.ttl + 1
    monkeypatch.setattr(time, "time", lambda: later)
    assert cache.get(cred, DRF) is None


def test_purge_by_user_forgets_only_that_users_entries() -> None:
    """A revocation naming a user removes that user's tokens and leaves the others."""
    cache = IdentityCache()
    alice, bob = stored(cache, "a" * 40, pk=1), stored(cache, "b" * 40, pk=2)
    assert cache.purge(user="1") == 1
    assert (cache.get(alice, DRF), cache.get(bob, DRF) is not None) == (None, True)


def test_purge_by_token_id() -> None:
    """Deleting a token removes exactly the entry of that token."""
    cache = IdentityCache()
    first = stored(cache, "a" * 40, token_id="drf:a")
    stored(cache, "b" * 40, token_id="drf:b")
    assert (cache.purge(token_id="drf:a"), cache.get(first, DRF), len(cache)) == (1, None, 1)


def test_purge_limited_to_an_authenticator() -> None:
    """Blacklisting (authenticator simplejwt) keeps the user's DRF-token entries."""
    cache = IdentityCache()
    stored(cache)
    assert (cache.purge(user="1", authenticator="simplejwt"), len(cache)) == (0, 1)


def test_purge_naming_nothing_keeps_everything() -> None:
    """A session-only revocation has nothing to purge here (sessions are never cached)."""
    cache = IdentityCache()
    stored(cache)
    assert (cache.purge(), len(cache), cache.generation) == (0, 1, 0)


def test_result_verified_before_a_purge_is_not_stored() -> None:
    """A handshake in flight during a revocation cannot put the revoked identity back."""
    cache = IdentityCache()
    generation = cache.generation
    cache.purge(user="1")
    cred = credential()
    cache.put(cred, DRF, model_user(1), CredentialInfo(), config=CONFIG, generation=generation)
    assert cache.get(cred, DRF) is None


def test_least_recently_stored_entries_go_first_past_max_entries() -> None:
    """MAX_ENTRIES bounds memory; the oldest entry is dropped."""
    cache = IdentityCache()
    first = stored(cache, "1" * 40)
    for secret in ("2" * 40, "3" * 40, "4" * 40):
        stored(cache, secret)
    assert (len(cache), cache.get(first, DRF)) == (3, None)


def test_clear_empties_and_invalidates_in_flight_results() -> None:
    """clear() forgets everything and bumps the generation."""
    cache = IdentityCache()
    stored(cache)
    cache.clear()
    assert (len(cache), cache.generation) == (0, 1)


@pytest.mark.parametrize(
    "setting",
    [{"TTL": 0}, {"TTL": "60"}, {"MAX_ENTRIES": 0}, {"SIZE": 10}],
)
def test_bad_settings_explain_the_expected_shape(setting: dict[str, Any]) -> None:
    """IDENTITY_CACHE is validated with a message that shows its shape."""
    with pytest.raises(ImproperlyConfigured, match="IDENTITY_CACHE must look like"):
        CacheConfig.from_setting(setting)


def test_no_setting_means_no_cache() -> None:
    """The cache is opt-in."""
    assert CacheConfig.from_setting(None) is None


# -- through the middleware --------------------------------------------------------------------------

CACHED = {"IDENTITY_CACHE": {"TTL": 60, "MAX_ENTRIES": 100}}


@pytest.fixture
def fresh_cache() -> Any:
    from channels_warden.identity_cache import identity_cache

    identity_cache.clear()
    yield identity_cache
    identity_cache.clear()


async def admitted_user(application: Any, token: str) -> Any:
    from channels_warden.testing import WardenCommunicator, handshake

    communicator = WardenCommunicator(
        application, "/ws/echo/", headers=[(b"authorization", f"Token {token}".encode())]
    )
    outcome = await handshake(communicator)
    await communicator.disconnect()
    return outcome.close_code if not outcome.admitted else "admitted"


@pytest.mark.usefixtures("stop_revocation_listener")
async def test_warm_drf_handshake_skips_the_database(
    alice: Any, fresh_cache: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the cache on, a DRF token this process has verified is admitted without its lookup."""
    from channels.db import database_sync_to_async

    from channels_warden.authenticators.drf_token import DRFTokenAuthenticator
    from channels_warden.testing import credential_for
    from tests.inprocess import echo_application

    lookups: list[str] = []
    original = DRFTokenAuthenticator.authenticate_many

    def counted(self: DRFTokenAuthenticator, keys: Any) -> Any:
        lookups.extend(keys)
        return original(self, keys)

    monkeypatch.setattr(DRFTokenAuthenticator, "authenticate_many", counted)
    application = echo_application(**CACHED)
    token = await database_sync_to_async(credential_for)(alice, "drf")
    results = [await admitted_user(application, token) for _ in range(3)]
    assert (results, len(lookups)) == (["admitted"] * 3, 1)


@pytest.mark.usefixtures("stop_revocation_listener")
async def test_revoked_token_is_refused_on_the_next_handshake(alice: Any, fresh_cache: Any) -> None:
    """Deleting a cached token (a revocation) makes the very next handshake with it a 4401."""
    from channels.db import database_sync_to_async
    from rest_framework.authtoken.models import Token

    from channels_warden.testing import credential_for
    from tests.inprocess import echo_application

    application = echo_application(**CACHED)
    token = await database_sync_to_async(credential_for)(alice, "drf")
    assert await admitted_user(application, token) == "admitted"
    await database_sync_to_async(Token.objects.filter(key=token).delete)()
    assert (await admitted_user(application, token), len(fresh_cache)) == (4401, 0)


@pytest.mark.usefixtures("stop_revocation_listener")
async def test_sessions_are_never_cached(alice: Any, fresh_cache: Any) -> None:
    """A session handshake leaves the cache empty: sessions change without a token being deleted."""
    from channels_warden.testing import connect_as
    from tests.inprocess import echo_application

    communicator, outcome = await connect_as(
        echo_application(**CACHED), alice, "/ws/echo/", credential="session"
    )
    await communicator.disconnect()
    assert (outcome.admitted, len(fresh_cache)) == (True, 0)


@pytest.mark.usefixtures("stop_revocation_listener")
async def test_stateless_jwt_users_are_cached_without_copying(alice: Any, fresh_cache: Any) -> None:
    """SimpleJWT's TokenUser cannot be copied; stateless warm handshakes still admit (regression)."""
    from channels.db import database_sync_to_async

    from channels_warden.testing import WardenCommunicator, credential_for, handshake
    from tests.inprocess import echo_application

    stateless = {
        "CLASS": "channels_warden.authenticators.SimpleJWTAuthenticator",
        "OPTIONS": {"mode": "stateless"},
    }
    application = echo_application(**CACHED, AUTHENTICATORS=[stateless])
    token = await database_sync_to_async(credential_for)(alice, "jwt")
    outcomes = []
    for _ in range(2):
        communicator = WardenCommunicator(
            application, "/ws/echo/", subprotocols=["warden", f"bearer.{token}"]
        )
        outcomes.append((await handshake(communicator)).admitted)
        await communicator.disconnect()
    assert (outcomes, len(fresh_cache)) == ([True, True], 1)
