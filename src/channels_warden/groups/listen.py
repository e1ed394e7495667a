"""Listen to groups through their policies, for consumers that listen *inside* a resolver (Strawberry).

Strawberry's ``listen_to_channel(type, groups=[...])`` calls ``group_add`` itself, so a GraphQL
subscription would hear a group no policy allowed, and go on hearing it after a revocation.
:func:`warden_listen` is its drop-in for group messages::

    @strawberry.subscription
    async def messages(self, info, room: str) -> AsyncGenerator[Message, None]:
        consumer = info.context["ws"]
        async with warden_listen(consumer, "chat.message", groups=[f"chat.{room}"]) as events:
            async for event in events:
                yield Message.from_event(event)

It joins each group with :func:`~channels_warden.groups.warden_join` (a refusal raises
:class:`GroupDenied` before anything is heard), then yields the messages of ``type`` that reach the
consumer. When warden takes the socket out of one of the groups (``revoke_membership``, a re-check
that refuses, the grant's end), the iteration raises :class:`GroupLeft`: Strawberry turns it into a
``next`` frame with an error and completes the operation; the socket and its other operations stay.

Several subscriptions of one socket may listen to the same group: it is left when the last ends.
The consumer needs Strawberry's ``listen_to_channel`` (any ``ChannelsConsumer``); nothing here
imports Strawberry.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from typing import Any

from ..exceptions import WardenError
from .consumer import warden_join, warden_leave

#: Attribute of the consumer holding how many listeners hold each group it joined through here.
_REFS = "_warden_listen_refs"


class GroupLeft(WardenError):
    """Warden took the socket out of ``group`` while a :func:`warden_listen` iteration heard it.

    Its message is safe to show a client (the group and the public reason of ``warden.left``).
    """

    def __init__(self, group: str, reason: str) -> None:
        self.group = group
        self.reason = reason
        super().__init__(f"left group {group[:100]!r}: {reason[:50]}")


def _refs(consumer: Any) -> Counter[str]:
    refs: Counter[str] | None = getattr(consumer, _REFS, None)
    if refs is None:
        refs = Counter()
        setattr(consumer, _REFS, refs)
    return refs


@contextlib.asynccontextmanager
async def warden_listen(
    consumer: Any, type: str, *, groups: Sequence[str], timeout: float | None = None
) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
    """Join ``groups`` through their policies and yield an iterator over the messages of ``type``.

    Args:
        consumer: a Strawberry ``ChannelsConsumer`` (``GraphQLWSConsumer``) behind warden.
        type: the channel-layer message type to hear, e.g. ``"chat.message"``.
        groups: the groups to join; every one must be allowed, or none is joined.
        timeout: end the iteration quietly after this many seconds without a message.

    Raises:
        GroupDenied: on entering, a policy refused (the socket stays open).
        GroupLeft: while iterating, warden took the socket out of one of ``groups``.
    """
    refs = _refs(consumer)
    joined: list[str] = []
    # The warden.left queue is registered before the joins: a revocation that lands right after a
    # join must end this iteration, not vanish because nobody listened for it yet.
    async with (
        consumer.listen_to_channel("warden.left") as lefts,
        consumer.listen_to_channel(type, timeout=timeout) as messages,
    ):
        try:
            for group in groups:
                await warden_join(consumer, group, notify_consumer=True)
                refs[group] += 1
                joined.append(group)
            yield _until_left(messages, lefts, frozenset(groups))
        finally:
            for group in joined:
                refs[group] -= 1
                if refs[group] <= 0:
                    del refs[group]
                    await warden_leave(consumer, group)


async def _until_left(
    messages: AsyncIterator[dict[str, Any]], lefts: AsyncIterator[dict[str, Any]], groups: frozenset[str]
) -> AsyncIterator[dict[str, Any]]:
    """``messages`` until a ``warden.left`` for one of ``groups`` arrives (then :class:`GroupLeft`).

    A message that arrived before the ``warden.left`` is still delivered: the socket was a member
    when it was sent.
    """
    next_message: asyncio.Future[dict[str, Any]] | None = None
    next_left: asyncio.Future[dict[str, Any]] | None = None
    try:
        while True:
            if next_message is None:
                next_message = asyncio.ensure_future(anext(messages))
            if next_left is None:
                next_left = asyncio.ensure_future(anext(lefts))
            done, _ = await asyncio.wait({next_message, next_left}, return_when=asyncio.FIRST_COMPLETED)
            if next_message in done:
                try:
                    message = next_message.result()
                except StopAsyncIteration:  # the timeout passed without a message
                    return
                next_message = None
                yield message
            if next_left in done:
                left = next_left.result()
                next_left = None
                if left.get("group") in groups:
                    raise GroupLeft(str(left["group"]), str(left.get("reason", "")))
    finally:
        for pending in (next_message, next_left):
            if pending is not None:
                pending.cancel()
