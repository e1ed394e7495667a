"""The one consumer every route serves: accept, echo text frames."""

from __future__ import annotations

from channels.generic.websocket import AsyncWebsocketConsumer


class EchoConsumer(AsyncWebsocketConsumer):
    """Echoes every text frame back.

    With ``require_user`` it closes with 4401 when ``scope["user"]`` is anonymous, as an
    application behind a peer middleware must (peers admit anonymous sockets); warden has already
    refused those, so the check costs it one attribute read.
    """

    require_user = False

    async def connect(self) -> None:
        if self.require_user and not self.scope["user"].is_authenticated:
            await self.close(code=4401)
            return
        await self.accept()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await self.send(text_data=text_data, bytes_data=bytes_data)


class AuthenticatedEchoConsumer(EchoConsumer):
    require_user = True
