"""The chat as a GraphQL API (Strawberry): the same rooms, history and messages as the chat sockets.

``/graphql/`` serves it twice. Over HTTP, Django's session and CSRF protect it (queries by GET or
POST; the mutation by POST with the CSRF token). Over WebSocket (``graphql-transport-ws``), warden
protects it: a session cookie, a ticket, or a JWT or DRF token in ``connectionParams``. Messages sent
here reach the chat sockets and the other way round, through the same channel-layer group
(``chat.<slug>``), so the GraphQL and chat clients of one room see each other.

A subscription joins its room through warden (``warden_listen``), so the room's policy in
``chat.warden`` decides, as for a chat socket: a refusal is an error on that operation, and a removal
(``revoke_membership``) ends the subscription with an error while the socket stays open.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels_warden.groups import GroupDenied, GroupLeft, warden_listen
from django.http import HttpRequest
from strawberry.types import Info

from . import models
from .consumers import save_message
from .events import message_event, room_group
from .protocol import MAX_TEXT, is_slug, message_frame

HISTORY_LIMIT = 100


@strawberry.type
class Room:
    slug: str
    title: str
    private: bool


@strawberry.type
class Message:
    id: int
    room: str
    user: str
    text: str
    ts: float

    @classmethod
    def from_frame(cls, frame: dict[str, Any]) -> Message:
        return cls(id=frame["id"], room=frame["room"], user=frame["user"], text=frame["text"], ts=frame["ts"])


async def current_user(info: Info[Any, Any]) -> Any:
    """The signed-in user: warden's ``scope["user"]`` on a socket, Django's on an HTTP request."""
    context = info.context
    request = context["request"] if isinstance(context, dict) else context.request
    # An HttpRequest has a scope too (the HTTP one, without a user): ask Django's auth for it.
    user = await request.auser() if isinstance(request, HttpRequest) else request.scope.get("user")
    if user is None or not user.is_authenticated:
        raise PermissionError("sign in first")
    return user


def visible_room(user: Any, slug: str) -> models.Room | None:
    """The room ``slug`` if ``user`` may read it (blocking); the rule of ``chat.warden``'s policy."""
    if not is_slug(slug):
        return None
    return models.Room.objects.visible_to(user).filter(slug=slug).first()


async def room_for(info: Info[Any, Any], slug: str) -> models.Room:
    """The room if the user may open it; an unknown room reads exactly like a private one."""
    room = await database_sync_to_async(visible_room)(await current_user(info), slug)
    if room is None:
        raise PermissionError(f"no room {slug[:50]!r} for you")
    return room


def _rooms(user: Any) -> list[Room]:
    return [Room(slug=r.slug, title=r.title, private=r.private) for r in models.Room.objects.visible_to(user)]


def _history(room: models.Room, limit: int) -> list[Message]:
    rows = room.messages.select_related("author").order_by("-id")[: max(1, min(limit, HISTORY_LIMIT))]
    frames = [
        message_frame(
            room=room.slug, user=m.author.get_username(), text=m.text, message_id=m.pk, created=m.created
        )
        for m in rows
    ]
    return [Message.from_frame(frame) for frame in reversed(frames)]


@strawberry.type
class Query:
    @strawberry.field
    async def rooms(self, info: Info[Any, Any]) -> list[Room]:
        return await database_sync_to_async(_rooms)(await current_user(info))

    @strawberry.field
    async def history(self, info: Info[Any, Any], room: str, limit: int = 50) -> list[Message]:
        """The room's latest ``limit`` messages (at most 100), oldest first."""
        return await database_sync_to_async(_history)(await room_for(info, room), limit)


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def send(self, info: Info[Any, Any], room: str, text: str) -> Message:
        """Store a message and broadcast it to the room's chat sockets and subscriptions."""
        text = text.strip()
        if not text or len(text) > MAX_TEXT:
            raise ValueError(f"text must have 1 to {MAX_TEXT} characters")
        target = await room_for(info, room)
        frame = await database_sync_to_async(save_message)(target, await current_user(info), text)
        await get_channel_layer().group_send(room_group(target.slug), message_event(frame))
        return Message.from_frame(frame)


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def messages(self, info: Info[Any, Any], room: str) -> AsyncGenerator[Message, None]:
        """Every message posted to ``room`` from now on, by chat sockets and GraphQL alike.

        The room's policy decides (through warden), and a removal from the room ends the
        subscription with ``left room '<slug>': removed``.
        """
        await current_user(info)
        consumer = info.context["ws"]
        try:
            async with warden_listen(consumer, "chat.message", groups=[room_group(room)]) as events:
                async for event in events:
                    yield Message.from_frame(event["message"])
        except GroupDenied:  # its detail is for the server log; the client reads what a room refusal reads
            raise PermissionError(f"no room {room[:50]!r} for you") from None
        except GroupLeft as left:
            raise PermissionError(f"left room {room[:50]!r}: {left.reason}") from None


schema = strawberry.Schema(query=Query, mutation=Mutation, subscription=Subscription)
