"""SimpleJWTAuthenticator: SimpleJWT's validation plus a strict user id claim."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.core.exceptions import ImproperlyConfigured
from rest_framework_simplejwt.models import TokenUser
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from channels_warden.authenticators.simplejwt import SimpleJWTAuthenticator, checked_user_id
from channels_warden.credentials import Credential
from channels_warden.exceptions import AuthenticationFailed, CredentialExpired, PermissionDenied


class Stub:
    """A user that was never saved: enough to mint a token without the database."""

    def __init__(self, pk: Any = 1, password: str = "") -> None:
        self.id = self.pk = pk
        self.password = password
        self.is_active = True


def bearer(token: Any) -> Credential:
    return Credential("bearer", str(token), "subprotocol")


def token_with(user_id: Any) -> AccessToken:
    """An access token whose user id claim is ``user_id`` (valid in every other way)."""
    token = AccessToken.for_user(Stub())  # type: ignore[arg-type]
    token["user_id"] = user_id
    return token


async def refusal(authenticator: SimpleJWTAuthenticator, token: Any) -> AuthenticationFailed:
    with pytest.raises(AuthenticationFailed) as exc_info:
        await authenticator.authenticate(bearer(token), {})
    return exc_info.value


STATELESS = SimpleJWTAuthenticator(mode="stateless")


# -- the user id claim -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        ("abc", "user id claim does not parse as the user key"),
        (True, "user id claim has type bool"),
        (False, "user id claim has type bool"),
        (1.0, "user id claim has type float"),
        ([1], "user id claim has type list"),
        ({"id": 1}, "user id claim has type dict"),
        (None, "user id claim has type NoneType"),
        (" 1", "user id claim is not in canonical form"),
        ("01", "user id claim is not in canonical form"),
        ("+1", "user id claim is not in canonical form"),
        ("1.0", "user id claim does not parse as the user key"),
    ],
)
async def test_user_id_claim_must_be_exact(value: Any, detail: str) -> None:
    """Booleans, floats, lists and non-canonical strings are refused, never coerced to user 1."""
    assert (await refusal(STATELESS, token_with(value))).detail == detail


@pytest.mark.parametrize(("value", "parsed"), [("1", 1), (1, 1), ("42", 42)])
def test_user_id_claim_in_canonical_form_parses(value: Any, parsed: int) -> None:
    """A canonical string or an integer parses to the primary key."""
    assert checked_user_id(value, "id") == parsed


async def test_missing_user_id_claim_is_refused() -> None:
    """A token without the user id claim is refused."""
    token = token_with(1)
    del token["user_id"]
    assert (await refusal(STATELESS, token)).detail == "JWT has no user id claim"


# -- what SimpleJWT checks -------------------------------------------------------------------------


async def test_refresh_token_is_refused() -> None:
    """A refresh token is not an access token."""
    refresh = RefreshToken.for_user(Stub())  # type: ignore[arg-type]
    rejection = await refusal(STATELESS, refresh)
    assert (rejection.reason, rejection.detail) == (
        "unauthenticated",
        "JWT refused by SimpleJWT: Token has wrong type",
    )


async def test_expired_token_is_credential_expired() -> None:
    """An expired token is a 4401 with reason token_expired, so the client knows to refresh."""
    token = token_with("1")
    token.set_exp(lifetime=-timedelta(minutes=1))
    with pytest.raises(CredentialExpired) as exc_info:
        await STATELESS.authenticate(bearer(token), {})
    assert (exc_info.value.code, exc_info.value.reason, exc_info.value.detail) == (
        4401,
        "token_expired",
        "JWT expired",
    )


async def test_tampered_token_is_refused() -> None:
    """A token whose payload was changed after signing fails the signature check."""
    header, _, signature = str(token_with("1")).split(".")
    forged = str(token_with("2")).split(".")[1]
    rejection = await refusal(STATELESS, f"{header}.{forged}.{signature}")
    assert (rejection.reason, rejection.detail) == (
        "unauthenticated",
        "JWT refused by SimpleJWT: Token is invalid",
    )


async def test_garbage_is_refused() -> None:
    """Something that is not a JWT at all is refused, not crashed on."""
    assert (await refusal(STATELESS, "abc")).detail == "JWT has 1 segments, not 3"


def signed(**claims: Any) -> str:
    """A token signed with the real key: valid claims with ``claims`` laid over them.

    Signed by hand, since PyJWT refuses to encode some of the malformed claims a client can send.
    """
    import base64
    import hashlib
    import hmac
    import json

    from django.conf import settings

    def part(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    config = settings.SIMPLE_JWT
    payload = {**token_with("1").payload, "aud": config["AUDIENCE"], "iss": config["ISSUER"], **claims}
    signing_input = part(b'{"alg":"HS256","typ":"JWT"}') + b"." + part(json.dumps(payload).encode())
    key = config["SIGNING_KEY"].encode()
    return (signing_input + b"." + part(hmac.digest(key, signing_input, hashlib.sha256))).decode()


#: One value of every JSON type (and the numbers that overflow a datetime).
JSON_VALUES = {
    "string": "1800000000",
    "huge_int": 10**30,
    "huge_float": 1e300,
    "bool": True,
    "null": None,
    "list": [1],
    "object": {"a": 1},
}


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("kind", list(JSON_VALUES))
async def test_time_claims_of_any_wrong_type_or_range_are_4401(claim: str, kind: str) -> None:
    """exp, nbf and iat as strings, huge numbers, bools, null, lists or objects are 4401, never a crash."""
    rejection = await refusal(STATELESS, signed(**{claim: JSON_VALUES[kind]}))
    assert (rejection.code, rejection.detail.startswith(f"JWT claim {claim!r} ")) == (4401, True)


@pytest.mark.parametrize("claim", ["jti", "token_type", "iss", "aud"])
@pytest.mark.parametrize("kind", ["huge_int", "huge_float", "bool", "null", "object"])
async def test_string_claims_of_any_wrong_type_are_4401(claim: str, kind: str) -> None:
    """jti, token_type, iss and aud that are not strings are 4401, never a crash."""
    rejection = await refusal(STATELESS, signed(**{claim: JSON_VALUES[kind]}))
    assert (rejection.code, rejection.detail.startswith(f"JWT claim {claim!r} ")) == (4401, True)


@pytest.mark.parametrize("kind", [kind for kind in JSON_VALUES if kind != "string"])
async def test_user_id_claim_of_any_wrong_type_is_4401(kind: str) -> None:
    """The user id claim of every wrong JSON type (and a huge integer) is 4401, never a crash."""
    rejection = await refusal(STATELESS, signed(user_id=JSON_VALUES[kind]))
    assert (rejection.code, rejection.detail.startswith("user id claim ")) == (4401, True)


async def test_user_id_claim_beyond_64_bits_is_refused() -> None:
    """An integer user id that no primary key can hold is refused before any query."""
    assert (await refusal(STATELESS, signed(user_id=2**63))).detail == "user id claim is out of range"


async def test_float_exp_in_range_is_admitted() -> None:
    """RFC 7519 allows fractional NumericDates; SimpleJWT admits them and so does warden."""
    exp = float(token_with("1").payload["exp"]) + 0.5
    result = await STATELESS.authenticate(bearer(signed(exp=exp)), {})
    assert result is not None
    assert result[1].expires_at == exp


# -- stateless mode --------------------------------------------------------------------------------


async def test_stateless_makes_no_database_access() -> None:
    """Stateless mode builds a TokenUser from the claims (this test has no database at all)."""
    result = await STATELESS.authenticate(bearer(token_with("7")), {})
    assert result is not None
    assert (type(result[0]), result[0].pk) == (TokenUser, "7")


async def test_stateless_user_keeps_the_claims_but_not_the_encoded_token() -> None:
    """The TokenUser in the scope reads its claims; the credential string itself is not kept."""
    raw = str(token_with("7"))
    result = await STATELESS.authenticate(bearer(raw), {})
    assert result is not None
    user, info = result
    assert (user.token.token, user.token["user_id"], info.claims["user_id"]) == (None, "7", "7")
    with pytest.raises(TypeError):
        info.claims["user_id"] = "8"  # type: ignore[index]


@pytest.mark.django_db
def test_stateless_counts_zero_queries(django_assert_num_queries: Any) -> None:
    """Counted on an event loop in this thread: stateless authentication makes no query."""
    import asyncio

    with django_assert_num_queries(0):
        result = asyncio.run(STATELESS.authenticate(bearer(token_with("7")), {}))
    assert result is not None
    assert result[0].pk == "7"


async def test_info_comes_from_the_claims() -> None:
    """expires_at is exp, claims are the payload, token_id is the jti."""
    raw = str(token_with("7"))
    result = await STATELESS.authenticate(bearer(raw), {})
    assert result is not None
    info, payload = result[1], AccessToken(raw).payload
    assert (info.expires_at, dict(info.claims), info.token_id) == (
        float(payload["exp"]),
        payload,
        f"jwt:{payload['jti']}",
    )


async def test_no_token_id_without_a_jti_claim(settings: Any) -> None:
    """With JTI_CLAIM disabled there is no token id."""
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "JTI_CLAIM": None}
    result = await STATELESS.authenticate(bearer(token_with("7")), {})
    assert result is not None
    assert result[1].token_id is None


# -- database mode ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_database_mode_loads_the_user_in_one_query(make_user: Any, django_assert_num_queries: Any) -> None:
    """The blocking part of database mode is one query."""
    user = make_user()
    token = AccessToken.for_user(user)
    with django_assert_num_queries(1):
        assert SimpleJWTAuthenticator().load_user(user.pk, token) == user


@pytest.mark.django_db
def test_database_mode_refuses_a_deleted_user(make_user: Any) -> None:
    """A token for a user that no longer exists is a 4401."""
    user = make_user()
    token = AccessToken.for_user(user)
    pk = user.pk
    user.delete()
    with pytest.raises(AuthenticationFailed) as exc_info:
        SimpleJWTAuthenticator().load_user(pk, token)
    assert exc_info.value.detail == "JWT names a user that does not exist"


@pytest.mark.django_db
def test_database_mode_refuses_an_inactive_user(make_user: Any) -> None:
    """A token of a deactivated user is a 4403."""
    user = make_user(is_active=False)
    with pytest.raises(PermissionDenied) as exc_info:
        SimpleJWTAuthenticator().load_user(user.pk, AccessToken.for_user(user))
    assert (exc_info.value.code, exc_info.value.detail) == (4403, "JWT user is inactive")


@pytest.mark.django_db
def test_check_user_is_active_off_admits_inactive_users(make_user: Any, settings: Any) -> None:
    """SimpleJWT's CHECK_USER_IS_ACTIVE = False is honoured."""
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "CHECK_USER_IS_ACTIVE": False}
    user = make_user(is_active=False)
    assert SimpleJWTAuthenticator().load_user(user.pk, AccessToken.for_user(user)) == user


