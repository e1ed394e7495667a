"""Django REST framework's ``authtoken`` tokens (``Authorization: Token <key>``)."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from django.apps import apps

from .._types import Scope
from ..credentials import Credential
from ..exceptions import AuthenticationFailed, PermissionDenied
from ..identity import CredentialInfo
from .base import AuthResult, BaseAuthenticator, token_digest


class DRFTokenAuthenticator(BaseAuthenticator):
    """DRF ``authtoken`` keys: one query (token joined to its user), inactive users refused (4403).

    Args:
        model: ``app_label.ModelName`` of the token model, for projects that subclass DRF's.
        schemes: credential schemes claimed; ``token`` by default.
    """

    name = "drf_token"
    default_schemes = ("token",)
    cacheable = True

    def __init__(self, model: str = "authtoken.Token", schemes: Any = None) -> None:
        super().__init__(schemes)
        self.model = model

    def required_apps(self) -> tuple[str, ...]:
        return (self.model.partition(".")[0],)

    async def authenticate(self, credential: Credential, scope: Scope) -> AuthResult | None:
        result: AuthResult = await database_sync_to_async(self.authenticate_sync)(credential.secret)
        return result

    def authenticate_sync(self, key: str) -> AuthResult:
        """The blocking part; runs in a worker thread."""
        model = apps.get_model(self.model)
        try:
            token = model._default_manager.select_related("user").get(key=key)
        except model.DoesNotExist:
            raise AuthenticationFailed("unknown DRF token") from None
        user = token.user
        if not user.is_active:
            raise PermissionDenied("token user is inactive")
        # select_related caches the token on its user (``user.auth_token``, a one-to-one), and the
        # user goes into scope["user"] and every signal: keep the key out of them.
        cached = getattr(getattr(user, "_state", None), "fields_cache", None)
        if isinstance(cached, dict):
            for name in [name for name, value in cached.items() if value is token]:
                del cached[name]
        return user, CredentialInfo(token_id=token_digest(key, "drf"))
