"""WebSocket routes. Every one of them sits behind ``WardenMiddlewareStack`` (see ``chatsite.asgi``).

The chat routes accept every credential the demo knows (session cookie, ``Authorization`` header,
``warden, bearer.<jwt>`` subprotocol, ``?ticket=``) and, when the handshake carried none, wait for
a ``{"type": "warden.auth", ...}`` first frame.
"""

from __future__ import annotations

from channels_warden import guard
from django.urls import path

from .consumers import EchoConsumer, MultiRoomConsumer, RoomConsumer
from .permissions import IsRoomMember

websocket_urlpatterns = [
    path("ws/echo/", EchoConsumer.as_asgi()),
    path("ws/chat/", guard(MultiRoomConsumer.as_asgi(), first_message=True)),
    # <str:room>, not <slug:room>: any name reaches IsRoomMember, which refuses unknown rooms with
    # the same 4403 as private ones instead of letting the router fail.
    path(
        "ws/chat/<str:room>/",
        guard(RoomConsumer.as_asgi(), permissions=[IsRoomMember()], first_message=True),
    ),
]
