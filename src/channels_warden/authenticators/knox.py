"""django-rest-knox tokens (install the ``knox`` extra)."""

from __future__ import annotations

from functools import cache
from typing import Any

from .._types import Scope
from ..batching import each_in_one_hop, loader_for
from ..credentials import Credential
from ..exceptions import AuthenticationFailed, PermissionDenied
from ..identity import CredentialInfo
from .base import AuthResult, BaseAuthenticator


@cache
def _knox_authentication() -> Any:
    """knox's ``TokenAuthentication``, except that an inactive user is a 4403, not an invalid token."""
    from knox.auth import TokenAuthentication

    class WardenKnoxAuthentication(TokenAuthentication):  # type: ignore[misc]
        def validate_user(self, auth_token: Any) -> Any:
            if not auth_token.user.is_active:
                raise PermissionDenied("knox token user is inactive")
            return super().validate_user(auth_token)

    return WardenKnoxAuthentication


class KnoxAuthenticator(BaseAuthenticator):
    """knox tokens, validated by knox itself (digest compare, expiry, auto-refresh); inactive users get 4403.

    knox and DRF both use the ``Token`` keyword; when both are enabled, give one a scheme of its own,
    e.g. ``{"CLASS": "...KnoxAuthenticator", "OPTIONS": {"schemes": ["knox"]}}`` and map a keyword or
    subprotocol prefix to it.
    """

    name = "knox"
    default_schemes = ("token",)

    def required_apps(self) -> tuple[str, ...]:
        return ("knox",)

    async def authenticate(self, credential: Credential, scope: Scope) -> AuthResult | None:
        # knox compares a digest per token and may refresh its expiry (a write), so lookups that
        # overlap share a thread hop, not a query.
        loader = loader_for(self, "tokens", each_in_one_hop(self.authenticate_sync))
        result: AuthResult = await loader.load((credential.secret,))
        return result

    def authenticate_sync(self, secret: str) -> AuthResult:
        """The blocking part; runs in a worker thread."""
        from rest_framework import exceptions

        try:
            user, auth_token = _knox_authentication()().authenticate_credentials(secret.encode())
        except exceptions.AuthenticationFailed as exc:
            raise AuthenticationFailed(f"knox refused the token: {exc.detail}") from None
        expiry: Any = auth_token.expiry
        return user, CredentialInfo(
            expires_at=None if expiry is None else float(expiry.timestamp()),
            token_id=f"knox:{auth_token.digest[:32]}",
        )
