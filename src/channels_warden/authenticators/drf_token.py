"""Django REST framework's ``authtoken`` tokens (``Authorization: Token <key>``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import apps

from .._types import Scope
from ..batching import loader_for, own_copies
from ..compiled import lookup_for
from ..credentials import Credential
from ..exceptions import AuthenticationFailed, PermissionDenied, Rejection
from ..identity import CredentialInfo
from .base import AuthResult, BaseAuthenticator, token_digest


class DRFTokenAuthenticator(BaseAuthenticator):
    """DRF ``authtoken`` keys: one query (token joined to its user), inactive users refused (4403).

    Handshakes that arrive while a lookup is in flight are looked up together, in one thread hop
    and one query (:mod:`~channels_warden.batching`); a lone handshake is dispatched at once.

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
        loader = loader_for(self, "tokens", self.authenticate_many)
        result: AuthResult = await loader.load(credential.secret)
        return result

    def authenticate_sync(self, key: str) -> AuthResult:
        """One key, blocking: what a batch of one returns (raises its rejection)."""
        (outcome,) = self.authenticate_many([key])
        if isinstance(outcome, Rejection):
            raise outcome
        return outcome

    def authenticate_many(self, keys: Sequence[str]) -> list[AuthResult | Rejection]:
        """The blocking part, for a batch: one query for every key; runs in a worker thread."""
        model = apps.get_model(self.model)
        lookup = lookup_for(
            self,
            model,
            "key",
            lambda values: model._default_manager.select_related("user").filter(key__in=values),
        )
        found = {token.key: token for token in lookup.fetch(list(dict.fromkeys(keys)))}
        outcomes: list[Any] = []
        for key in keys:
            token = found.get(key)  # exact match: a case-insensitive collation grants nothing more
            outcomes.append(
                AuthenticationFailed("unknown DRF token") if token is None else _judge(token, key)
            )
        return own_copies(outcomes)  # type: ignore[return-value]


def _judge(token: Any, key: str) -> AuthResult | Rejection:
    user = token.user
    if not user.is_active:
        return PermissionDenied("token user is inactive")
    # select_related caches the token on its user (``user.auth_token``, a one-to-one), and the
    # user goes into scope["user"] and every signal: keep the key out of them.
    cached = getattr(getattr(user, "_state", None), "fields_cache", None)
    if isinstance(cached, dict):
        for name in [name for name, value in cached.items() if value is token]:
            del cached[name]
    return user, CredentialInfo(token_id=token_digest(key, "drf"))
