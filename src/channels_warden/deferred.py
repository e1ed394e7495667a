"""``scope["user"]`` and ``scope["auth"]`` of a socket that may authenticate with its first message.

Channels' ``URLRouter`` hands each route a *copy* of the scope (``dict(scope, url_route=...)``). A
route without ``guard()`` learns who the client is only when the application first reads, after
that copy was made, so writing the user into warden's scope would not reach the consumer: it would
see ``AnonymousUser`` on an authenticated socket. So on such sockets warden puts a proxy in both
keys, shared by every copy of the scope, and points it at the authenticated user and ``AuthInfo``
once the ``warden.auth`` frame was accepted. Until then it stands for the anonymous identity. This is
the pattern of Channels' own ``AuthMiddleware`` (``UserLazyObject``): ``isinstance`` and attribute
access see the object behind the proxy.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from django.utils.functional import LazyObject


class DeferredIdentity(LazyObject):  # type: ignore[type-arg]
    """A proxy for a scope value that becomes known after the application received its scope."""

    def __init__(self, initial: Any) -> None:
        super().__init__()
        self._wrapped = initial

    def _setup(self) -> None:  # pragma: no cover  (_wrapped is always set)
        raise AssertionError("DeferredIdentity is created with its initial value")

    def resolve(self, value: Any) -> None:
        """Point every holder of this proxy at ``value``."""
        self._wrapped = value


def resolve_identity(scopes: tuple[MutableMapping[str, Any], ...], user: Any, auth: Any) -> None:
    """Set ``user`` and ``auth`` in each scope, and behind any proxy the scopes held there."""
    for key, value in (("user", user), ("auth", auth)):
        for scope in scopes:
            held = scope.get(key)
            if isinstance(held, DeferredIdentity):
                held.resolve(value)
            scope[key] = value


def unwrap(value: Any) -> Any:
    """The object behind a :class:`DeferredIdentity`, or ``value`` itself."""
    if isinstance(value, DeferredIdentity):
        return value.__dict__["_wrapped"]
    return value
