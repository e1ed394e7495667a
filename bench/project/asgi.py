"""The bench server's application: one route per configuration of :mod:`bench.configs`.

Every route serves the same echo consumer at its own full path (``/ws/<name>/``) from one top-level
``URLRouter``, so routing costs the same everywhere. The baseline has no middleware at all; each
warden route has its own ``WardenMiddleware`` with its own settings; the peers are wrapped the way
their documentation says.
"""

from __future__ import annotations

import os
import time
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.project.settings")

from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.db.backends.signals import connection_created  # noqa: E402
from django.urls import path  # noqa: E402

from bench.configs import CONFIGS, Config, peer_available  # noqa: E402
from bench.project import queries  # noqa: E402
from bench.project.consumers import AuthenticatedEchoConsumer, EchoConsumer  # noqa: E402
from channels_warden import WardenMiddleware, WardenMiddlewareStack, guard  # noqa: E402

connection_created.connect(queries.install)

_AUTH = "channels_warden.authenticators."
_SESSION = [f"{_AUTH}SessionAuthenticator"]
_SESSION_SIGNED = [
    {
        "CLASS": f"{_AUTH}SessionAuthenticator",
        "OPTIONS": {"engine": "django.contrib.sessions.backends.signed_cookies"},
    }
]
_DRF = [f"{_AUTH}DRFTokenAuthenticator"]
_JWT_DB = [f"{_AUTH}SimpleJWTAuthenticator"]
_JWT_STATELESS = [{"CLASS": f"{_AUTH}SimpleJWTAuthenticator", "OPTIONS": {"mode": "stateless"}}]
_CACHE = {"TTL": 60, "MAX_ENTRIES": 10_000}
_DEFAULT_TRANSPORTS = [
    "channels_warden.transports.SessionCookieTransport",
    "channels_warden.transports.AuthorizationHeaderTransport",
    "channels_warden.transports.SubprotocolTransport",
]


def _warden(authenticators: list[Any], *, cache: bool = False, **extra: Any) -> Any:
    settings: dict[str, Any] = {"AUTHENTICATORS": authenticators, **extra}
    if cache:
        settings["IDENTITY_CACHE"] = _CACHE
    return WardenMiddleware(EchoConsumer.as_asgi(), settings=settings)


class BusyMiddleware:
    """Spends ``seconds`` of this thread's CPU time in Python, then calls the consumer.

    The calibration routes: what a middleware costing a known amount of work per handshake scores,
    so that a ratio can be read as microseconds of Python per handshake.
    """

    def __init__(self, inner: Any, seconds: float) -> None:
        self.inner = inner
        self.seconds = seconds

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        end = time.thread_time() + self.seconds
        while time.thread_time() < end:
            pass
        await self.inner(scope, receive, send)


def build(config: Config) -> Any:
    """The ASGI application of one configuration's route."""
    consumer = EchoConsumer.as_asgi()
    warm = config.cache == "warm"
    match config.name:
        case "baseline":
            return consumer
        case "warden_session":
            return WardenMiddlewareStack(consumer, settings={"AUTHENTICATORS": _SESSION})
        case "warden_session_warm":
            return WardenMiddlewareStack(
                consumer, settings={"AUTHENTICATORS": _SESSION, "IDENTITY_CACHE": _CACHE}
            )
        case "warden_session_signed":
            return _warden(_SESSION_SIGNED, cache=True)
        case "warden_drf_cold" | "warden_drf_warm":
            return _warden(_DRF, cache=warm)
        case "warden_jwt_db_cold" | "warden_jwt_db_warm":
            return _warden(_JWT_DB, cache=warm)
        case "warden_jwt_stateless_cold" | "warden_jwt_stateless_warm":
            return _warden(_JWT_STATELESS, cache=warm)
        case "warden_ticket":
            return _warden(
                ["channels_warden.tickets.TicketAuthenticator"],
                TRANSPORTS=[*_DEFAULT_TRANSPORTS, "channels_warden.tickets.TicketTransport"],
            )
        case "warden_first_message":
            return WardenMiddleware(
                guard(consumer, first_message=True), settings={"AUTHENTICATORS": _JWT_STATELESS}
            )
        case "peer_auth_stack":
            from channels.auth import AuthMiddlewareStack

            return AuthMiddlewareStack(AuthenticatedEchoConsumer.as_asgi())
        case "peer_token_drf":
            from channels_auth_token_middlewares.middleware import DRFAuthTokenMiddlewareStack

            return DRFAuthTokenMiddlewareStack(AuthenticatedEchoConsumer.as_asgi())
        case "peer_token_jwt":
            from channels_auth_token_middlewares.middleware import SimpleJWTAuthTokenMiddlewareStack

            return SimpleJWTAuthTokenMiddlewareStack(AuthenticatedEchoConsumer.as_asgi())
        case "peer_jwt_stateless":
            from django_channels_jwt_stateless import JWTAuthMiddleware

            return JWTAuthMiddleware(AuthenticatedEchoConsumer.as_asgi())
        case "calibration_50" | "calibration_150":
            return BusyMiddleware(consumer, int(config.name.rsplit("_", 1)[1]) / 1e6)
    raise ValueError(f"no route for configuration {config.name!r}")


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter(
            [
                path(config.path.lstrip("/"), build(config))
                for config in CONFIGS
                if peer_available(config) is None
            ]
        ),
    }
)

if os.environ.get("WARDEN_BENCH_COUNTING"):
    # The instruction-count server (bench/instructions.py). No cyclic collector: a collection
    # landing inside one batch and not another made two counts of the same work differ by up to
    # 9 % (DRF warm, 0.785x to 0.856x over five runs; 0.867x twice without it). The count leaves
    # the collector's work out; the CPU figures keep it (and py-spy saw the same ratio with the
    # collector off, 0.671 against 0.670: bench/NOTES.md). A long switch
    # interval: under valgrind a thread waiting for the GIL would otherwise wake every 5 ms of a
    # 50-times slower clock and ask for it, and how often that happens is not the same twice.
    import gc
    import sys

    gc.collect()
    gc.disable()
    sys.setswitchinterval(1.0)
