"""django-rest-knox tokens (install the ``knox`` extra)."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from .._types import Scope
from ..credentials import Credential
from ..exceptions import AuthenticationFailed
from ..identity import CredentialInfo
from .base import AuthResult, BaseAuthenticator


class KnoxAuthenticator(BaseAuthenticator):
    """knox tokens, validated by knox itself (digest compare, expiry, auto-refresh, inactive users).

    knox and DRF both use the ``Token`` keyword; when both are enabled, give one a scheme of its own,
    e.g. ``{"CLASS": "...KnoxAuthenticator", "OPTIONS": {"schemes": ["knox"]}}`` and map a keyword or
    subprotocol prefix to it.
    """

    name = "knox"
    default_schemes = ("token",)

    async def authenticate(self, credential: Credential, scope: Scope) -> AuthResult | None:
        result: AuthResult = await database_sync_to_async(self.authenticate_sync)(credential.secret)
        return result

    def authenticate_sync(self, secret: str) -> AuthResult:
        """The blocking part; runs in a worker thread."""
        from knox.auth import TokenAuthentication
        from rest_framework import exceptions

        try:
            user, auth_token = TokenAuthentication().authenticate_credentials(secret.encode())
        except exceptions.AuthenticationFailed as exc:
            raise AuthenticationFailed(f"knox refused the token: {exc.detail}") from None
        expiry: Any = auth_token.expiry
        return user, CredentialInfo(
            expires_at=None if expiry is None else float(expiry.timestamp()),
            token_id=f"knox:{auth_token.digest[:32]}",
        )
