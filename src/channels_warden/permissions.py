"""Connect-time permissions: may this user open this socket?

A permission's ``has_permission(scope, auth)`` returns a bool or an awaitable of one; it sees the
route's scope (``scope["url_route"]`` included) and ``scope["auth"]``. Like DRF, a refusal is a 4401
when nobody authenticated (credentials would help) and a 4403 otherwise. Sync permissions run on the
event loop, so they must not touch the database; do that in an ``async def has_permission``.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Iterable

from channels.db import database_sync_to_async

from ._types import Scope
from .exceptions import InsufficientPermission, MissingCredentials
from .identity import AuthInfo


class BasePermission:
    """Base class; subclasses override :meth:`has_permission`."""

    def has_permission(self, scope: Scope, auth: AuthInfo) -> bool | Awaitable[bool]:
        return True

    def __repr__(self) -> str:
        return type(self).__name__


class AllowAny(BasePermission):
    """Anyone, authenticated or not (pair it with ``allow_anonymous=True``)."""


class IsAuthenticated(BasePermission):
    """Only authenticated users."""

    def has_permission(self, scope: Scope, auth: AuthInfo) -> bool:
        return auth.is_authenticated


class IsStaff(BasePermission):
    """Only authenticated users with ``is_staff``."""

    def has_permission(self, scope: Scope, auth: AuthInfo) -> bool:
        return auth.is_authenticated and bool(getattr(auth.user, "is_staff", False))


class IsSuperuser(BasePermission):
    """Only authenticated users with ``is_superuser``."""

    def has_permission(self, scope: Scope, auth: AuthInfo) -> bool:
        return auth.is_authenticated and bool(getattr(auth.user, "is_superuser", False))


class HasPerm(BasePermission):
    """Users holding every one of the named Django permissions (``"app_label.codename"``)."""

    def __init__(self, *perms: str) -> None:
        if not perms:
            raise ValueError("HasPerm needs at least one 'app_label.codename' permission")
        self.perms = perms

    async def has_permission(self, scope: Scope, auth: AuthInfo) -> bool:
        if not auth.is_authenticated:
            return False
        return bool(await database_sync_to_async(auth.user.has_perms)(self.perms))

    def __repr__(self) -> str:
        return f"HasPerm({', '.join(map(repr, self.perms))})"


async def check_permissions(permissions: Iterable[BasePermission], scope: Scope, auth: AuthInfo) -> None:
    """Raise the right rejection for the first permission that refuses."""
    for permission in permissions:
        allowed = permission.has_permission(scope, auth)
        if inspect.isawaitable(allowed):
            allowed = await allowed
        if not allowed:
            refused: MissingCredentials | InsufficientPermission
            if not auth.is_authenticated:
                refused = MissingCredentials(f"{permission!r} requires an authenticated user")
            else:
                refused = InsufficientPermission(f"{permission!r} refused the user")
            refused.check = f"permission {permission!r}"
            raise refused
