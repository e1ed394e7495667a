"""A socket on ``/ws/groups/`` (tests.project.consumers.GroupsConsumer) that records every frame.

A background reader keeps every frame with its arrival time, so a test can trigger something (a
revocation, a refresh) and then ask what arrived, in which order, and when.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from channels.db import database_sync_to_async
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from .lifecycle import Served, Sockets

TIMEOUT = 5.0
PATH = "/ws/groups/"

Frame = dict[str, Any]


@dataclass
class GroupSocket:
    socket: ClientConnection
    frames: list[tuple[float, Frame]] = field(default_factory=list)
    closed_at: float | None = None
    _new: asyncio.Event = field(default_factory=asyncio.Event)
    _reader: asyncio.Task[None] | None = None

    def start(self) -> GroupSocket:
        self._reader = asyncio.get_running_loop().create_task(self._read())
        return self

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in self.socket:
                self.frames.append((time.time(), json.loads(raw)))
                self._new.set()
        self.closed_at = time.time()
        self._new.set()

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def wait_for(
        self, predicate: Callable[[Frame], bool], after: int = 0, timeout: float = TIMEOUT
    ) -> tuple[int, float, Frame]:
        """The first frame from index ``after`` on that satisfies ``predicate``: (index, time, frame)."""
        deadline = time.monotonic() + timeout
        index = after
        while True:
            while index < len(self.frames):
                at, frame = self.frames[index]
                if predicate(frame):
                    return index, at, frame
                index += 1
            if self.closed_at is not None:
                raise AssertionError(f"socket closed; frames: {self.frames}")
            self._new.clear()
            try:
                await asyncio.wait_for(self._new.wait(), deadline - time.monotonic())
            except TimeoutError:
                raise AssertionError(f"no matching frame within {timeout}s; frames: {self.frames}") from None

    async def ask(self, frame: Frame, answer: Callable[[Frame], bool], timeout: float = TIMEOUT) -> Frame:
        """Send ``frame`` and return the first later frame that satisfies ``answer``."""
        after = len(self.frames)
        await self.socket.send(json.dumps(frame))
        return (await self.wait_for(answer, after, timeout))[2]

    async def join(self, group: str) -> Frame:
        """Join ``group``: the answer is ``joined`` or warden's ``warden.denied``."""
        return await self.ask(
            {"op": "join", "group": group},
            lambda f: (
                f.get("group") == group[:100]
                and (f.get("op") == "joined" or f.get("type") == "warden.denied")
            ),
        )

    async def send_to(self, group: str, n: int) -> None:
        """Group-send message ``n`` to ``group`` and wait until the consumer says it sent it."""
        await self.ask({"op": "send", "group": group, "n": n}, lambda f: f == {"op": "sent", "n": n})

    async def groups(self) -> list[str]:
        answer = await self.ask({"op": "groups"}, lambda f: f.get("op") == "groups")
        return list(answer["groups"])

    def messages(self, group: str, since: int = 0) -> list[int]:
        """The numbers of the group messages heard from ``group``, in arrival order."""
        return [
            f["n"] for _, f in self.frames[since:] if f.get("op") == "message" and f.get("group") == group
        ]

    def index_of(self, frame: Frame) -> int:
        return next(i for i, (_, f) in enumerate(self.frames) if f == frame)


async def open_group_socket(sockets: Sockets, server: Served, token: str) -> GroupSocket:
    """A recorded ``/ws/groups/`` socket authenticated with a JWT."""
    return GroupSocket(await sockets.jwt(server, PATH, token)).start()


@database_sync_to_async
def token_with(user: Any, **claims: Any) -> str:
    """A SimpleJWT access token for ``user`` carrying extra ``claims``."""
    from rest_framework_simplejwt.tokens import AccessToken

    token = AccessToken.for_user(user)
    for name, value in claims.items():
        token[name] = value
    return str(token)


@database_sync_to_async
def put_in_room(user: Any, room: str) -> None:
    """Add ``user`` to the Django group ``room-<room>`` (the ``room.{name}`` policy's test)."""
    from django.contrib.auth.models import Group

    user.groups.add(Group.objects.get_or_create(name=f"room-{room}")[0])


@database_sync_to_async
def take_out_of_room(user: Any, room: str) -> None:
    from django.contrib.auth.models import Group

    user.groups.remove(Group.objects.get(name=f"room-{room}"))


def left(group: str, reason: str) -> Frame:
    return {"type": "warden.left", "group": group, "reason": reason}


def denied(group: str, reason: str) -> Frame:
    return {"type": "warden.denied", "group": group, "reason": reason}
