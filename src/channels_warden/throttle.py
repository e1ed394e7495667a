"""Failed-handshake throttle per client address (opt-in).

``WARDEN["HANDSHAKE_THROTTLE"] = {"FAILURES": 20, "WINDOW": 60}``: once an address has had
``FAILURES`` refused handshakes (4400, 4401, 4403) within a window of ``WINDOW`` seconds, its next
handshakes get 4429 with ``retry_after`` until the window ends.

Counting is atomic and happens *before* the credential is judged: each handshake takes a slot with
``cache.add`` + ``cache.incr`` (one Redis ``INCR`` each, with the window as expiry), and gives it back
when it is admitted or refused for a reason that is not the client's guess (a foreign Origin, a
server failure). So a burst of concurrent guesses lets at most ``FAILURES`` of them reach an
authenticator, and the budget also bounds the handshakes in flight from one address.

Refusals of the Origin never count: the Origin is chosen by whichever web page opened the socket,
so counting them would let any page the victim visits lock the victim (and everyone behind the same
NAT) out.

The address: ``scope["client"]``, the peer the server saw. Behind a reverse proxy that is the proxy,
so either run the server with its proxy-headers option (uvicorn ``--proxy-headers
--forwarded-allow-ips``, daphne ``--proxy-headers``) or list the proxies in ``TRUSTED_PROXIES``
(addresses or networks): then, and only when the peer is one of them, ``X-Forwarded-For`` is read
from the right, skipping trusted proxies, and the first address that is not one is the client's. A
client cannot choose its bucket by sending the header itself. IPv6 clients are counted per /64.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured

from ._types import Scope
from .cachelock import in_thread
from .codes import CloseCode
from .exceptions import OriginRejected, Rejection, TooManyConnections

COUNTED = frozenset({CloseCode.BAD_REQUEST, CloseCode.UNAUTHENTICATED, CloseCode.FORBIDDEN})
KEY_PREFIX = "warden:failures:"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class ThrottleConfig:
    failures: int
    window: int
    cache: str = "default"
    trusted_proxies: tuple[Network, ...] = ()

    @classmethod
    def from_setting(cls, value: Mapping[str, Any] | None) -> ThrottleConfig | None:
        if value is None:
            return None
        failures, window = value.get("FAILURES"), value.get("WINDOW")
        proxies = value.get("TRUSTED_PROXIES", ())
        if (
            set(value) - {"FAILURES", "WINDOW", "CACHE", "TRUSTED_PROXIES"}
            or not all(isinstance(number, int) and number > 0 for number in (failures, window))
            or isinstance(proxies, str)
            or not isinstance(proxies, Sequence)
        ):
            raise ImproperlyConfigured(
                "WARDEN HANDSHAKE_THROTTLE must look like {'FAILURES': 20, 'WINDOW': 60, "
                f"'CACHE': 'default', 'TRUSTED_PROXIES': ['10.0.0.0/8']}}, not {dict(value)!r}."
            )
        try:
            networks = tuple(ipaddress.ip_network(str(proxy), strict=False) for proxy in proxies)
        except ValueError as exc:
            raise ImproperlyConfigured(f"WARDEN HANDSHAKE_THROTTLE TRUSTED_PROXIES: {exc}") from None
        return cls(
            failures=int(failures),  # type: ignore[arg-type]
            window=int(window),  # type: ignore[arg-type]
            cache=value.get("CACHE", "default"),
            trusted_proxies=networks,
        )


def _parse_address(text: str) -> Address | None:
    """An address from a peer or an ``X-Forwarded-For`` entry (``1.2.3.4:80``, ``[::1]:80`` too)."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, proxies: tuple[Network, ...]) -> bool:
    return any(address in network for network in proxies)


def _forwarded_for(scope: Scope) -> list[str]:
    values = [
        value.decode("latin-1") for name, value in scope.get("headers", []) if name == b"x-forwarded-for"
    ]
    return [entry for entry in ",".join(values).split(",") if entry.strip()]


def client_address(scope: Scope, trusted_proxies: tuple[Network, ...] = ()) -> str:
    """The address a handshake is counted against (see the module docstring)."""
    peer_text = str((scope.get("client") or ("unknown", 0))[0])
    address = _parse_address(peer_text)
    if address is None:
        return peer_text
    if trusted_proxies and _trusted(address, trusted_proxies):
        for entry in reversed(_forwarded_for(scope)):
            hop = _parse_address(entry)
            if hop is None:
                break  # a trusted proxy never writes this: stop at the last hop known for sure
            address = hop
            if not _trusted(hop, trusted_proxies):
                break
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def _key(scope: Scope, config: ThrottleConfig) -> str:
    return KEY_PREFIX + client_address(scope, config.trusted_proxies)


def _increment(cache: Any, key: str, window: int) -> int:
    """Add one to the window's count, starting a window when there is none; atomic on locmem and Redis."""
    for _ in range(3):
        if cache.add(key, 0, timeout=window):
            cache.set(f"{key}:until", time.time() + window, timeout=window)
        try:
            count = int(cache.incr(key))
        except ValueError:  # the window ended between add and incr: start the next one
            continue
        if count == 1:
            # Redis' INCR of a key that expired after Django's EXISTS check makes a key without
            # expiry; give the first count of a window its expiry in every case.
            cache.touch(key, window)
        return count
    raise RuntimeError(f"could not count handshake failures under {key}")


def _reserve_sync(key: str, config: ThrottleConfig) -> None:
    cache = caches[config.cache]
    count = _increment(cache, key, config.window)
    if count > config.failures:
        until = cache.get(f"{key}:until")
        remaining = (until - time.time()) if isinstance(until, int | float) else config.window
        retry_after = max(int(remaining) + 1, 1)
        refused = TooManyConnections("too many failed handshakes from this address", retry_after=retry_after)
        refused.check = "handshake throttle"
        raise refused


def _release_sync(key: str, config: ThrottleConfig) -> None:
    cache = caches[config.cache]
    try:
        count = int(cache.decr(key))
    except ValueError:  # the window ended: nothing to give back
        return
    if count < 0:  # Redis made a fresh key (no expiry) after the window ended: drop it
        cache.delete(key)


def _count_sync(key: str, config: ThrottleConfig) -> None:
    _increment(caches[config.cache], key, config.window)


def counts(rejection: Rejection) -> bool:
    """Whether a refusal is a client's failed attempt (not its Origin, not the server's fault)."""
    return rejection.code in COUNTED and not isinstance(rejection, OriginRejected)


async def reserve(scope: Scope, config: ThrottleConfig) -> None:
    """Take one attempt of the address's budget before judging its credential; 4429 when none is left."""
    await in_thread(_reserve_sync, _key(scope, config), config)


async def release(scope: Scope, config: ThrottleConfig) -> None:
    """Give back the attempt taken by :func:`reserve`: the handshake did not fail by guessing."""
    await in_thread(_release_sync, _key(scope, config), config)


async def settle(scope: Scope, config: ThrottleConfig, rejection: Rejection) -> None:
    """Settle a reserved attempt that was refused: keep it if the refusal counts, else give it back."""
    rejection.throttled = True
    if not counts(rejection):
        await release(scope, config)


async def count_failure(scope: Scope, config: ThrottleConfig, rejection: Rejection) -> None:
    """Record a refusal after the handshake check (a route's policy), unless already settled."""
    if not rejection.throttled and counts(rejection):
        await in_thread(_count_sync, _key(scope, config), config)
