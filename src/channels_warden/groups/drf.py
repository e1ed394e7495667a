"""Reuse Django REST framework permission classes as group policies.

::

    from rest_framework.permissions import IsAdminUser
    groups.policy("ops.{topic}")(groups.drf_policy(IsAdminUser))

DRF permissions are asked ``has_permission(request, view)``. A join has no HTTP request, so the
adapter passes a stand-in that carries what permissions read: ``request.user``, ``request.auth``
(warden's :class:`~channels_warden.AuthInfo`), a safe ``method`` (a join only *reads* a group), and
``view.kwargs`` holding the pattern's parts, as a URL route's kwargs would. The policy is sync, so
permissions that query the database run in the join's one thread hop. Nothing here imports DRF.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .._types import Scope


class JoinRequest:
    """What a DRF permission sees as ``request`` during a join."""

    method = "GET"

    def __init__(self, user: Any, scope: Scope) -> None:
        self.user = user
        self.auth = scope.get("auth")
        self.scope = scope
        self.query_params: Mapping[str, str] = {}
        self.data: Mapping[str, Any] = {}


class JoinView:
    """What a DRF permission sees as ``view`` during a join: the group and its typed parts."""

    action = "join"

    def __init__(self, group_parts: dict[str, Any]) -> None:
        self.kwargs = group_parts


def drf_policy(*permission_classes: Any) -> Callable[..., bool]:
    """A sync group policy that allows a join only if every DRF permission allows it.

    Args:
        permission_classes: DRF permission classes or instances (``IsAuthenticated``,
            ``IsAdminUser``, ``IsAuthenticated & MyPermission``...).
    """
    if not permission_classes:
        raise ValueError("drf_policy needs at least one permission class")
    names = ", ".join(getattr(p, "__name__", type(p).__name__) for p in permission_classes)

    def policy(user: Any, scope: Scope, **parts: Any) -> bool:
        request, view = JoinRequest(user, scope), JoinView(parts)
        for permission in permission_classes:
            # Classes and DRF's composed ``A & B`` holders are instantiated; instances used as they are.
            fresh = isinstance(permission, type) or not hasattr(permission, "has_permission")
            instance = permission() if fresh else permission
            if not instance.has_permission(request, view):
                return False
        return True

    policy.__name__ = policy.__qualname__ = f"drf_policy({names})"
    return policy
