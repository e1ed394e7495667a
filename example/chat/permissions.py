"""The connect-time rule of ``/ws/chat/<room>/``, checked by warden before the consumer runs."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels_warden import AuthInfo, BasePermission

from .models import Room
from .protocol import is_slug


def can_open(user: Any, slug: str) -> bool:
    """Whether ``user`` may open the room ``slug`` (blocking: one query)."""
    return is_slug(slug) and Room.objects.visible_to(user).filter(slug=slug).exists()


class IsRoomMember(BasePermission):
    """The room in the URL exists and the user may open it: public, a member of it, or staff.

    An unknown room is refused exactly like a private one (4403), so a refusal does not tell a
    client whether the room exists.
    """

    async def has_permission(self, scope: dict[str, Any], auth: AuthInfo) -> bool:
        if not auth.is_authenticated:
            return False
        slug = str(scope["url_route"]["kwargs"]["room"])
        return bool(await database_sync_to_async(can_open)(auth.user, slug))
