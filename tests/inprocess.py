"""Helpers for the in-process tests: recording ASGI apps and the echo project behind warden."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any

from channels.routing import URLRouter
from django.urls import path
from rest_framework_simplejwt.tokens import AccessToken

from channels_warden import WardenMiddlewareStack, guard
from channels_warden.authenticators.base import BaseAuthenticator
from channels_warden.permissions import IsStaff
from channels_warden.testing import WardenCommunicator
from tests.project.consumers import EchoConsumer

#: A well-formed session key that names no session.
SESSION_ROW_MISSING = "abcdefghijklmnopqrstuvwxyz012345"
UNAUTHENTICATED = {
    "type": "warden.disconnect",
    "code": 4401,
    "reason": "unauthenticated",
    "reconnect": "refresh",
}
FORBIDDEN = {"type": "warden.disconnect", "code": 4403, "reason": "forbidden", "reconnect": "never"}
BAD_REQUEST = {"type": "warden.disconnect", "code": 4400, "reason": "bad_request", "reconnect": "never"}
INTERNAL = {"type": "warden.disconnect", "code": 4500, "reason": "internal", "reconnect": "backoff"}

Message = dict[str, Any]


class RecordingApp:
    """A bare ASGI application: records its scope and every event, accepts on connect.

    Args:
        subprotocol: what to select in its ``websocket.accept``.
        after_accept: messages to send right after accepting.
    """

    def __init__(self, subprotocol: str | None = None, after_accept: list[Message] | None = None) -> None:
        self.subprotocol = subprotocol
        self.after_accept = after_accept or []
        self.calls = 0
        self.scope: Any = None
        self.receive: Any = None
        self.send: Any = None
        self.events: list[Message] = []

    async def __call__(
        self,
        scope: Any,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        self.calls += 1
        self.scope, self.receive, self.send = scope, receive, send
        if scope["type"] != "websocket":
            return
        while True:
            event = await receive()
            self.events.append(event)
            if event["type"] == "websocket.connect":
                await send({"type": "websocket.accept", "subprotocol": self.subprotocol})
                for message in self.after_accept:
                    await send(message)
            elif event["type"] == "websocket.disconnect":
                return

    @property
    def event_types(self) -> list[str]:
        return [event["type"] for event in self.events]


def queue_receive(*events: Message) -> Callable[[], Awaitable[Message]]:
    """A ``receive`` that yields ``events`` in order."""
    pending = list(events)

    async def receive() -> Message:
        return pending.pop(0)

    return receive


class SentMessages(list[Message]):
    """A ``send`` that keeps what it was sent."""

    async def __call__(self, message: Message) -> None:
        self.append(message)


def echo_application(**overrides: Any) -> Any:
    """The project's echo consumer behind warden: an unguarded, an anonymous and a staff-only route."""
    routes = URLRouter(
        [
            path("ws/echo/", EchoConsumer.as_asgi()),
            path("ws/public/", guard(EchoConsumer.as_asgi(), allow_anonymous=True)),
            path("ws/staff/", guard(EchoConsumer.as_asgi(), permissions=[IsStaff()])),
        ]
    )
    return WardenMiddlewareStack(routes, settings=overrides or None)


def jwt_for(user: Any) -> str:
    """A SimpleJWT access token for ``user`` (no database access)."""
    return str(AccessToken.for_user(user))


async def whoami(communicator: WardenCommunicator) -> dict[str, Any]:
    """Ask the echo consumer what it saw of the handshake, then hang up."""
    await communicator.send_to(text_data="whoami")
    answer: dict[str, Any] = json.loads(await communicator.receive_from())
    await communicator.disconnect()
    return answer


class ExplodingAuthenticator(BaseAuthenticator):
    """Claims bearer tokens and crashes on every one of them."""

    name = "exploding"
    default_schemes = ("bearer",)

    async def authenticate(self, credential: Any, scope: Any) -> Any:
        raise RuntimeError("bug in a custom authenticator")


def jwt_shaped(signature: bytes) -> str:
    """A string with a JWT's shape (header.payload.signature) but no valid signature.

    Built at run time so that no JWT-shaped literal is ever committed.
    """

    def part(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return ".".join(part(raw) for raw in (b'{"alg":"HS256"}', b'{"user_id":"1"}', signature))
