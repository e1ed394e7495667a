"""Channel-layer groups and the events sent through them (to every process, with ``REDIS_URL``).

==========================  ===================================================  ====================
group                       members                                              events
==========================  ===================================================  ====================
``chat.room.<slug>``        every socket in the room (single- and multi-room)    ``chat.message``,
                                                                                 ``chat.presence``,
                                                                                 ``chat.access``
``chat.user.<user id>``     every chat socket of the user                        ``chat.removed``
==========================  ===================================================  ====================
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from .presence import Snapshot

logger = logging.getLogger("chat.events")


def room_group(room: str) -> str:
    return f"chat.room.{room}"


def user_group(user_id: object) -> str:
    return f"chat.user.{user_id}"


def message_event(frame: dict[str, Any]) -> dict[str, Any]:
    return {"type": "chat.message", "message": frame}


def presence_event(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "type": "chat.presence",
        "room": snapshot.room,
        "users": snapshot.users,
        "version": snapshot.version,
    }


def removed_event(room: str) -> dict[str, Any]:
    return {"type": "chat.removed", "room": room}


def access_event(room: str) -> dict[str, Any]:
    """Who may be in the room changed (it became private): every socket in it checks again."""
    return {"type": "chat.access", "room": room}


async def send_removed(room: str, user_ids: Iterable[object]) -> None:
    """Tell every socket of these users, in every process, that they are no longer in ``room``."""
    layer = get_channel_layer()
    for user_id in user_ids:
        await layer.group_send(user_group(user_id), removed_event(room))


def send_removed_quietly(room: str, user_ids: Iterable[object]) -> None:
    """:func:`send_removed` from sync code; a failure is logged, never raised into the request."""
    ids = list(user_ids)
    try:
        async_to_sync(send_removed)(room, ids)
    except Exception:  # the database change stands; open sockets stay in the room until they reconnect
        logger.exception("could not tell the sockets of users %s that they left %r", ids, room)


def send_access_changed_quietly(room: str) -> None:
    """Tell every socket in ``room``, in every process, to check its access again (from sync code)."""
    try:
        async_to_sync(get_channel_layer().group_send)(room_group(room), access_event(room))
    except Exception:  # the database change stands; new sockets are refused, open ones stay
        logger.exception("could not tell the sockets in %r that the room became private", room)
