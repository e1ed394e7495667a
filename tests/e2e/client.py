"""A real WebSocket client (the ``websockets`` library) that reports what a browser would observe."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

if TYPE_CHECKING:
    from .conftest import LiveServer

TIMEOUT = 5.0


@dataclass
class Outcome:
    """What the client saw.

    ``status`` is set when the server refused the HTTP upgrade; otherwise the socket opened, and
    either ``frame``/``close_code`` describe warden's disconnect or ``whoami`` is what the consumer
    reported about its scope.
    """

    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    subprotocol: str | None = None
    frame: dict[str, Any] | None = None
    close_code: int | None = None
    close_reason: str | None = None
    whoami: dict[str, Any] | None = None

    @property
    def admitted(self) -> bool:
        return self.whoami is not None


class WsClient:
    def __init__(self, server: LiveServer) -> None:
        self.server = server

    async def handshake(
        self,
        path: str,
        *,
        origin: str | None = "http://testserver",
        headers: Iterable[tuple[str, str]] = (),
        subprotocols: Iterable[str] = (),
    ) -> Outcome:
        """Connect, ask ``whoami``, and report whether warden admitted or closed the socket."""
        extra = list(headers)
        if origin is not None:
            extra.append(("Origin", origin))
        try:
            async with connect(
                self.server.url(path),
                additional_headers=extra,
                subprotocols=list(subprotocols) or None,  # type: ignore[arg-type]
                open_timeout=TIMEOUT,
                close_timeout=TIMEOUT,
            ) as socket:
                outcome = Outcome(subprotocol=socket.subprotocol)
                with contextlib.suppress(ConnectionClosed):
                    await socket.send("whoami")
                try:
                    message = json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT))
                except ConnectionClosed:
                    message = None
                if isinstance(message, dict) and message.get("type") == "warden.disconnect":
                    outcome.frame = message
                    await asyncio.wait_for(socket.wait_closed(), TIMEOUT)
                    outcome.close_code = socket.close_code
                    outcome.close_reason = socket.close_reason
                elif message is None:
                    outcome.close_code = socket.close_code
                else:
                    outcome.whoami = message
                return outcome
        except InvalidStatus as exc:
            response = exc.response
            return Outcome(
                status=response.status_code,
                response_headers={k.lower(): v for k, v in response.headers.raw_items()},
                body=response.body or b"",
            )
        except InvalidHandshake as exc:
            raise AssertionError(f"handshake failed below HTTP: {exc!r}") from exc
