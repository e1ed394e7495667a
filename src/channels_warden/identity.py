"""Who is on the other end of a socket: ``scope["auth"]``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


def _empty_claims() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class CredentialInfo:
    """What an authenticator learned from a credential besides the user.

    Attributes:
        expires_at: Unix time at which the credential stops being valid, if it has an end.
        claims: read-only claims (a JWT's payload), empty for opaque tokens.
        session_key: the Django session key, for session credentials.
        token_id: a stable, non-secret id of the token (JWT ``jti``, a digest of an opaque key), used
            to find the connections a token opened.
    """

    expires_at: float | None = None
    claims: Mapping[str, Any] = field(default_factory=_empty_claims)
    session_key: str | None = field(default=None, repr=False)
    token_id: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.claims, MappingProxyType):
            object.__setattr__(self, "claims", MappingProxyType(dict(self.claims)))


@dataclass(frozen=True, slots=True)
class AuthInfo:
    """The immutable record of how a connection was authenticated, stored in ``scope["auth"]``.

    Attributes:
        user: the user (``AnonymousUser`` when the route allows anonymous clients and none was given).
        authenticator: name of the authenticator that vouched for the user, ``None`` if anonymous.
        transport: name of the transport that carried the credential, ``None`` if anonymous.
        expires_at: Unix time at which the credential expires, if it does.
        claims: read-only claims of the credential.
        session_key: the Django session key, for session credentials.
        token_id: a non-secret id of the credential.
    """

    user: Any
    authenticator: str | None = None
    transport: str | None = None
    expires_at: float | None = None
    claims: Mapping[str, Any] = field(default_factory=_empty_claims)
    session_key: str | None = field(default=None, repr=False)
    token_id: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.claims, MappingProxyType):
            object.__setattr__(self, "claims", MappingProxyType(dict(self.claims)))

    @property
    def is_authenticated(self) -> bool:
        return bool(getattr(self.user, "is_authenticated", False))

    @classmethod
    def anonymous(cls) -> AuthInfo:
        from django.contrib.auth.models import AnonymousUser

        return cls(user=AnonymousUser())

    @classmethod
    def from_credential(
        cls, user: Any, info: CredentialInfo, *, authenticator: str, transport: str
    ) -> AuthInfo:
        return cls(
            user=user,
            authenticator=authenticator,
            transport=transport,
            expires_at=info.expires_at,
            claims=info.claims,
            session_key=info.session_key,
            token_id=info.token_id,
        )
