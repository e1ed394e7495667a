"""Channel-layer groups and the events sent through them (to every process, with ``REDIS_URL``).

==================  ===================================================  ==============================
group               members                                              events
==================  ===================================================  ==============================
``chat.<slug>``     every socket in the room (single- and multi-room),   ``chat.message``,
                    joined through warden (``chat.warden`` decides)      ``chat.presence``
==================  ===================================================  ==============================

A removal is no event of ours: ``revoke_membership`` takes the user's sockets out of the group in
every process, and warden tells the consumers (``warden.left``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from channels_warden.groups import recheck_sync, revoke_membership_sync

from .presence import Snapshot

logger = logging.getLogger("chat.events")

#: Seconds a removal waits for every server process to confirm before the request answers.
REMOVAL_WAIT = 2.0


def room_group(room: str) -> str:
    return f"chat.{room}"


def message_event(frame: dict[str, Any]) -> dict[str, Any]:
    return {"type": "chat.message", "message": frame}


def presence_event(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "type": "chat.presence",
        "room": snapshot.room,
        "users": snapshot.users,
        "version": snapshot.version,
    }


def revoke_quietly(room: str, user_ids: Iterable[object]) -> None:
    """Take these users' sockets out of ``room`` in every process, and wait until every process
    confirmed (at most :data:`REMOVAL_WAIT` seconds); a failure is logged, never raised into the
    request: the database change stands."""
    for user_id in user_ids:
        try:
            confirmation = revoke_membership_sync(
                user_id, room_group(room), reason="removed", wait=REMOVAL_WAIT
            )
        except Exception:  # the channel layer is down: the sockets will be refused on reconnect
            logger.exception("could not take the sockets of user %s out of %r", user_id, room)
            continue
        if confirmation is not None and not confirmation.complete:
            missing = ", ".join(confirmation.missing)
            logger.warning("removal of user %s from %r not confirmed by %s", user_id, room, missing)


def recheck_room_quietly(room: str) -> None:
    """Ask the room's policy again for every socket in it, in every process (the room became private),
    and wait until every process confirmed (at most :data:`REMOVAL_WAIT` seconds); a failure is
    logged, never raised into the request."""
    try:
        recheck_sync(group=room_group(room), wait=REMOVAL_WAIT)
    except Exception:  # the channel layer is down: new sockets are refused, open ones stay
        logger.exception("could not re-check the sockets in %r after its access changed", room)
