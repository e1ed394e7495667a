"""Which of warden's shared state would stay inside one process.

Revocation travels over the channel layer (one group message that every server process hears), and
one-time tickets, connection limits and the handshake throttle live in the Django cache. Channels'
``InMemoryChannelLayer`` and Django's local-memory cache are kept per process, so with several server
processes (or a management command, a worker, a second machine) each of those features silently works
in one process only: ``manage.py warden_disconnect`` closes nothing, a ticket issued by one process is
unknown to the next, a limit of 5 becomes 5 per process. System checks ``W005`` and ``W006`` and the
``warden_disconnect`` command read this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

#: Cache backends whose data no other process sees (the dummy cache stores nothing at all).
PROCESS_LOCAL_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)
SHARED_LAYER = "channels_redis.core.RedisChannelLayer"
SHARED_CACHE = "django.core.cache.backends.redis.RedisCache"


def process_local_layer(alias: str = "default") -> str | None:
    """Why the channel layer cannot reach other processes, or ``None`` when it can.

    ``None`` too when the backend cannot be imported: that is Channels' error to report.
    """
    config = (getattr(settings, "CHANNEL_LAYERS", None) or {}).get(alias)
    if not config:
        return f"there is no CHANNEL_LAYERS[{alias!r}]"
    backend = str(config.get("BACKEND", ""))
    try:
        cls = import_string(backend)
    except ImportError:
        return None
    from channels.layers import InMemoryChannelLayer

    if isinstance(cls, type) and issubclass(cls, InMemoryChannelLayer):
        return f"CHANNEL_LAYERS[{alias!r}] is {cls.__name__}, which each process keeps to itself"
    return None


@dataclass(frozen=True)
class LocalCacheUse:
    """A warden feature that keeps its state in a process-local cache."""

    feature: str
    setting: str
    alias: str
    backend: str


def _cache_backend(alias: str) -> str:
    config: dict[str, Any] = (getattr(settings, "CACHES", None) or {}).get(alias) or {}
    return str(config.get("BACKEND", ""))


def process_local_caches(warden: Any) -> list[LocalCacheUse]:
    """The features ``warden`` (a ``WardenSettings``) turned on whose cache is process-local."""
    from .tickets import TicketAuthenticator, TicketTransport

    uses: list[tuple[str, str, str]] = []
    if any(isinstance(t, TicketTransport) for t in warden.transports) or any(
        isinstance(a, TicketAuthenticator) for a in warden.authenticators
    ):
        uses.append(("one-time tickets", "TICKET_CACHE", str(warden.TICKET_CACHE)))
    if warden.connection_limit is not None:
        uses.append(("connection limit", "CONNECTION_LIMIT['CACHE']", warden.connection_limit.cache))
    if warden.handshake_throttle is not None:
        uses.append(("handshake throttle", "HANDSHAKE_THROTTLE['CACHE']", warden.handshake_throttle.cache))
    return [
        LocalCacheUse(feature, setting, alias, _cache_backend(alias))
        for feature, setting, alias in uses
        if _cache_backend(alias) in PROCESS_LOCAL_CACHES
    ]
