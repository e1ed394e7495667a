"""SimpleJWT access tokens, validated by SimpleJWT itself.

SimpleJWT checks the signature with the pinned ``ALGORITHM`` (so ``alg: none`` and algorithm swaps
fail), ``exp`` (required), ``nbf``, ``aud``, ``iss``, ``LEEWAY``, the ``jti`` claim and the token type
(a refresh token is not an access token). This authenticator adds two strict checks: the types and
ranges of the registered claims before SimpleJWT does arithmetic with them (:mod:`.claims`), and the
user id claim: only a string or an integer that the user model's primary key parses exactly, so
``true``, ``1.0`` and ``[1]`` are refused instead of being coerced to user 1.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Literal

from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils.module_loading import import_string

from .._types import Scope
from ..batching import loader_for, own_copies
from ..compiled import lookup_for
from ..credentials import Credential
from ..exceptions import AuthenticationFailed, CredentialExpired, PermissionDenied, Rejection
from ..identity import CredentialInfo
from .base import AuthResult, BaseAuthenticator
from .claims import MAX_INTEGER_ID, check_claims, unverified_payload
from .jwt_fast import checks_claims, decode, prepared_for

MODES = ("database", "stateless")


@lru_cache(maxsize=16)
def _token_class(path: str) -> Any:
    return import_string(path)


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


def _hint_for(raw: str, token_class: Any) -> str | None:
    """:func:`wrong_type_hint` for a refused token, read only on refusal (the fast path parsed nothing)."""
    try:
        payload = unverified_payload(raw)
    except AuthenticationFailed:
        return None
    return wrong_type_hint(payload, getattr(token_class, "token_type", None))


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
        fast_path: verify with PyJWT directly, the key prepared once (:mod:`.jwt_fast`), then
            SimpleJWT's own ``Token.verify``; ``False`` always calls ``token_class(raw)``. Token
            classes with a verify of their own (blacklist mixin) and JWK set URLs always use SimpleJWT.
    """

    name = "simplejwt"
    default_schemes = ("bearer",)
    cacheable = True

    def __init__(
        self,
        mode: Literal["database", "stateless"] = "database",
        token_class: str = "rest_framework_simplejwt.tokens.AccessToken",
        schemes: Iterable[str] | None = None,
        fast_path: bool = True,
    ) -> None:
        super().__init__(schemes)
        if mode not in MODES:
            raise ImproperlyConfigured(f"SimpleJWTAuthenticator mode must be one of {MODES}, not {mode!r}.")
        self.mode = mode
        self.token_class_path = token_class
        self.fast_path = fast_path

    def validate(self, raw: str) -> Any:
        """Return SimpleJWT's validated token, or raise the matching rejection."""
        from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
        from rest_framework_simplejwt.settings import api_settings

        token_class = _token_class(self.token_class_path)
        prepared = prepared_for(token_class) if self.fast_path else None
        if prepared is None or not checks_claims():
            check_claims(
                unverified_payload(raw), string_claims=(api_settings.JTI_CLAIM, api_settings.TOKEN_TYPE_CLAIM)
            )
        elif (dots := raw.count(".")) != 2:  # the fast path checks claims on PyJWT's own parse
            raise AuthenticationFailed(f"JWT has {dots + 1} segments, not 3")
        try:
            return token_class(raw) if prepared is None else decode(prepared, token_class, raw)
        except ExpiredTokenError:
            raise CredentialExpired("JWT expired") from None
        except TokenError as exc:
            refused = AuthenticationFailed(f"JWT refused by SimpleJWT: {exc}")
            refused.hint = _hint_for(raw, token_class)
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
            user = await loader_for(self, "users", self.load_users).load((user_id, token))
        jti = token.payload.get(api_settings.JTI_CLAIM) if api_settings.JTI_CLAIM else None
        exp = token.payload.get("exp")
        return user, CredentialInfo(
            expires_at=float(exp) if isinstance(exp, int | float) else None,
            claims=MappingProxyType(token.payload),  # read-only, without a copy per socket
            token_id=None if jti is None else f"jwt:{jti}",
        )

    def load_user(self, user_id: Any, token: Any) -> Any:
        """One user, blocking: what a batch of one returns (raises its rejection)."""
        (outcome,) = self.load_users([(user_id, token)])
        if isinstance(outcome, Rejection):
            raise outcome
        return outcome

    def load_users(self, members: Sequence[tuple[Any, Any]]) -> list[Any]:
        """The blocking part, for a batch of ``(user id, token)``: one query; runs in a worker thread.

        Handshakes that arrive while a lookup is in flight share the next one
        (:mod:`~channels_warden.batching`); each gets its own user instance and its own verdict.
        """
        from rest_framework_simplejwt.settings import api_settings
        from rest_framework_simplejwt.utils import get_md5_hash_password

        field = api_settings.USER_ID_FIELD
        model = get_user_model()
        lookup = lookup_for(
            self, model, field, lambda values: model._default_manager.filter(**{f"{field}__in": values})
        )
        wanted = list(dict.fromkeys(user_id for user_id, _ in members))
        found = {getattr(user, field): user for user in lookup.fetch(wanted)}
        outcomes: list[Any] = []
        for user_id, token in members:
            user = found.get(user_id)
            if user is None:
                outcomes.append(AuthenticationFailed("JWT names a user that does not exist"))
            elif api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
                outcomes.append(PermissionDenied("JWT user is inactive"))
            elif api_settings.CHECK_REVOKE_TOKEN and token.payload.get(
                api_settings.REVOKE_TOKEN_CLAIM
            ) != get_md5_hash_password(user.password):
                outcomes.append(AuthenticationFailed("JWT issued before the user's password changed"))
            else:
                outcomes.append(user)
        return own_copies(outcomes)
