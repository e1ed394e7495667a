"""DRFTokenAuthenticator against real authtoken rows."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import pytest
from channels.db import database_sync_to_async
from rest_framework.authtoken.models import Token

from channels_warden.authenticators.drf_token import DRFTokenAuthenticator
from channels_warden.credentials import Credential
from channels_warden.exceptions import AuthenticationFailed, PermissionDenied

pytestmark = pytest.mark.django_db


def test_valid_token_is_its_user(make_user: Any) -> None:
    """A DRF token authenticates its user."""
    user = make_user()
    token = Token.objects.create(user=user)
    assert DRFTokenAuthenticator().authenticate_sync(token.key)[0] == user


def test_one_query(make_user: Any, django_assert_num_queries: Any) -> None:
    """Token and user come back in one query."""
    user = make_user()
    token = Token.objects.create(user=user)
    with django_assert_num_queries(1):
        result = DRFTokenAuthenticator().authenticate_sync(token.key)
    assert result[0] == user


def test_token_id_is_a_digest_not_the_key(make_user: Any) -> None:
    """The token id names the token without revealing it; opaque tokens carry no expiry or claims."""
    token = Token.objects.create(user=make_user())
    info = DRFTokenAuthenticator().authenticate_sync(token.key)[1]
    digest = hashlib.sha256(token.key.encode()).hexdigest()[:32]
    assert (info.token_id, info.expires_at, dict(info.claims)) == (f"drf:{digest}", None, {})


def test_unknown_token_is_refused() -> None:
    """A key with no row is a 4401."""
    with pytest.raises(AuthenticationFailed) as exc_info:
        DRFTokenAuthenticator().authenticate_sync("9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b")
    assert (exc_info.value.code, exc_info.value.detail) == (4401, "unknown DRF token")


def test_inactive_user_is_forbidden(make_user: Any) -> None:
    """A valid token of a deactivated user is a 4403."""
    token = Token.objects.create(user=make_user(is_active=False))
    with pytest.raises(PermissionDenied) as exc_info:
        DRFTokenAuthenticator().authenticate_sync(token.key)
    assert (exc_info.value.code, exc_info.value.detail) == (4403, "token user is inactive")


def test_custom_token_model(make_user: Any) -> None:
    """The model option points at another token model (here DRF's own proxy)."""
    user = make_user()
    token = Token.objects.create(user=user)
    assert DRFTokenAuthenticator(model="authtoken.TokenProxy").authenticate_sync(token.key)[0] == user


def test_claims_token_scheme_by_default() -> None:
    """DRF tokens are 'token' credentials unless configured otherwise."""
    assert DRFTokenAuthenticator().schemes == frozenset({"token"})


def test_schemes_option() -> None:
    """The schemes option replaces the default, lower-cased."""
    assert DRFTokenAuthenticator(schemes=["DRF"]).schemes == frozenset({"drf"})


@pytest.mark.django_db(transaction=True)
async def test_authenticate_runs_the_lookup_off_the_loop(make_user: Any) -> None:
    """The async entry point returns the same result from a worker thread."""
    user = await database_sync_to_async(make_user)()
    token = await Token.objects.acreate(user=user)
    result = await DRFTokenAuthenticator().authenticate(Credential("token", token.key, "header"), {})
    assert result is not None
    assert result[0].pk == user.pk


def _one_by_one(key: str) -> tuple[str, Any]:
    """The lookup before batching (``get(key=...)``), as a comparable verdict."""
    try:
        token = Token.objects.select_related("user").get(key=key)
    except Token.DoesNotExist:
        return ("AuthenticationFailed", "unknown DRF token")
    if not token.user.is_active:
        return ("PermissionDenied", "token user is inactive")
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return ("admitted", (token.user.pk, f"drf:{digest}"))


def _verdict(outcome: Any) -> tuple[str, Any]:
    if isinstance(outcome, Exception):
        return (type(outcome).__name__, outcome.detail)
    return ("admitted", (outcome[0].pk, outcome[1].token_id))


def test_a_batch_agrees_with_one_by_one_lookups(make_user: Any, django_assert_num_queries: Any) -> None:
    """Valid, unknown, inactive and deleted tokens (one twice) in one batch: one query, same verdicts."""
    valid = Token.objects.create(user=make_user("valid"))
    other = Token.objects.create(user=make_user("other"))
    inactive = Token.objects.create(user=make_user("inactive", is_active=False))
    deleted = Token.objects.create(user=make_user("deleted"))
    deleted_key = deleted.key
    deleted.user.delete()
    keys = [valid.key, "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b", inactive.key, deleted_key, other.key]
    keys += [valid.key, valid.key.upper()]
    with django_assert_num_queries(1):
        outcomes = DRFTokenAuthenticator().authenticate_many(keys)
    assert [_verdict(outcome) for outcome in outcomes] == [_one_by_one(key) for key in keys]
    assert outcomes[0][0] is not outcomes[5][0]  # one user per socket, as one-by-one lookups give
    assert "auth_token" not in outcomes[0][0]._state.fields_cache


def test_lone_lookups_agree_with_one_by_one_lookups(make_user: Any) -> None:
    """Lone lookups (the learned statement after the first two) give the same verdicts as get()."""
    valid = Token.objects.create(user=make_user("valid"))
    inactive = Token.objects.create(user=make_user("inactive", is_active=False))
    keys = [valid.key, inactive.key, "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b", valid.key.upper()] * 2
    authenticator = DRFTokenAuthenticator()
    outcomes = [authenticator.authenticate_many([key])[0] for key in keys]
    assert [_verdict(outcome) for outcome in outcomes] == [_one_by_one(key) for key in keys]
    assert "auth_token" not in outcomes[4][0]._state.fields_cache


async def test_concurrent_handshakes_share_one_hop(make_user: Any) -> None:
    """Six handshakes authenticating at once make one or two hops, not six."""
    create = database_sync_to_async(lambda n: Token.objects.create(user=make_user(f"u{n}")))
    tokens = [await create(n) for n in range(6)]
    authenticator = DRFTokenAuthenticator()
    credentials = [Credential(scheme="token", secret=token.key, transport="header") for token in tokens]
    results = await asyncio.gather(*(authenticator.authenticate(c, {}) for c in credentials))
    assert [result[0].username for result in results] == [f"u{n}" for n in range(6)]
    from channels_warden.batching import loader_for

    sizes = loader_for(authenticator, "tokens", authenticator.authenticate_many).batch_sizes
    assert sum(sizes) == 6
    assert len(sizes) <= 2
