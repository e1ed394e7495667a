"""A route permission made of a group policy: open the socket only if its group may be joined.

A route that serves one group (``/ws/chat/<room>/`` hears ``chat.<room>``) would otherwise need its
connect-time rule written twice, once as a permission and once as the group's policy. ``CanJoin``
asks the policy itself::

    path("ws/chat/<str:room>/", guard(RoomConsumer.as_asgi(), permissions=[groups.CanJoin("chat.{room}")]))

The group name is the pattern filled in with the route's kwargs. A kwarg that makes no group name
the pattern matches is refused like a denial (4403, or 4401 for an anonymous client); a policy that
fails refuses the socket with 4500.
"""

from __future__ import annotations

from .._types import Scope
from ..conf import warden_settings
from ..connection import connection_of
from ..exceptions import ServiceUnavailable
from ..identity import AuthInfo
from ..permissions import BasePermission
from .grants import GroupDenied
from .patterns import GroupPattern
from .policies import decide, table_for
from .settings import group_settings


class CanJoin(BasePermission):
    """Allow the socket if the user may join the group ``pattern`` names with the route's kwargs."""

    def __init__(self, pattern: str) -> None:
        self.pattern = GroupPattern.parse(pattern)

    def group_name(self, scope: Scope) -> str | None:
        """The group the route names, or ``None`` if its kwargs make no name the pattern matches."""
        kwargs = (scope.get("url_route") or {}).get("kwargs", {})
        try:
            return self.pattern.format(**{part: kwargs[part] for part in self.pattern.parts})
        except (KeyError, ValueError):
            return None

    async def has_permission(self, scope: Scope, auth: AuthInfo) -> bool:
        group = self.group_name(scope)
        if group is None:
            return False
        connection = connection_of(scope)
        settings = connection.settings if connection is not None else warden_settings
        try:
            await decide(group, auth.user, scope, table_for(group_settings(settings)))
        except GroupDenied as denied:
            if denied.reason == "internal":
                raise ServiceUnavailable(f"the policy of {group!r} failed: {denied.detail}") from None
            return False
        return True

    def __repr__(self) -> str:
        return f"CanJoin({self.pattern.text!r})"