@pytest.mark.django_db
def test_check_revoke_token_refuses_a_token_from_before_a_password_change(
    make_user: Any, settings: Any
) -> None:
    """With CHECK_REVOKE_TOKEN, a token whose password hash claim is stale is refused."""
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "CHECK_REVOKE_TOKEN": True}
    user = make_user()
    token = AccessToken.for_user(user)
    token["hash_password"] = get_md5_hash_password(user.password)
    user.set_password("a new password")
    user.save()
    with pytest.raises(AuthenticationFailed) as exc_info:
        SimpleJWTAuthenticator().load_user(user.pk, token)
    assert exc_info.value.detail == "JWT issued before the user's password changed"


@pytest.mark.django_db
def test_check_revoke_token_admits_a_current_token(make_user: Any, settings: Any) -> None:
    """With CHECK_REVOKE_TOKEN, a token carrying the current password hash is admitted."""
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "CHECK_REVOKE_TOKEN": True}
    user = make_user()
    token = AccessToken.for_user(user)
    token["hash_password"] = get_md5_hash_password(user.password)
    assert SimpleJWTAuthenticator().load_user(user.pk, token) == user


@pytest.mark.django_db
def test_check_revoke_token_refuses_a_token_without_the_claim(make_user: Any, settings: Any) -> None:
    """With CHECK_REVOKE_TOKEN, a token minted before the setting was on is refused."""
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "CHECK_REVOKE_TOKEN": True}
    user = make_user()
    token = AccessToken.for_user(user)  # SimpleJWT's tokens module does not see the override: no claim
    assert "hash_password" not in token
    with pytest.raises(AuthenticationFailed):
        SimpleJWTAuthenticator().load_user(user.pk, token)


