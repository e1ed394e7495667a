"""SimpleJWT access tokens, validated by SimpleJWT itself.

SimpleJWT checks the signature with the pinned ``ALGORITHM`` (so ``alg: none`` and algorithm swaps
fail), ``exp`` (required), ``nbf``, ``aud``, ``iss``, ``LEEWAY``, the ``jti`` claim and the token type
(a refresh token is not an access token). This authenticator adds two strict checks: the types and
ranges of the registered claims before SimpleJWT does arithmetic with them (:mod:`.claims`), and the
user id claim: only a string or an integer that the user model's primary key parses exactly, so
``true``, ``1.0`` and ``[1]`` are refused instead of being coerced to user 1.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import MappingProxyType
from typing import Any, Literal

from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils.module_loading import import_string

from .._types import Scope
from ..credentials import Credential
from ..exceptions import AuthenticationFailed, CredentialExpired, PermissionDenied
from ..identity import CredentialInfo
from .base import AuthResult, BaseAuthenticator
from .claims import MAX_INTEGER_ID, check_claims, unverified_payload

MODES = ("database", "stateless")


def checked_user_id(value: object, field_name: str) -> Any:
    """The user id claim parsed by the primary key field; ``AuthenticationFailed`` if it is not exact."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise AuthenticationFailed(f"user id claim has type {type(value).__name__}")
    if isinstance(value, int) and not -MAX_INTEGER_ID <= value <= MAX_INTEGER_ID:
        raise AuthenticationFailed("user id claim is out of range")
    field: Any = get_user_model()._meta.get_field(field_name)
    try:
        parsed = field.to_python(value)
    except (ValidationError, ValueError, TypeError):
        raise AuthenticationFailed("user id claim does not parse as the user key") from None
    if isinstance(value, str) and str(parsed) != value:
        raise AuthenticationFailed("user id claim is not in canonical form")
    return parsed


def wrong_type_hint(payload: dict[str, Any], expected: str | None) -> str | None:
    """A hint for the common mistake of sending the refresh token where the access token belongs.

    Read from the unverified payload, and only the type claim is quoted: never the token.
    """
    from rest_framework_simplejwt.settings import api_settings

    claim = api_settings.TOKEN_TYPE_CLAIM
    sent = payload.get(claim) if claim else None
    if expected is None or not isinstance(sent, str) or sent == expected:
        return None
    if sent == "refresh":
        return (
            f"the JWT is a refresh token ({claim} 'refresh'); send the {expected} token and keep the "
            "refresh token for your token-refresh endpoint"
        )
    return f"the JWT's {claim} is {sent[:20]!r}, this authenticator wants {expected!r} tokens"


class SimpleJWTAuthenticator(BaseAuthenticator):
    """SimpleJWT access tokens (``Bearer``).

    Args:
        mode: ``"database"`` loads the user in one query and enforces ``is_active`` and
            ``CHECK_REVOKE_TOKEN``; ``"stateless"`` makes no query and builds SimpleJWT's
            ``TOKEN_USER_CLASS`` from the claims (a deactivated user keeps access until ``exp``).
        token_class: import path of the token class to validate with (``AccessToken`` by default).
        schemes: credential schemes claimed; ``bearer`` by default.
    """

    name = "simplejwt"
    default_schemes = ("bearer",)
    cacheable = True

    def __init__(
        self,
        mode: Literal["database", "stateless"] = "database",
        token_class: str = "rest_framework_simplejwt.tokens.AccessToken",
        schemes: Iterable[str] | None = None,
    ) -> None:
        super().__init__(schemes)
        if mode not in MODES:
            raise ImproperlyConfigured(f"SimpleJWTAuthenticator mode must be one of {MODES}, not {mode!r}.")
        self.mode = mode
        self.token_class_path = token_class

    def validate(self, raw: str) -> Any:
        """Return SimpleJWT's validated token, or raise the matching rejection."""
        from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
        from rest_framework_simplejwt.settings import api_settings

        payload = unverified_payload(raw)
        check_claims(payload, string_claims=(api_settings.JTI_CLAIM, api_settings.TOKEN_TYPE_CLAIM))
        token_class = import_string(self.token_class_path)
        try:
            return token_class(raw)
        except ExpiredTokenError:
            raise CredentialExpired("JWT expired") from None
        except TokenError as exc:
            refused = AuthenticationFailed(f"JWT refused by SimpleJWT: {exc}")
            refused.hint = wrong_type_hint(payload, getattr(token_class, "token_type", None))
            raise refused from None

    async def authenticate(self, credential: Credential, scope: Scope) -> AuthResult | None:
        from rest_framework_simplejwt.settings import api_settings

        if api_settings.JWK_URL:
            # Fetching a key set is network I/O; keep it off the event loop.
            token = await database_sync_to_async(self.validate)(credential.secret)
        else:
            token = self.validate(credential.secret)
        if api_settings.USER_ID_CLAIM not in token.payload:
            raise AuthenticationFailed("JWT has no user id claim")
        user_id = checked_user_id(token.payload[api_settings.USER_ID_CLAIM], api_settings.USER_ID_FIELD)
        if self.mode == "stateless":
            # The user keeps the token for its claims; the encoded string is not needed again, and a
            # scope that holds no credential cannot leak one (str(token) re-encodes the payload).
            token.token = None
            user = api_settings.TOKEN_USER_CLASS(token)
        else:
            user = await database_sync_to_async(self.load_user)(user_id, token)
        jti = token.payload.get(api_settings.JTI_CLAIM) if api_settings.JTI_CLAIM else None
        exp = token.payload.get("exp")
        return user, CredentialInfo(
            expires_at=float(exp) if isinstance(exp, int | float) else None,
            claims=MappingProxyType(token.payload),  # read-only, without a copy per socket
            token_id=None if jti is None else f"jwt:{jti}",
        )

    def load_user(self, user_id: Any, token: Any) -> Any:
        """The blocking part (one query); runs in a worker thread."""
        from rest_framework_simplejwt.settings import api_settings
        from rest_framework_simplejwt.utils import get_md5_hash_password

        model = get_user_model()
        try:
            user = model._default_manager.get(**{api_settings.USER_ID_FIELD: user_id})
        except model.DoesNotExist:
            raise AuthenticationFailed("JWT names a user that does not exist") from None
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise PermissionDenied("JWT user is inactive")
        if api_settings.CHECK_REVOKE_TOKEN and token.payload.get(
            api_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            raise AuthenticationFailed("JWT issued before the user's password changed")
        return user
