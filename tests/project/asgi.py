"""The application the end-to-end servers run: every warden configuration under its own prefix.

``channels_warden`` is imported *before* ``get_asgi_application()`` on purpose: that order must work.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

from django.core.asgi import get_asgi_application

from channels_warden import HasPerm, IsStaff, WardenMiddlewareStack, guard
from channels_warden.groups import CanJoin

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import path  # noqa: E402

from tests.project.consumers import (  # noqa: E402
    EchoConsumer,
    FloodConsumer,
    GroupsConsumer,
    SyncEchoConsumer,
    raw_echo,
)
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
    path("ws/flood/", FloodConsumer.as_asgi()),
    path("ws/groups/", GroupsConsumer.as_asgi()),
    path("ws/member/<str:name>/", guard(EchoConsumer.as_asgi(), permissions=[CanJoin("room.{name}")])),
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
    # Behind a proxy on 127.0.0.1: tests name the client in X-Forwarded-For, one address per test.
    "proxied": {"HANDSHAKE_THROTTLE": {"FAILURES": 5, "WINDOW": 60, "TRUSTED_PROXIES": ["127.0.0.1"]}},
    "cached": {"IDENTITY_CACHE": {"TTL": 60, "MAX_ENTRIES": 100}},
    # Every route without a guard() waits for a warden.auth frame when the handshake had no credential.
    "firstmsg": {"FIRST_MESSAGE_AUTH": True, "AUTH_TIMEOUT": 2},
    # The same cache under other options of the same authenticator class: entries must not be shared.
    "cached-lax": {
        "AUTHENTICATORS": [
            {"CLASS": _JWT, "OPTIONS": {"token_class": "rest_framework_simplejwt.tokens.UntypedToken"}}
        ],
        "IDENTITY_CACHE": {"TTL": 60, "MAX_ENTRIES": 100},
    },
    # Signed-cookie sessions read by warden with the user cached: no thread hop once the user is known.
    "signed": {
        "AUTHENTICATORS": [
            {
                "CLASS": "channels_warden.authenticators.SessionAuthenticator",
                "OPTIONS": {"engine": "django.contrib.sessions.backends.signed_cookies"},
            }
        ],
        "IDENTITY_CACHE": {"TTL": 60, "MAX_ENTRIES": 100},
    },
    # Sessions with the user cached: in a local-memory cache (SESSION_ENGINE "cache"), no thread hop.
    "cached-session": {
        "AUTHENTICATORS": ["channels_warden.authenticators.SessionAuthenticator"],
        "IDENTITY_CACHE": {"TTL": 60, "MAX_ENTRIES": 100},
    },
    "cached-stateless": {
        "AUTHENTICATORS": [{"CLASS": _JWT, "OPTIONS": {"mode": "stateless"}}],
        "IDENTITY_CACHE": {"TTL": 60, "MAX_ENTRIES": 100},
    },
}

if os.environ.get("WARDEN_TEST_SIGNAL_PROBE"):
    from tests.project import signal_probe

    signal_probe.connect(os.environ["WARDEN_TEST_SIGNAL_PROBE"])

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter(
            [
                # Each prefix owns its paths: an unknown one is refused (4404) by that prefix's
                # warden, in that profile's reject mode, rather than tried against the next prefix.
                *(
                    path(
                        f"{prefix}/",
                        WardenMiddlewareStack(URLRouter(ROUTES), settings=overrides, fall_through=False),
                    )
                    for prefix, overrides in PROFILES.items()
                ),
                path("", WardenMiddlewareStack(URLRouter(ROUTES), fall_through=False)),
            ]
        ),
    }
)