@pytest.mark.django_db
def test_check_revoke_token_off_ignores_password_changes(make_user: Any) -> None:
    """Without CHECK_REVOKE_TOKEN a password change does not end a token (SimpleJWT's default)."""
    user = make_user()
    token = AccessToken.for_user(user)
    user.set_password("a new password")
    user.save()
    assert SimpleJWTAuthenticator().load_user(user.pk, token) == user


@pytest.mark.django_db(transaction=True)
async def test_database_mode_end_to_end(make_user: Any) -> None:
    """authenticate() validates, checks the claim and loads the user from the database."""
    user = await database_sync_to_async(make_user)()
    token = AccessToken.for_user(user)
    result = await SimpleJWTAuthenticator().authenticate(bearer(token), {})
    assert result is not None
    assert (result[0].pk, result[1].token_id) == (user.pk, f"jwt:{token['jti']}")


async def test_jwk_url_moves_validation_off_the_loop(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """With JWK_URL set, validation (which may fetch keys) runs in a worker thread."""
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "JWK_URL": "https://auth.testserver/.well-known/jwks.json"}
    threads: list[int] = []
    original = SimpleJWTAuthenticator.validate

    def recording_validate(self: SimpleJWTAuthenticator, raw: str) -> Any:
        threads.append(threading.get_ident())
        return original(self, raw)

    monkeypatch.setattr(SimpleJWTAuthenticator, "validate", recording_validate)
    await STATELESS.authenticate(bearer(token_with("7")), {})
    assert threads != [threading.get_ident()]
    assert len(threads) == 1


