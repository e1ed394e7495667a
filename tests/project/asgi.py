"""The application the end-to-end servers run: every warden configuration under its own prefix.

``channels_warden`` is imported *before* ``get_asgi_application()`` on purpose: that order must work.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

from django.core.asgi import get_asgi_application

from channels_warden import HasPerm, IsStaff, WardenMiddlewareStack, guard

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import path  # noqa: E402

from tests.project.consumers import EchoConsumer, SyncEchoConsumer, raw_echo  # noqa: E402
from tests.project.graphql_schema import graphql_consumer  # noqa: E402

ROUTES = [
    path("ws/echo/", EchoConsumer.as_asgi()),
    path("ws/sync/", SyncEchoConsumer.as_asgi()),
    path("ws/raw/", raw_echo),
    path("ws/public/", guard(EchoConsumer.as_asgi(), allow_anonymous=True)),
    path("ws/staff/", guard(EchoConsumer.as_asgi(), permissions=[IsStaff()])),
    path("ws/perm/", guard(EchoConsumer.as_asgi(), permissions=[HasPerm("auth.view_user")])),
    path("ws/room/<slug:room>/", guard(EchoConsumer.as_asgi())),
    path("ws/first/", guard(EchoConsumer.as_asgi(), first_message=True)),
    path("ws/graphql/", graphql_consumer()),
    path("ws/graphql/public/", guard(graphql_consumer(), allow_anonymous=True)),
    path("ws/graphql/staff/", guard(graphql_consumer(), permissions=[IsStaff()])),
    path("ws/graphql/first/", guard(graphql_consumer(), first_message=True)),
]

_JWT = "channels_warden.authenticators.SimpleJWTAuthenticator"
_DEFAULT_TRANSPORTS = list(settings.WARDEN["TRANSPORTS"])
_DEFAULT_AUTHENTICATORS = list(settings.WARDEN["AUTHENTICATORS"])
_BASE_TRANSPORTS = [
    "channels_warden.transports.AuthorizationHeaderTransport",
    "channels_warden.transports.SubprotocolTransport",
]

#: Prefix -> WARDEN overrides. The default configuration (tests.settings.WARDEN) serves "/ws/...".
PROFILES: dict[str, dict[str, object]] = {
    "deny": {"REJECT_MODE": "deny"},
    "strict": {"ALLOW_MISSING_ORIGIN": False},
    "query": {"TRANSPORTS": [*_BASE_TRANSPORTS, "channels_warden.transports.QueryStringTransport"]},
    "compat": {"TRANSPORTS": [*_BASE_TRANSPORTS, "channels_warden.transports.RawJWTSubprotocolTransport"]},
    "stateless": {"AUTHENTICATORS": [{"CLASS": _JWT, "OPTIONS": {"mode": "stateless"}}]},
    "knox": {"AUTHENTICATORS": ["channels_warden.authenticators.KnoxAuthenticator"]},
    # Live-connection behaviour with short clocks, and tickets.
    "live": {
        "EXPIRY_WARNING": 1,
        "AUTH_TIMEOUT": 1,
        "TRANSPORTS": [*_DEFAULT_TRANSPORTS, "channels_warden.tickets.TicketTransport"],
        "AUTHENTICATORS": [*_DEFAULT_AUTHENTICATORS, "channels_warden.tickets.TicketAuthenticator"],
    },
    "limit": {"CONNECTION_LIMIT": {"MAX": 2, "POLICY": "reject_newest", "LEASE": 3}},
    "evict": {"CONNECTION_LIMIT": {"MAX": 2, "POLICY": "evict_oldest", "LEASE": 3}},
    "throttle": {"HANDSHAKE_THROTTLE": {"FAILURES": 3, "WINDOW": 5}},
    "cached": {"IDENTITY_CACHE": {"TTL": 60, "MAX_ENTRIES": 100}},
}

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter(
            [
                *(
                    path(f"{prefix}/", WardenMiddlewareStack(URLRouter(ROUTES), settings=overrides))
                    for prefix, overrides in PROFILES.items()
                ),
                path("", WardenMiddlewareStack(URLRouter(ROUTES))),
            ]
        ),
    }
)
