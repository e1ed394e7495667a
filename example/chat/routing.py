"""WebSocket routes. Every one of them sits behind ``WardenMiddlewareStack`` (see ``chatsite.asgi``)."""

from __future__ import annotations

from django.urls import path

from .consumers import EchoConsumer

websocket_urlpatterns = [
    path("ws/echo/", EchoConsumer.as_asgi()),
]
