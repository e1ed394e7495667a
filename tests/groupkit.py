"""Helpers for the unit tests of ``channels_warden.groups``: live connections and stand-in consumers.

A :class:`Socket` is a real :class:`~channels_warden.connection.Connection`, live and registered, whose
server ``send`` records the frames warden writes; :class:`FakeConsumer` is the part of a Channels
consumer that ``warden_join`` reads (scope, channel layer, channel name).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from channels.layers import InMemoryChannelLayer

from channels_warden.conf import WardenSettings
from channels_warden.connection import SCOPE_KEY, Connection
from channels_warden.groups import registry
from channels_warden.groups.processes import inventory
from channels_warden.identity import AuthInfo


@dataclass
class Socket:
    connection: Connection
    sent: list[dict[str, Any]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def frames(self) -> list[Any]:
        """The JSON frames warden wrote to the client."""
        return [json.loads(m["text"]) for m in self.sent if m.get("type") == "websocket.send"]

    async def wait_frames(self, count: int, timeout: float = 5.0) -> list[Any]:
        """Wait until warden wrote ``count`` frames (an event, not a timing assertion)."""
        async with asyncio.timeout(timeout):
            while len(self.frames()) < count:
                self.changed.clear()
                await self.changed.wait()
        return self.frames()


async def live_socket(user: Any, settings: WardenSettings | None = None, **auth: Any) -> Socket:
    """An accepted, live connection of ``user`` whose sent messages are recorded."""
    sent: list[dict[str, Any]] = []
    changed = asyncio.Event()

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        changed.set()

    async def receive() -> dict[str, Any]:
        raise AssertionError("nothing reads from this socket")

    scope: dict[str, Any] = {"type": "websocket", "path": "/ws/unit/"}
    connection = Connection(scope, receive, send, settings or WardenSettings())
    connection.auth = AuthInfo(user=user, authenticator="unit", **auth)
    scope.update({SCOPE_KEY: connection, "user": user, "auth": connection.auth})
    connection.accepted = connection.policy_decided = True
    connection.go_live()
    return Socket(connection, sent, changed)


@dataclass
class FakeConsumer:
    scope: dict[str, Any]
    channel_layer: Any
    channel_name: str


async def consumer_of(socket: Socket, layer: InMemoryChannelLayer, **scope: Any) -> FakeConsumer:
    """A consumer on ``socket``'s connection with its own channel on ``layer``."""
    return FakeConsumer({**socket.connection.scope, **scope}, layer, await layer.new_channel())


async def heard(layer: InMemoryChannelLayer, consumer: FakeConsumer) -> list[Any]:
    """Every message waiting on the consumer's channel."""
    messages = []
    queue = layer.channels.get(consumer.channel_name)
    while queue is not None and not queue.empty():
        messages.append(await layer.receive(consumer.channel_name))
    return messages


@contextmanager
def declared(policies: dict[str, Any]) -> Iterator[None]:
    """Declare ``{pattern: policy}`` in the process registry for the length of one test."""
    for pattern, func in policies.items():
        registry.register(pattern, func)
    try:
        yield
    finally:
        for pattern in policies:
            registry.unregister(pattern)


_opened: list[Connection] = []


async def opened(user: Any, settings: WardenSettings | None = None, **auth: Any) -> Socket:
    """:func:`live_socket`, finished (groups left, registry cleaned) by :func:`groups_cleanup`."""
    socket = await live_socket(user, settings, **auth)
    _opened.append(socket.connection)
    return socket


@pytest.fixture
async def groups_cleanup(stop_revocation_listener: None) -> AsyncIterator[None]:
    """Finish the sockets a test opened and stop this loop's heartbeat."""
    yield
    for connection in _opened:
        await connection.finish()
    _opened.clear()
    await inventory.stop()
