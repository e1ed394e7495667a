"""The chat's authorization, all of it: who may hear a room. Discovered by warden at startup.

Every room is the channel-layer group ``chat.<slug>``. Warden asks this policy when a socket opens
``/ws/chat/<room>/`` (``groups.CanJoin`` in ``chat.routing``), when a socket joins a room
(``warden_join`` in ``chat.consumers``) and again on re-checks; a staff removal takes the member's
sockets out of the group in every process (``chat.signals``).
"""

from __future__ import annotations

from typing import Any

from channels_warden import groups

from .models import Room
from .protocol import is_slug


@groups.policy("chat.{room}")
def can_hear_room(user: Any, scope: dict[str, Any], room: str) -> bool:
    """Public rooms: anyone signed in; private rooms: their members and staff (one query).

    An unknown room is refused exactly like a private one, so a refusal does not tell a client
    whether the room exists.
    """
    if not getattr(user, "is_authenticated", False) or not is_slug(room):
        return False
    return Room.objects.visible_to(user).filter(slug=room).exists()
