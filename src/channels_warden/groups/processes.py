"""Which server processes hold group memberships: the inventory a waiting revocation counts on.

``revoke_membership(..., wait=1.0)`` returns once every process that may hold the group confirmed
the removal, and names those that did not answer in time. To know whom to wait for, each process
lists itself in the Django cache the first time one of its sockets joins a group through warden, and
keeps its entry alive with a heartbeat (one cache write every ``HEARTBEAT_SECONDS``). A process that
dies drops out ``TTL_SECONDS`` later; until then a waiting revocation reports it as missing, which
is the truth: nobody confirmed for it. The cache must be shared (Redis) for this to span processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid

from django.core.cache import caches
from django.core.cache.backends.base import BaseCache

from ..cachelock import cache_mutex, in_thread
from ..conf import warden_settings
from .settings import group_settings

logger = logging.getLogger("channels_warden.groups")

#: This process, as named in confirmations.
PROCESS_ID = uuid.uuid4().hex[:12]
HEARTBEAT_SECONDS = 10.0
TTL_SECONDS = 30
INDEX_KEY = "warden.groups.processes"
LOCK_KEY = "warden.groups.processes.lock"


def process_key(process_id: str) -> str:
    return f"warden.groups.process.{process_id}"


class ProcessInventory:
    """This process's entry in the shared list of processes holding memberships."""

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def cache(self) -> BaseCache:
        return caches[group_settings(warden_settings).cache]

    async def ensure_registered(self) -> None:
        """List this process (once per event loop) and start its heartbeat; raises if the cache fails."""
        loop = asyncio.get_running_loop()
        if self._task is not None and not self._task.done() and self._loop is loop:
            return
        await in_thread(self.register)
        self._loop = loop
        self._task = loop.create_task(self._beat(), name="channels-warden groups heartbeat")

    def register(self) -> None:
        """Write this process's entry and add it to the index, dropping processes that are gone."""
        cache = self.cache
        cache.set(process_key(PROCESS_ID), time.time(), TTL_SECONDS)
        with cache_mutex(cache, LOCK_KEY):
            listed = [p for p in cache.get(INDEX_KEY) or [] if isinstance(p, str)]
            alive = cache.get_many([process_key(p) for p in listed])
            kept = [p for p in listed if process_key(p) in alive and p != PROCESS_ID]
            cache.set(INDEX_KEY, [*kept, PROCESS_ID], None)

    def beat(self) -> None:
        """Renew this process's entry; list it again if the index lost it (a cache restart)."""
        self.cache.set(process_key(PROCESS_ID), time.time(), TTL_SECONDS)
        if PROCESS_ID not in (self.cache.get(INDEX_KEY) or []):
            self.register()

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                await in_thread(self.beat)
            except Exception:  # the cache is down: waiting revocations will say so; keep trying
                logger.warning("groups heartbeat could not reach the cache", exc_info=True)

    def live(self) -> list[str]:
        """The processes listed and still beating (blocking: call it in a thread)."""
        listed = [p for p in self.cache.get(INDEX_KEY) or [] if isinstance(p, str)]
        alive = self.cache.get_many([process_key(p) for p in listed])
        return [p for p in listed if process_key(p) in alive]

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


inventory = ProcessInventory()
