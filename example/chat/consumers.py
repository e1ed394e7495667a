"""The echo consumer: proof that only an authenticated user reaches the application.

It has no auth code of its own. By the time ``connect`` runs, warden has checked the Origin and the
credentials, and ``scope["user"]`` is the user they name; anyone else was closed with a documented
code before this class saw the socket.
"""

from __future__ import annotations

import json

from channels.generic.websocket import AsyncWebsocketConsumer

#: Close code for a frame type the consumer does not speak (RFC 6455 "unsupported data").
UNSUPPORTED_DATA = 1003


class EchoConsumer(AsyncWebsocketConsumer):
    """Answers each text frame with ``{"type": "echo", "user": <username>, "text": <the frame>}``."""

    async def connect(self) -> None:
        await self.accept()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None:
            await self.close(code=UNSUPPORTED_DATA)
            return
        username = self.scope["user"].get_username()
        await self.send(text_data=json.dumps({"type": "echo", "user": username, "text": text_data}))