def test_unknown_mode_is_a_configuration_error() -> None:
    """A mode other than database or stateless fails at construction."""
    with pytest.raises(ImproperlyConfigured) as exc_info:
        SimpleJWTAuthenticator(mode="lenient")  # type: ignore[arg-type]
    assert str(exc_info.value) == (
        "SimpleJWTAuthenticator mode must be one of ('database', 'stateless'), not 'lenient'."
    )


def test_claims_bearer_scheme_by_default() -> None:
    """JWTs are bearer credentials."""
    assert SimpleJWTAuthenticator().schemes == frozenset({"bearer"})


def _load_one_by_one(user_id: Any, token: Any) -> tuple[str, Any]:
    """Database mode's lookup before batching (``get(pk=...)``), as a comparable verdict."""
    from django.contrib.auth import get_user_model

    model = get_user_model()
    try:
        user = model._default_manager.get(pk=user_id)
    except model.DoesNotExist:
        return ("AuthenticationFailed", "JWT names a user that does not exist")
    if not user.is_active:
        return ("PermissionDenied", "JWT user is inactive")
    if token.payload.get("hash_password") != get_md5_hash_password(user.password):
        return ("AuthenticationFailed", "JWT issued before the user's password changed")
    return ("admitted", user.pk)


@pytest.mark.django_db
def test_a_batch_of_users_agrees_with_one_by_one_lookups(
    make_user: Any, settings: Any, django_assert_num_queries: Any
) -> None:
    """Valid, inactive, deleted, stale-password and repeated users in one batch: one query, same verdicts."""
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "CHECK_REVOKE_TOKEN": True}
    users = {name: make_user(name) for name in ("valid", "inactive", "deleted", "stale")}
    tokens = {}
    for name, user in users.items():
        tokens[name] = AccessToken.for_user(user)
        tokens[name]["hash_password"] = get_md5_hash_password(user.password)
    users["inactive"].is_active = False
    users["inactive"].save()
    users["stale"].set_password("a new password")
    users["stale"].save()
    deleted_pk = users["deleted"].pk
    users["deleted"].delete()
    members = [(deleted_pk if name == "deleted" else user.pk, tokens[name]) for name, user in users.items()]
    members += [members[0], (999_999, tokens["valid"])]
    with django_assert_num_queries(1):
        outcomes = SimpleJWTAuthenticator().load_users(members)
    verdicts = [
        (type(o).__name__, o.detail) if isinstance(o, Exception) else ("admitted", o.pk) for o in outcomes
    ]
    assert verdicts == [_load_one_by_one(user_id, token) for user_id, token in members]
    assert outcomes[0] is not outcomes[4]
