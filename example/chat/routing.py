"""WebSocket routes. Every one of them sits behind ``WardenMiddlewareStack`` (see ``chatsite.asgi``).

The chat routes accept every credential the demo knows (session cookie, ``Authorization`` header,
``warden, bearer.<jwt>`` subprotocol, ``?ticket=``) and, when the handshake carried none, wait for
a ``{"type": "warden.auth", ...}`` first frame.
"""

from __future__ import annotations

from channels_warden import guard
from channels_warden.groups import CanJoin
from django.urls import path

from .consumers import EchoConsumer, MultiRoomConsumer, RoomConsumer

websocket_urlpatterns = [
    path("ws/echo/", EchoConsumer.as_asgi()),
    path("ws/chat/", guard(MultiRoomConsumer.as_asgi(), first_message=True)),
    # <str:room>, not <slug:room>: any name reaches the room's policy (chat.warden), which refuses
    # unknown rooms and malformed names with the same 4403 as private ones.
    path(
        "ws/chat/<str:room>/",
        guard(RoomConsumer.as_asgi(), permissions=[CanJoin("chat.{room}")], first_message=True),
    ),
]
