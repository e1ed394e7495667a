"""Consumers that report what they were given, so tests can assert on identity and redaction."""

from __future__ import annotations

import json
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer, AsyncWebsocketConsumer, WebsocketConsumer

from channels_warden.groups import WardenGroupsMixin


def describe(scope: dict[str, Any]) -> dict[str, Any]:
    """What the application saw of the handshake."""
    auth = scope.get("auth")
    user = scope.get("user")
    return {
        "user": getattr(user, "username", None) or (str(user.pk) if getattr(user, "pk", None) else None),
        "is_authenticated": bool(getattr(user, "is_authenticated", False)),
        "authenticator": getattr(auth, "authenticator", None),
        "transport": getattr(auth, "transport", None),
        "expires_at": getattr(auth, "expires_at", None),
        "token_id": getattr(auth, "token_id", None),
        "subprotocols": list(scope.get("subprotocols") or []),
        "query_string": scope.get("query_string", b"").decode("latin-1"),
        "headers": {
            name.decode("latin-1"): value.decode("latin-1") for name, value in scope.get("headers", [])
        },
        "cookies": sorted((scope.get("cookies") or {}).keys()),
        "url_route": (scope.get("url_route") or {}).get("kwargs", {}),
    }


class EchoConsumer(AsyncWebsocketConsumer):
    """Echoes text; ``whoami`` answers with :func:`describe`."""

    async def connect(self) -> None:
        await self.accept()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data == "whoami":
            await self.send(text_data=json.dumps(describe(self.scope)))
        else:
            await self.send(text_data=text_data, bytes_data=bytes_data)


class SyncEchoConsumer(WebsocketConsumer):
    """The same for a sync consumer: warden needs no base class."""

    def connect(self) -> None:
        self.accept()

    def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data == "whoami":
            self.send(text_data=json.dumps(describe(self.scope)))
        else:
            self.send(text_data=text_data, bytes_data=bytes_data)


async def raw_echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A bare ASGI application, no Channels consumer at all."""
    while True:
        event = await receive()
        if event["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif event["type"] == "websocket.receive":
            text = event.get("text")
            if text == "whoami":
                text = json.dumps(describe(scope))
            await send({"type": "websocket.send", "text": text})
        else:
            return


class FloodConsumer(AsyncWebsocketConsumer):
    """``flood N`` answers with N binary frames of 64 KiB: a client that does not read them stalls."""

    CHUNK = b"x" * 65536
    MAX_FRAMES = 256

    async def connect(self) -> None:
        await self.accept()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        command, _, count = (text_data or "").partition(" ")
        if command != "flood" or not count.isdigit():
            await self.send(text_data=text_data, bytes_data=bytes_data)
            return
        for _ in range(min(int(count), self.MAX_FRAMES)):
            await self.send(bytes_data=self.CHUNK)


class GroupsConsumer(WardenGroupsMixin, AsyncJsonWebsocketConsumer):
    """Joins, leaves and sends to groups on command, and reports everything it hears.

    Frames in: ``{"op": "join"|"leave", "group": g}``, ``{"op": "send", "group": g, "n": n}``,
    ``{"op": "groups"}``, ``{"op": "ping"}``. Frames out: ``joined``/``left``/``sent``/``groups``/
    ``pong`` answers, ``{"op": "message", "group": g, "n": n}`` for each group message, and
    ``{"op": "hook.left", ...}`` when warden tells the consumer it left a group.
    """

    async def connect(self) -> None:
        await self.accept()

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        op, group = content.get("op"), content.get("group")
        if op == "join":
            grant = await self.join(group)
            if grant is not None:
                await self.send_json({"op": "joined", "group": group, "expires_at": grant.expires_at})
        elif op == "leave":
            await self.send_json({"op": "left", "group": group, "held": await self.leave(group)})
        elif op == "send":
            message = {"type": "group.message", "group": group, "n": content["n"]}
            await self.channel_layer.group_send(group, message)
            await self.send_json({"op": "sent", "n": content["n"]})
        elif op == "groups":
            await self.send_json({"op": "groups", "groups": sorted(self.warden_groups)})
        elif op == "ping":
            await self.send_json({"op": "pong"})

    async def group_message(self, event: dict[str, Any]) -> None:
        await self.send_json({"op": "message", "group": event["group"], "n": event["n"]})

    async def group_left(self, group: str, reason: str) -> None:
        await self.send_json({"op": "hook.left", "group": group, "reason": reason})
