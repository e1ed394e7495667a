"""Who is in a room, agreed on by every server process: sockets per user in the Django cache.

One cache entry per room, ``chat:presence:<slug>``, maps each socket (its channel name, unique
across processes) to its user and the end of its *lease*::

    {"version": 1716712345123456, "sockets": {"specific.abc!def": ["alice", 1716712405.1], ...}}

The room's users are the distinct usernames of the live entries, sorted: one entry per user however
many sockets or tabs it has open. Every change happens under a short mutex (``cache.add``, atomic on
local memory and on Redis), so with ``REDIS_URL`` set the processes share one truth.

A socket's process renews its leases every ``lease / 3`` seconds. A process that dies stops renewing,
its entries run out within ``CHAT_PRESENCE_LEASE`` seconds (60 by default) and vanish from the next
presence broadcast of the room: no ghost outlives its lease.

Each change bumps ``version`` (microseconds since the epoch, and always above the previous version),
and broadcasts carry it, so a socket that receives two broadcasts out of order keeps the newer one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from channels_warden.cachelock import cache_mutex
from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger("chat.presence")

DEFAULT_LEASE = 60.0


@dataclass(frozen=True)
class Snapshot:
    """A room's users right after a change, and the version of that change."""

    room: str
    users: list[str]
    version: int


def lease_seconds() -> float:
    return float(getattr(settings, "CHAT_PRESENCE_LEASE", DEFAULT_LEASE))


def _key(room: str) -> str:
    return f"chat:presence:{room}"


def _locked(room: str) -> Any:
    """The room's presence entry, held with warden's cache mutex (a 4500-style failure if stuck)."""
    return cache_mutex(cache, _key(room) + ":lock")


def _live(entry: dict[str, Any] | None, now: float) -> dict[str, list[Any]]:
    sockets = (entry or {}).get("sockets", {})
    return {channel: value for channel, value in sockets.items() if value[1] > now}


def _update(room: str, change: dict[str, str | None]) -> Snapshot:
    """Apply ``{channel: username, or None to remove}`` to the room's entry; return the result."""
    lease = lease_seconds()
    with _locked(room):
        now = time.time()
        entry = cache.get(_key(room))
        sockets = _live(entry, now)
        for channel, username in change.items():
            if username is None:
                sockets.pop(channel, None)
            else:
                sockets[channel] = [username, now + lease]
        version = max(int((entry or {}).get("version", 0)) + 1, time.time_ns() // 1000)
        cache.set(_key(room), {"version": version, "sockets": sockets}, timeout=lease * 2)
    return Snapshot(room, sorted({value[0] for value in sockets.values()}), version)


def _renew(room: str, held: dict[str, str]) -> None:
    """Extend the leases of this process's sockets in ``room`` (re-adding any that ran out).

    ``held`` is the tracker's live mapping, read under the lock: a socket that left meanwhile is
    not put back.
    """
    lease = lease_seconds()
    with _locked(room):
        now = time.time()
        entry = cache.get(_key(room)) or {}
        sockets = _live(entry, now)
        for channel, username in list(held.items()):
            sockets[channel] = [username, now + lease]
        cache.set(_key(room), {**entry, "sockets": sockets}, timeout=lease * 2)


def users_in(room: str) -> list[str]:
    """The room's users now (blocking)."""
    return sorted({value[0] for value in _live(cache.get(_key(room)), time.time()).values()})


class PresenceTracker:
    """This process's sockets in rooms, and the task that renews their leases. One per process."""

    def __init__(self) -> None:
        self._held: dict[str, dict[str, str]] = {}  # room -> {channel: username}
        self._renewer: asyncio.Task[None] | None = None

    async def enter(self, room: str, channel: str, username: str) -> Snapshot:
        """Count ``channel`` as ``username``'s socket in ``room``."""
        self._held.setdefault(room, {})[channel] = username
        self._ensure_renewer()
        return await sync_to_async(_update, thread_sensitive=False)(room, {channel: username})

    async def leave(self, room: str, channel: str) -> Snapshot:
        """Stop counting ``channel`` in ``room``."""
        sockets = self._held.get(room, {})
        sockets.pop(channel, None)
        if not sockets:
            self._held.pop(room, None)
        return await sync_to_async(_update, thread_sensitive=False)(room, {channel: None})

    def _ensure_renewer(self) -> None:
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.get_running_loop().create_task(
                self._renew_forever(), name="chat presence leases"
            )

    async def _renew_forever(self) -> None:
        while self._held:
            await asyncio.sleep(lease_seconds() / 3)
            for room, sockets in list(self._held.items()):
                try:
                    await sync_to_async(_renew, thread_sensitive=False)(room, sockets)
                except Exception:  # keep renewing the other rooms; leases outlast one miss
                    logger.exception("could not renew the presence leases of %r", room)


tracker = PresenceTracker()
