"""Client sockets for ``bench.group_cluster``: ``/ws/groups/`` sockets that stamp ``warden.left``.

Kept apart from the harness so each file stays one concept: this one opens sockets, joins groups
and records arrival times; group_cluster.py runs the servers and the rounds.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import time
from dataclasses import dataclass, field
from typing import Any

OPEN_CONCURRENCY = 50


@dataclass
class GroupClient:
    """One ``/ws/groups/`` socket: answers joins and stamps each ``warden.left`` when read."""

    socket: Any
    process: str
    joins: dict[str, asyncio.Future[bool]] = field(default_factory=dict)
    left_at: dict[str, float] = field(default_factory=dict)
    reader: asyncio.Task[None] | None = None

    async def read(self, arrived: dict[str, Any]) -> None:
        from websockets.exceptions import ConnectionClosed

        with contextlib.suppress(ConnectionClosed):
            async for raw in self.socket:
                frame = json.loads(raw)
                group = frame.get("group")
                if frame.get("type") == "warden.left":
                    self.left_at[group] = time.perf_counter()
                    counter = arrived.get(group)
                    if counter is not None:
                        counter.arrived()
                elif group in self.joins and not self.joins[group].done():
                    self.joins[group].set_result(frame.get("op") == "joined")

    async def join(self, group: str) -> None:
        answer = self.joins[group] = asyncio.get_running_loop().create_future()
        await self.socket.send(json.dumps({"op": "join", "group": group}))
        try:
            if not await asyncio.wait_for(answer, 10):
                raise RuntimeError(f"join {group} refused")
        except TimeoutError:
            raise RuntimeError(
                f"no answer to join {group}; socket close code {self.socket.close_code}"
            ) from None
        finally:
            del self.joins[group]


class Counter:
    """Wakes the waiter once ``expected`` sockets have read their ``warden.left``."""

    def __init__(self, expected: int) -> None:
        self.expected, self.count, self.done = expected, 0, asyncio.Event()

    def arrived(self) -> None:
        self.count += 1
        if self.count >= self.expected:
            self.done.set()


def post(port: int, path: str, payload: Any) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", path, json.dumps(payload), {"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


async def open_clients(
    servers: list[Any], count: int, token: str, arrived: dict[str, Any]
) -> list[GroupClient]:
    """``count`` sockets opened 50 at a time; with two servers socket i is on B if i is even, else A,
    so any first N are split evenly and a single socket is on B (its frame crosses Redis)."""
    from websockets.asyncio.client import connect

    from tests.e2e.lifecycle import ORIGIN, bearer_subprotocols

    gate = asyncio.Semaphore(OPEN_CONCURRENCY)
    names = "AB"

    async def one(i: int) -> GroupClient:
        side = (i + 1) % len(servers)
        server = servers[side]
        async with gate:
            socket = await connect(
                server.url("/ws/groups/"),
                origin=ORIGIN,  # type: ignore[arg-type]
                subprotocols=bearer_subprotocols(token),  # type: ignore[arg-type]
                open_timeout=30,
                max_queue=None,
            )
        client = GroupClient(socket, names[side])
        client.reader = asyncio.get_running_loop().create_task(client.read(arrived))
        return client

    return list(await asyncio.gather(*(one(i) for i in range(count))))
