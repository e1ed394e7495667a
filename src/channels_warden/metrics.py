"""Prometheus counters, when ``prometheus_client`` is installed.

========================================  ===============================
``warden_connections_admitted_total``     labels: ``authenticator``
``warden_handshakes_rejected_total``      labels: ``code``, ``reason``
``warden_connections_closed_total``       labels: ``code``
``warden_connections_revoked_total``      labels: ``reason``
``warden_connections_refreshed_total``    labels: ``authenticator``
========================================  ===============================

The counters live in ``prometheus_client``'s default registry; expose them as you expose the rest of
your metrics. Labels are bounded: codes and reasons come from the close-code table.

The connection code counts directly through the ``count_*`` functions below rather than through
:mod:`.signals` receivers: an async signal with receivers spawns and gathers tasks on every
handshake, which the benchmark showed to cost more than the whole of warden's own checks
(``bench/NOTES.md``). Signals are sent only when someone else listens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class _Counters:
    admitted: Any
    rejected: Any
    closed: Any
    revoked: Any
    refreshed: Any
    #: Labelled children by (counter, labels): ``Counter.labels()`` takes a lock and builds a key on
    #: every call; the label values are few (codes and reasons from the close-code table).
    children: dict[tuple[str, tuple[str, ...]], Any]

    def inc(self, name: str, *labels: str) -> None:
        key = (name, labels)
        child = self.children.get(key)
        if child is None:
            child = self.children[key] = getattr(self, name).labels(*labels)
        child.inc()


_counters: _Counters | None = None


def connect_metrics() -> bool:
    """Register the counters once; ``False`` without ``prometheus_client``."""
    global _counters
    if _counters is not None:
        return True
    try:
        from prometheus_client import Counter
    except ImportError:
        return False
    _counters = _Counters(
        admitted=Counter("warden_connections_admitted", "Sockets admitted by warden", ["authenticator"]),
        rejected=Counter("warden_handshakes_rejected", "Handshakes refused by warden", ["code", "reason"]),
        closed=Counter("warden_connections_closed", "Live sockets that ended", ["code"]),
        revoked=Counter("warden_connections_revoked", "Live sockets closed by a revocation", ["reason"]),
        refreshed=Counter("warden_connections_refreshed", "In-band refreshes", ["authenticator"]),
        children={},
    )
    return True


def _authenticator_of(auth: Any) -> str:
    return str(getattr(auth, "authenticator", None) or "anonymous")


def count_admitted(auth: Any) -> None:
    if _counters is not None:
        _counters.inc("admitted", _authenticator_of(auth))


def count_rejected(code: int, reason: str) -> None:
    if _counters is not None:
        _counters.inc("rejected", str(code), reason)


def count_closed(code: int) -> None:
    if _counters is not None:
        _counters.inc("closed", str(code))


def count_revoked(reason: str) -> None:
    if _counters is not None:
        _counters.inc("revoked", reason)


def count_refreshed(auth: Any) -> None:
    if _counters is not None:
        _counters.inc("refreshed", _authenticator_of(auth))
