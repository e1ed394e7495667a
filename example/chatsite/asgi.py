"""The demo's ASGI application: Django for HTTP, warden in front of every WebSocket route.

Run it with ``python -m uvicorn chatsite.asgi:application`` (or daphne) from ``example/``.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")

from django.core.asgi import get_asgi_application

# Set Django up before the routes are imported, so that consumers may import models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels_warden import WardenMiddlewareStack  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from chat.graphql_routing import graphql_websocket_urlpatterns  # noqa: E402
from chat.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        # uvicorn has no runserver to serve /static/; in a deployment a proxy or WhiteNoise would.
        "http": ASGIStaticFilesHandler(django_asgi_app),
        "websocket": WardenMiddlewareStack(
            URLRouter([*graphql_websocket_urlpatterns, *websocket_urlpatterns])
        ),
    }
)
