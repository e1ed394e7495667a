"""Prometheus counters, fed by warden's signals, when ``prometheus_client`` is installed.

========================================  ===============================
``warden_connections_admitted_total``     labels: ``authenticator``
``warden_handshakes_rejected_total``      labels: ``code``, ``reason``
``warden_connections_closed_total``       labels: ``code``
``warden_connections_revoked_total``      labels: ``reason``
``warden_connections_refreshed_total``    labels: ``authenticator``
========================================  ===============================

The counters live in ``prometheus_client``'s default registry; expose them as you expose the rest of
your metrics. Labels are bounded: codes and reasons come from the close-code table.
"""

from __future__ import annotations

from typing import Any

from . import signals

_connected = False


def connect_metrics() -> bool:
    """Register the counters and their signal receivers once; ``False`` without ``prometheus_client``."""
    global _connected
    if _connected:
        return True
    try:
        from prometheus_client import Counter
    except ImportError:
        return False
    admitted = Counter("warden_connections_admitted", "Sockets admitted by warden", ["authenticator"])
    rejected = Counter("warden_handshakes_rejected", "Handshakes refused by warden", ["code", "reason"])
    closed = Counter("warden_connections_closed", "Live sockets that ended", ["code"])
    revoked = Counter("warden_connections_revoked", "Live sockets closed by a revocation", ["reason"])
    refreshed = Counter("warden_connections_refreshed", "In-band refreshes", ["authenticator"])

    def authenticator_of(auth: Any) -> str:
        return str(getattr(auth, "authenticator", None) or "anonymous")

    async def on_admitted(sender: Any, auth: Any = None, **kwargs: Any) -> None:
        admitted.labels(authenticator_of(auth)).inc()

    async def on_rejected(sender: Any, code: int = 0, reason: str = "", **kwargs: Any) -> None:
        rejected.labels(str(code), reason).inc()

    async def on_closed(sender: Any, code: int = 0, **kwargs: Any) -> None:
        closed.labels(str(code)).inc()

    async def on_revoked(sender: Any, reason: str = "", **kwargs: Any) -> None:
        revoked.labels(reason).inc()

    async def on_refreshed(sender: Any, auth: Any = None, **kwargs: Any) -> None:
        refreshed.labels(authenticator_of(auth)).inc()

    for signal, receiver in (
        (signals.connection_admitted, on_admitted),
        (signals.connection_rejected, on_rejected),
        (signals.connection_closed, on_closed),
        (signals.connection_revoked, on_revoked),
        (signals.connection_refreshed, on_refreshed),
    ):
        signal.connect(receiver, weak=False, dispatch_uid=f"channels_warden.metrics.{receiver.__name__}")
    _connected = True
    return True
