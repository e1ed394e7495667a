"""The chat's consumers, and the echo consumer of the first demo.

None of them has auth code of its own. By the time ``connect`` runs, warden has checked the Origin,
the credentials and the route's permissions (the room's policy on ``/ws/chat/<room>/``), and
``scope["user"]`` is the user they name; anyone else was closed with a documented code before these
classes saw the socket. Warden also closes the socket when its credential expires or is revoked
(logout, password change...), in whichever process it lives.

Rooms are joined through warden (``warden_join``), so the room's policy (``chat.warden``) decides
every join, and a staff removal (``revoke_membership``) takes the socket out of the room in every
process; warden then calls :meth:`ChatConsumer.group_left`.

The protocol (frames, error codes, limits) is in :mod:`chat.protocol` and ``docs/chat-protocol.md``;
presence is in :mod:`chat.presence`; groups and events in :mod:`chat.events`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels_warden.exceptions import PermissionDenied, Rejection, ServiceUnavailable, TooManyConnections
from channels_warden.groups import GroupDenied, WardenGroupsMixin, warden_join, warden_leave
from channels_warden.rejection import close_messages

from .events import message_event, presence_event, room_group
from .models import Message, Room
from .presence import tracker
from .protocol import (
    ABUSE_WINDOW,
    ErrorCode,
    FrameError,
    SocketLimits,
    dumps,
    is_slug,
    joined_frame,
    left_frame,
    message_frame,
    message_text,
    parse_frame,
    presence_frame,
    room_slug,
)

logger = logging.getLogger("chat.consumers")

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


def save_message(room: Room, author: Any, text: str) -> dict[str, Any]:
    """Store a message and return its frame, id and timestamp included (blocking)."""
    message = Message.objects.create(room=room, author=author, text=text)
    return message_frame(
        room=room.slug, user=author.get_username(), text=text, message_id=message.pk, created=message.created
    )


class ChatConsumer(WardenGroupsMixin, AsyncWebsocketConsumer):
    """What both chat routes share: rooms, presence, messages, error frames and limits.

    Subclasses say which frame types they accept (``kinds``) and implement :meth:`handle`.
    """

    kinds: frozenset[str] = frozenset()

    async def connect(self) -> None:
        self.user = self.scope["user"]
        self.username: str = self.user.get_username()
        self.rooms: dict[str, Room] = {}
        self.limits = SocketLimits()
        self.shutting = False
        self._presence_seen: dict[str, int] = {}
        await self.accept()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # However the consumer ends (a crash, a cancelled task), it leaves the rooms' presence.
            await self.leave_all()

    async def disconnect(self, code: int) -> None:
        await self.leave_all()

    async def leave_all(self) -> None:
        """Leave every room; safe to call more than once."""
        if not hasattr(self, "rooms"):  # connect() never ran
            return
        for slug in list(self.rooms):
            await self.exit(slug)

    # Frames from the client -----------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.shutting:
            return
        try:
            if text_data is None:
                raise FrameError(ErrorCode.BINARY_NOT_SUPPORTED, "send JSON in text frames")
            await self.handle(parse_frame(text_data, self.kinds))
        except FrameError as error:
            await self.refuse(error)
        except Exception:  # a broken dependency (database, cache): say so and close, retry later
            logger.exception("chat frame from %s failed", self.username)
            await self.shut(ServiceUnavailable("chat frame handling raised"))

    async def handle(self, frame: dict[str, Any]) -> None:
        raise NotImplementedError

    async def refuse(self, error: FrameError) -> None:
        """Answer a bad frame with an error frame; close with 4429 when they keep coming."""
        await self.send_frame(error.frame())
        if self.limits.count_error(time.monotonic()):
            await self.shut(TooManyConnections("too many bad frames", retry_after=ABUSE_WINDOW))

    async def post(self, slug: str, text: str) -> None:
        """Store a message, then broadcast it (with its id) to everyone in the room."""
        if not self.limits.allow_message(time.monotonic()):
            raise FrameError(ErrorCode.RATE_LIMITED, "too many messages; wait a few seconds")
        frame = await database_sync_to_async(save_message)(self.rooms[slug], self.user, text)
        await self.channel_layer.group_send(room_group(slug), message_event(frame))

    # Rooms ------------------------------------------------------------------------------------

    async def admit(self, slug: str) -> Room | None:
        """Join the room's group through warden, whose policy decides; ``None`` if refused.

        Raises ``ServiceUnavailable`` when the policy or the channel layer failed (fail closed).
        """
        if not is_slug(slug):
            return None
        try:
            await warden_join(self, room_group(slug), notify_consumer=True)
        except GroupDenied as denied:
            if denied.reason == "internal":
                raise ServiceUnavailable(f"joining room {slug!r} failed: {denied.detail}") from None
            return None
        room = await database_sync_to_async(Room.objects.filter(slug=slug).first)()
        if room is None:  # deleted since the policy allowed it
            await warden_leave(self, room_group(slug))
            return None
        self.rooms[slug] = room
        return room

    async def enter(self, room: Room) -> None:
        """Tell the room, now that the socket hears it, who is in it."""
        try:
            snapshot = await tracker.enter(room.slug, self.channel_name, self.username)
        except Exception:  # presence is best effort: the socket still chats
            logger.exception("could not count %s in room %r", self.username, room.slug)
            return
        await self.channel_layer.group_send(room_group(room.slug), presence_event(snapshot))

    async def exit(self, slug: str) -> None:
        """Stop receiving the room's messages and tell the others who is left."""
        self.rooms.pop(slug, None)
        self._presence_seen.pop(slug, None)
        try:
            await warden_leave(self, room_group(slug))
            snapshot = await tracker.leave(slug, self.channel_name)
            await self.channel_layer.group_send(room_group(slug), presence_event(snapshot))
        except Exception:  # the lease ends the entry by itself
            logger.exception("could not take %s out of room %r", self.username, slug)

    async def shut(self, rejection: Rejection) -> None:
        """Leave every room, then close with warden's frame and code, as warden itself would."""
        if self.shutting:
            return
        self.shutting = True
        logger.info("closing chat socket of %s: %d %s", self.username, rejection.code, rejection.detail)
        for slug in list(self.rooms):
            await self.exit(slug)
        with contextlib.suppress(OSError):  # the client left first
            for message in close_messages(rejection, accepted=True, subprotocol=None):
                await self.base_send(message)

    # Events from the channel layer ----------------------------------------------------------

    async def chat_message(self, event: dict[str, Any]) -> None:
        if event["message"]["room"] in self.rooms:
            await self.send_frame(event["message"])

    async def chat_presence(self, event: dict[str, Any]) -> None:
        room, version = event["room"], int(event["version"])
        if room in self.rooms and version > self._presence_seen.get(room, 0):
            self._presence_seen[room] = version
            await self.send_frame(presence_frame(room, event["users"]))

    async def group_left(self, group: str, reason: str) -> None:
        """Warden took this socket out of a room (a staff removal, a re-check): in every process."""
        slug = group.removeprefix("chat.")
        if slug in self.rooms:
            await self.removed(slug)

    async def removed(self, slug: str) -> None:
        raise NotImplementedError

    async def send_frame(self, frame: dict[str, Any]) -> None:
        try:
            await self.send(text_data=dumps(frame))
        except OSError:
            # The client left while this frame was on its way (uvicorn raises ClientDisconnected);
            # its websocket.disconnect comes next and ends the consumer the usual way.
            logger.debug("dropped a frame for %s: the client is gone", self.username)


