"""Failed-handshake throttle per client address (opt-in).

``WARDEN["HANDSHAKE_THROTTLE"] = {"FAILURES": 20, "WINDOW": 60}``: once an address has had
``FAILURES`` refused handshakes (4400, 4401, 4403) within a window of ``WINDOW`` seconds, its next
handshakes get 4429 with ``retry_after`` until the window ends. The address is ``scope["client"]``:
behind a proxy, run the server with its proxy-headers option so that it is the real client's.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured

from ._types import Scope
from .cachelock import in_thread
from .codes import CloseCode
from .exceptions import Rejection, TooManyConnections

COUNTED = frozenset({CloseCode.BAD_REQUEST, CloseCode.UNAUTHENTICATED, CloseCode.FORBIDDEN})


@dataclass(frozen=True)
class ThrottleConfig:
    failures: int
    window: int
    cache: str = "default"

    @classmethod
    def from_setting(cls, value: Mapping[str, Any] | None) -> ThrottleConfig | None:
        if value is None:
            return None
        failures, window = value.get("FAILURES"), value.get("WINDOW")
        if set(value) - {"FAILURES", "WINDOW", "CACHE"} or not all(
            isinstance(number, int) and number > 0 for number in (failures, window)
        ):
            raise ImproperlyConfigured(
                "WARDEN HANDSHAKE_THROTTLE must look like "
                f"{{'FAILURES': 20, 'WINDOW': 60, 'CACHE': 'default'}}, not {dict(value)!r}."
            )
        return cls(failures=int(failures), window=int(window), cache=value.get("CACHE", "default"))  # type: ignore[arg-type]


def _key(scope: Scope) -> str:
    client = scope.get("client") or ("unknown", 0)
    return f"warden:failures:{client[0]}"


def _check_sync(key: str, config: ThrottleConfig) -> None:
    record = caches[config.cache].get(key)
    if record is not None and record[0] >= config.failures:
        retry_after = max(int(record[1] - time.time()) + 1, 1)
        refused = TooManyConnections("too many failed handshakes from this address", retry_after=retry_after)
        refused.check = "handshake throttle"
        raise refused


def _count_sync(key: str, config: ThrottleConfig) -> None:
    cache = caches[config.cache]
    record = cache.get(key)
    now = time.time()
    if record is None or record[1] <= now:
        record = [0, now + config.window]
    record[0] += 1
    cache.set(key, record, timeout=max(int(record[1] - now), 1))


async def check(scope: Scope, config: ThrottleConfig) -> None:
    """Raise 4429 when the client address is over its failure budget."""
    await in_thread(_check_sync, _key(scope), config)


async def count_failure(scope: Scope, config: ThrottleConfig, rejection: Rejection) -> None:
    """Record a refused handshake against the client address (only client-caused refusals count)."""
    if rejection.code in COUNTED:
        await in_thread(_count_sync, _key(scope), config)
