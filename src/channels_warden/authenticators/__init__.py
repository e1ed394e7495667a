"""Authenticators: what a credential means. See :mod:`.base` for the contract.

Importing this package imports no models and no optional dependency; each authenticator imports
what it needs when it first runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import AuthResult, BaseAuthenticator, token_digest

if TYPE_CHECKING:
    from .drf_token import DRFTokenAuthenticator
    from .knox import KnoxAuthenticator
    from .session import SessionAuthenticator
    from .simplejwt import SimpleJWTAuthenticator

_LAZY = {
    "DRFTokenAuthenticator": ".drf_token",
    "KnoxAuthenticator": ".knox",
    "SessionAuthenticator": ".session",
    "SimpleJWTAuthenticator": ".simplejwt",
}

__all__ = [
    "AuthResult",
    "BaseAuthenticator",
    "DRFTokenAuthenticator",
    "KnoxAuthenticator",
    "SessionAuthenticator",
    "SimpleJWTAuthenticator",
    "token_digest",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
