"""SimpleJWT access tokens that must not open a socket, each refused with its documented code.

Crafted tokens start from the claims SimpleJWT itself issues for the user and change one thing; the
first test shows that an unchanged crafted token is admitted, so every refusal below is caused by the
one change it names.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from channels.db import database_sync_to_async

from .helpers import access_claims, assert_refused, crafted_jwt, create_user, mint, now

pytestmark = pytest.mark.django_db(transaction=True)


async def claims_for(make_user: Any, **fields: Any) -> dict[str, Any]:
    user = await create_user(make_user, **fields)
    claims: dict[str, Any] = await database_sync_to_async(access_claims)(user)
    return claims


async def bearer(ws: Any, token: str, path: str = "/ws/echo/") -> Any:
    return await ws.handshake(path, headers=[("Authorization", f"Bearer {token}")])


async def test_crafted_token_with_simplejwt_claims_is_admitted(ws: Any, make_user: Any) -> None:
    """Control: PyJWT signing SimpleJWT's own claims with the configured key and algorithm is admitted."""
    claims = await claims_for(make_user)
    outcome = await bearer(ws, crafted_jwt(claims))
    assert outcome.whoami is not None
    assert outcome.whoami["user"] == "alice"


async def test_alg_none_is_refused(ws: Any, make_user: Any) -> None:
    """An unsigned token (``alg: none``) gets 4401."""
    claims = await claims_for(make_user)
    assert_refused(await bearer(ws, crafted_jwt(claims, algorithm="none")), 4401)


async def test_hs512_with_the_same_key_is_refused(ws: Any, make_user: Any) -> None:
    """HS512 signed with the right key is refused (4401): the algorithm is pinned to HS256."""
    claims = await claims_for(make_user)
    assert_refused(await bearer(ws, crafted_jwt(claims, algorithm="HS512")), 4401)


async def test_token_signed_with_another_key_is_refused(ws: Any, make_user: Any) -> None:
    """A token signed with a key that is not SimpleJWT's gets 4401."""
    claims = await claims_for(make_user)
    token = crafted_jwt(claims, key="another-key-entirely-another-key-entirely")
    assert_refused(await bearer(ws, token), 4401)


async def test_flipped_signature_bit_is_refused(ws: Any, make_user: Any) -> None:
    """A valid token with one bit of its signature flipped gets 4401."""
    user = await create_user(make_user)
    header, payload, signature = (await mint(user, "jwt")).split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[0] ^= 0x01
    flipped = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    assert_refused(await bearer(ws, f"{header}.{payload}.{flipped}"), 4401)


async def test_expired_token_is_refused_as_token_expired(ws: Any, make_user: Any) -> None:
    """An expired token gets 4401 with reason ``token_expired``, so the client knows to refresh."""
    claims = await claims_for(make_user)
    token = crafted_jwt({**claims, "iat": now() - 600, "exp": now() - 300})
    assert_refused(await bearer(ws, token), 4401, "token_expired")


async def test_token_not_yet_valid_is_refused(ws: Any, make_user: Any) -> None:
    """A token whose ``nbf`` is in the future gets 4401."""
    claims = await claims_for(make_user)
    token = crafted_jwt({**claims, "nbf": now() + 3600})
    assert_refused(await bearer(ws, token), 4401)


async def test_token_without_exp_is_refused(ws: Any, make_user: Any) -> None:
    """A token with no ``exp`` claim never ends, so it gets 4401."""
    claims = await claims_for(make_user)
    assert_refused(await bearer(ws, crafted_jwt(claims, drop=("exp",))), 4401)


async def test_refresh_token_used_as_access_token_is_refused(ws: Any, make_user: Any) -> None:
    """A SimpleJWT refresh token is not an access token: 4401."""
    from rest_framework_simplejwt.tokens import RefreshToken

    user = await create_user(make_user)
    refresh = await database_sync_to_async(lambda: str(RefreshToken.for_user(user)))()
    assert_refused(await bearer(ws, refresh), 4401)


async def test_wrong_audience_is_refused(ws: Any, make_user: Any) -> None:
    """A token issued for another audience gets 4401."""
    claims = await claims_for(make_user)
    assert_refused(await bearer(ws, crafted_jwt({**claims, "aud": "another-service"})), 4401)


async def test_missing_audience_is_refused(ws: Any, make_user: Any) -> None:
    """With ``AUDIENCE`` configured, a token without ``aud`` gets 4401."""
    claims = await claims_for(make_user)
    assert_refused(await bearer(ws, crafted_jwt(claims, drop=("aud",))), 4401)


async def test_wrong_issuer_is_refused(ws: Any, make_user: Any) -> None:
    """A token from another issuer gets 4401."""
    claims = await claims_for(make_user)
    assert_refused(await bearer(ws, crafted_jwt({**claims, "iss": "https://evil.example"})), 4401)


async def test_token_without_user_id_is_refused(ws: Any, make_user: Any) -> None:
    """A validly signed token that names no user gets 4401."""
    claims = await claims_for(make_user)
    assert_refused(await bearer(ws, crafted_jwt(claims, drop=("user_id",))), 4401)


@pytest.mark.parametrize(
    "user_id",
    [
        pytest.param("abc", id="letters"),
        pytest.param(True, id="true"),
        pytest.param(1.0, id="float"),
        pytest.param([1], id="list"),
        pytest.param({"id": 1}, id="object"),
        pytest.param("01", id="leading-zero"),
        pytest.param(" 1", id="leading-space"),
        pytest.param(None, id="null"),
    ],
)
async def test_user_id_of_the_wrong_type_is_refused(ws: Any, make_user: Any, user_id: Any) -> None:
    """A user id claim that is not exactly user 1's key (bool, float, list, non-canonical) gets 4401."""
    claims = await claims_for(make_user, id=1)
    assert_refused(await bearer(ws, crafted_jwt({**claims, "user_id": user_id})), 4401)


async def test_user_id_as_canonical_string_is_admitted(ws: Any, make_user: Any) -> None:
    """Control for the type check: the user id as the canonical string of the key is admitted."""
    claims = await claims_for(make_user)
    outcome = await bearer(ws, crafted_jwt({**claims, "user_id": str(claims["user_id"])}))
    assert outcome.whoami is not None
    assert outcome.whoami["user"] == "alice"


async def test_token_of_a_deleted_user_is_refused(ws: Any, make_user: Any) -> None:
    """A valid token whose user was deleted gets 4401 (database mode)."""
    user = await create_user(make_user)
    token = await mint(user, "jwt")
    await database_sync_to_async(user.delete)()
    assert_refused(await bearer(ws, token), 4401)


async def test_token_of_an_unknown_user_id_is_refused(ws: Any, make_user: Any) -> None:
    """A validly signed token naming a user id that never existed gets 4401, same as a deleted user."""
    claims = await claims_for(make_user)
    assert_refused(await bearer(ws, crafted_jwt({**claims, "user_id": int(claims["user_id"]) + 1000})), 4401)


async def test_token_of_an_inactive_user_is_forbidden(ws: Any, make_user: Any) -> None:
    """A valid token of a user with ``is_active=False`` gets 4403 (authenticated, not allowed)."""
    user = await create_user(make_user, is_active=False)
    token = await mint(user, "jwt")
    assert_refused(await bearer(ws, token), 4403)


@pytest.mark.parametrize("garbage", ["not-a-jwt", "a.b.c", "0" * 64])
async def test_bearer_value_that_is_not_a_jwt_is_refused(ws: Any, garbage: str) -> None:
    """A Bearer value that is token-shaped but is no JWT gets 4401."""
    assert_refused(await bearer(ws, garbage), 4401)
