"""A raw ``graphql-transport-ws`` (and legacy ``graphql-ws``) client over the ``websockets`` library.

It speaks the protocol by hand, frame by frame, so that a test sees exactly what a GraphQL client
would: the accepted subprotocol, ``connection_ack``, the operation frames, and the close code. Every
text frame the server sent is kept in ``frames``, so each test can also assert that no ``warden.*``
frame ever reached the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

TIMEOUT = 5.0
TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
WHOAMI = "{ whoami { user authenticator transport expiresAt params subprotocols } }"
CLOCK = "subscription { clock(interval: 0.2) { n user expiresAt } }"


@dataclass
class Closed:
    """How the socket ended: the close code and reason, and when (``time.time()``)."""

    code: int | None
    reason: str | None
    at: float


@dataclass
class GqlSocket:
    """One open socket and every frame the server sent on it."""

    socket: ClientConnection
    frames: list[dict[str, Any]] = field(default_factory=list)

    @property
    def subprotocol(self) -> str | None:
        return self.socket.subprotocol

    async def send(self, frame: dict[str, Any] | str) -> None:
        await self.socket.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def next_frame(self, timeout: float = TIMEOUT) -> dict[str, Any] | None:
        """The next frame from the server, or ``None`` when it closed the socket instead."""
        try:
            raw = await asyncio.wait_for(self.socket.recv(), timeout)
        except ConnectionClosed:
            return None
        frame: dict[str, Any] = json.loads(raw)
        self.frames.append(frame)
        return frame

    async def init(
        self, payload: dict[str, Any] | None = None, *, legacy: bool = False
    ) -> dict[str, Any] | None:
        """Send ``connection_init`` and return the answer (``connection_ack``), or ``None`` on close."""
        frame: dict[str, Any] = {"type": "connection_init"}
        if payload is not None:
            frame["payload"] = payload
        with contextlib.suppress(ConnectionClosed):
            await self.send(frame)
        answer = await self.next_frame()
        while legacy and answer is not None and answer.get("type") == "ka":
            answer = await self.next_frame()
        return answer

    async def subscribe(self, query: str, op_id: str = "1", *, legacy: bool = False) -> None:
        kind = "start" if legacy else "subscribe"
        await self.send({"id": op_id, "type": kind, "payload": {"query": query}})

    async def query(self, query: str, *, legacy: bool = False) -> dict[str, Any]:
        """Run one operation over the socket; return its ``data``."""
        await self.subscribe(query, "q", legacy=legacy)
        while True:
            frame = await self.next_frame()
            assert frame is not None, "socket closed during a query"
            if frame.get("id") == "q" and frame.get("type") in ("next", "data"):
                payload = frame["payload"]
                assert "errors" not in payload, payload
                data: dict[str, Any] = payload["data"]
                return data

    async def whoami(self, *, legacy: bool = False) -> dict[str, Any]:
        data = await self.query(f"subscription {WHOAMI}" if legacy else WHOAMI, legacy=legacy)
        identity: dict[str, Any] = data["whoami"]
        return identity

    async def closed(self, timeout: float = TIMEOUT) -> Closed:
        """Read until the server closes; every frame on the way is kept."""
        deadline = time.monotonic() + timeout
        while await self.next_frame(max(deadline - time.monotonic(), 0.01)) is not None:
            pass
        return Closed(self.socket.close_code, self.socket.close_reason, time.time())

    def warden_frames(self) -> list[dict[str, Any]]:
        return [frame for frame in self.frames if str(frame.get("type", "")).startswith("warden.")]


@contextlib.asynccontextmanager
async def gql_socket(
    server: Any,
    path: str,
    *,
    origin: str | None = None,
    headers: Iterable[tuple[str, str]] = (),
    subprotocols: Iterable[str] = (TRANSPORT_WS,),
) -> Any:
    """Open a socket offering ``subprotocols``; yield a :class:`GqlSocket`; assert no warden frame."""
    extra = list(headers)
    if origin is not None:
        extra.append(("Origin", origin))
    async with connect(
        server.url(path),
        additional_headers=extra,
        subprotocols=list(subprotocols),  # type: ignore[arg-type]
        open_timeout=TIMEOUT,
        close_timeout=TIMEOUT,
    ) as socket:
        gql = GqlSocket(socket)
        yield gql
        assert gql.warden_frames() == [], gql.frames


async def refused(
    server: Any, path: str, payload: dict[str, Any] | None = None, **options: Any
) -> tuple[Closed, GqlSocket]:
    """Open, send ``connection_init`` with ``payload``, and report how the server closed."""
    async with gql_socket(server, path, **options) as gql:
        answer = await gql.init(payload)
        assert answer is None, f"admitted: {answer}"
        end = await gql.closed()
    return end, gql