class RoomConsumer(ChatConsumer):
    """``/ws/chat/<room>/``: one room per socket; the client sends ``{"type": "message", "text": ...}``."""

    kinds = frozenset({"message"})

    async def connect(self) -> None:
        await super().connect()
        slug = str(self.scope["url_route"]["kwargs"]["room"])
        # The route's CanJoin allowed the socket; joining asks the policy again, and from then on a
        # removal reaches the socket, so a removal in between the two cannot leave it open.
        try:
            room = await self.admit(slug)
        except Rejection as exc:
            await self.shut(exc)
            return
        if room is None:
            await self.shut(PermissionDenied(f"no longer allowed in room {slug!r}"))
            return
        self.room = slug
        await self.enter(room)

    async def handle(self, frame: dict[str, Any]) -> None:
        await self.post(self.room, message_text(frame))

    async def removed(self, slug: str) -> None:
        await self.shut(PermissionDenied(f"removed from room {slug!r}"))


class MultiRoomConsumer(ChatConsumer):
    """``/ws/chat/``: any number of rooms per socket, joined and left with frames."""

    kinds = frozenset({"join", "leave", "message"})

    async def handle(self, frame: dict[str, Any]) -> None:
        slug = room_slug(frame)
        kind = frame["type"]
        if kind == "join":
            await self.join(slug)
            return
        if slug not in self.rooms:
            raise FrameError(ErrorCode.NOT_JOINED, f"join room {slug[:40]!r} first", room=slug)
        if kind == "leave":
            self.rooms.pop(slug)
            await self.send_frame(left_frame(slug))
            await self.exit(slug)
        else:
            await self.post(slug, message_text(frame))

    async def join(self, slug: str) -> None:
        if slug in self.rooms:
            await self.send_frame(joined_frame(slug))
            return
        room = await self.admit(slug)
        if room is None:
            # The same answer for a room that does not exist: no oracle for room names.
            raise FrameError(ErrorCode.FORBIDDEN, "you may not join this room", room=slug)
        await self.send_frame(joined_frame(slug))
        await self.enter(room)

    async def removed(self, slug: str) -> None:
        self.rooms.pop(slug)
        await self.send_frame(left_frame(slug, reason="removed"))
        await self.exit(slug)
