"""Per-user limits on concurrent sockets, across every server process (opt-in).

Configure ``WARDEN["CONNECTION_LIMIT"] = {"MAX": 5, "POLICY": "reject_newest"}`` (or
``"evict_oldest"``). The count lives in the Django cache, which must be shared (Redis) for the limit
to hold across processes: per user, one entry per open socket with a *lease* that its process renews
every ``LEASE / 3`` seconds. When a process dies its leases run out and the count heals by itself
within ``LEASE`` seconds. ``reject_newest`` refuses the new socket with 4429; ``evict_oldest``
closes the user's oldest socket, wherever it is, with 4409 (a revocation naming its id).

Cache failures refuse the new socket with 4500: a limit that cannot be checked is not enforced by
letting everyone in.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured

from .cachelock import cache_mutex, in_thread
from .codes import CloseCode
from .exceptions import TooManyConnections

if TYPE_CHECKING:
    from .connection import Connection

logger = logging.getLogger("channels_warden.limits")

POLICIES = ("reject_newest", "evict_oldest")


@dataclass(frozen=True)
class LimitConfig:
    """The ``CONNECTION_LIMIT`` setting, validated."""

    max: int
    policy: str = "reject_newest"
    cache: str = "default"
    lease: float = 60.0

    @classmethod
    def from_setting(cls, value: Mapping[str, Any] | None) -> LimitConfig | None:
        if value is None:
            return None
        unknown = set(value) - {"MAX", "POLICY", "CACHE", "LEASE"}
        if unknown or not isinstance(value.get("MAX"), int) or value["MAX"] < 1:
            raise ImproperlyConfigured(
                "WARDEN CONNECTION_LIMIT must look like {'MAX': 5, 'POLICY': 'reject_newest' or "
                f"'evict_oldest', 'CACHE': 'default', 'LEASE': 60}}, not {dict(value)!r}."
            )
        config = cls(
            max=value["MAX"],
            policy=value.get("POLICY", "reject_newest"),
            cache=value.get("CACHE", "default"),
            lease=float(value.get("LEASE", 60)),
        )
        if config.policy not in POLICIES:
            raise ImproperlyConfigured(f"WARDEN CONNECTION_LIMIT POLICY must be one of {POLICIES}.")
        return config


def _entries_key(user: str) -> str:
    return f"warden:conns:{user}"


def _live(entries: dict[str, list[float]], now: float) -> dict[str, list[float]]:
    return {conn_id: entry for conn_id, entry in entries.items() if entry[1] > now}


class ConnectionLimiter:
    """Counts a user's sockets in the shared cache; one per process."""

    def __init__(self) -> None:
        self._held: dict[str, tuple[str, LimitConfig]] = {}  # connection id -> (user, config)
        self._renewer: asyncio.Task[None] | None = None

    def acquire_sync(self, user: str, conn_id: str, config: LimitConfig) -> str | None:
        """Add ``conn_id`` to ``user``'s sockets; return the id to evict, or raise 4429 (blocking)."""
        cache = caches[config.cache]
        now = time.time()
        with cache_mutex(cache, _entries_key(user) + ":lock"):
            entries = _live(cache.get(_entries_key(user)) or {}, now)
            evicted = None
            if len(entries) >= config.max:
                if config.policy == "reject_newest":
                    refused = TooManyConnections(
                        f"user has {len(entries)} sockets, the limit is {config.max}",
                        retry_after=int(config.lease),
                    )
                    refused.check = "connection limit"
                    raise refused
                evicted = min(entries, key=lambda conn: entries[conn][0])
                del entries[evicted]
            entries[conn_id] = [now, now + config.lease]
            cache.set(_entries_key(user), entries, timeout=config.lease * 2)
        return evicted

    def release_sync(self, user: str, conn_id: str, config: LimitConfig) -> None:
        cache = caches[config.cache]
        with cache_mutex(cache, _entries_key(user) + ":lock"):
            entries = _live(cache.get(_entries_key(user)) or {}, time.time())
            if entries.pop(conn_id, None) is not None:
                cache.set(_entries_key(user), entries, timeout=config.lease * 2)

    def renew_sync(self, held: list[tuple[str, str, LimitConfig]]) -> None:
        """Extend the leases of this process's sockets, one cache write per user."""
        by_user: dict[str, list[tuple[str, LimitConfig]]] = {}
        for conn_id, user, config in held:
            by_user.setdefault(user, []).append((conn_id, config))
        for user, conns in by_user.items():
            config = conns[0][1]
            cache = caches[config.cache]
            now = time.time()
            with cache_mutex(cache, _entries_key(user) + ":lock"):
                entries = _live(cache.get(_entries_key(user)) or {}, now)
                for conn_id, _ in conns:
                    if conn_id in entries:
                        entries[conn_id][1] = now + config.lease
                cache.set(_entries_key(user), entries, timeout=config.lease * 2)

    async def acquire(self, connection: Connection, user: str, config: LimitConfig) -> None:
        """Count ``connection``; evict the oldest socket or raise 4429 when over the limit."""
        evicted = await in_thread(self.acquire_sync, user, connection.id, config)
        self._held[connection.id] = (user, config)
        self._ensure_renewer(config)
        if evicted is not None:
            from .revocation import broadcast

            await broadcast(
                {
                    "type": "warden.revoke",
                    "connection_id": evicted,
                    "code": int(CloseCode.REPLACED),
                    "reason": "replaced",
                }
            )

    async def release(self, connection: Connection) -> None:
        held = self._held.pop(connection.id, None)
        if held is None:
            return
        try:
            await in_thread(self.release_sync, held[0], connection.id, held[1])
        except Exception:  # the lease runs out by itself; say why the count lags
            logger.exception("could not release a connection slot; it frees itself within the lease")

    def _ensure_renewer(self, config: LimitConfig) -> None:
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.get_running_loop().create_task(self._renew_forever(config.lease / 3))

    async def _renew_forever(self, interval: float) -> None:
        while self._held:
            await asyncio.sleep(interval)
            held = [(conn_id, user, config) for conn_id, (user, config) in list(self._held.items())]
            try:
                await in_thread(self.renew_sync, held)
            except Exception:  # keep trying: leases are longer than the interval
                logger.exception("could not renew connection leases")


limiter = ConnectionLimiter()
