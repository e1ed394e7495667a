"""The authenticator contract, after Django REST framework's.

An authenticator turns a :class:`~channels_warden.credentials.Credential` into a user:

* return ``None`` when the credential is not one it can judge ("absent": the next one may);
* return ``(user, CredentialInfo)`` when it is valid;
* raise a :class:`~channels_warden.exceptions.Rejection` when it is present and invalid. The chain
  stops there: a wrong credential never becomes an anonymous user.

``authenticate`` is a coroutine and runs on the event loop. Do database or cache work in **one**
``database_sync_to_async`` call, passing the function itself, not its result. Example::

    class ApiKeyAuthenticator(BaseAuthenticator):
        name = "api_key"
        default_schemes = ("apikey",)

        async def authenticate(self, credential, scope):
            return await database_sync_to_async(self.lookup)(credential.secret)

        def lookup(self, secret):
            key = ApiKey.objects.select_related("user").filter(digest=sha256(secret)).first()
            if key is None:
                raise AuthenticationFailed("unknown API key")
            return key.user, CredentialInfo(token_id=f"apikey:{key.pk}")
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any, ClassVar

from .._types import Scope
from ..credentials import Credential
from ..identity import CredentialInfo

AuthResult = tuple[Any, CredentialInfo]


def token_digest(secret: str, prefix: str) -> str:
    """A stable, non-reversible id for an opaque token, safe to keep in scopes and logs."""
    return f"{prefix}:{hashlib.sha256(secret.encode()).hexdigest()[:32]}"


class BaseAuthenticator:
    """Base class for authenticators.

    Args:
        schemes: the credential schemes this authenticator claims, overriding
            :attr:`default_schemes` (for example when two token backends share ``Token``).
    """

    name: ClassVar[str] = "custom"
    default_schemes: ClassVar[tuple[str, ...]] = ()
    #: Whether a verified result may be reused by the identity cache until revoked or expired.
    #: Only for credentials that do not change when used (not sessions, knox tokens or tickets).
    cacheable: ClassVar[bool] = False
    #: Whether ``authenticate`` takes ``user_cache=`` (the ``IDENTITY_CACHE`` config, or ``None``)
    #: to reuse the users it loads, while still checking the credential itself every time.
    caches_users: ClassVar[bool] = False

    def __init__(self, schemes: Iterable[str] | None = None) -> None:
        self.schemes = frozenset(s.lower() for s in (self.default_schemes if schemes is None else schemes))

    def required_apps(self) -> tuple[str, ...]:
        """Labels of the Django apps this authenticator needs installed (system check E003)."""
        return ()

    def handles(self, credential: Credential) -> bool:
        """Whether this authenticator judges credentials of ``credential.scheme``."""
        return credential.scheme in self.schemes

    async def authenticate(self, credential: Credential, scope: Scope) -> AuthResult | None:
        """Judge ``credential``; see the module docstring for the contract."""
        raise NotImplementedError
