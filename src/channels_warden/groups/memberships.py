"""The groups a socket holds, kept on its :class:`~channels_warden.connection.Connection`.

Each membership remembers what leaving needs (the channel layer and the consumer's channel name),
the :class:`Grant` it was joined with and the scope its policy saw, so that a re-check asks the same
question again. This process also indexes memberships by group, so a revocation finds the sockets
that hold a group without looking at the others.

A grant's end is kept like a credential's: **one** ``loop.call_at`` handle per socket, armed for the
earliest end among its groups and re-armed after every change. No task waits per socket; a short
task runs only when an end comes, to leave the ended groups.

Leaving is fail-closed: if the channel layer cannot take the socket out of the group, the socket
would go on hearing it, so it is closed with 4500 instead.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from .._types import Scope
from ..control import dumps
from ..exceptions import ServiceUnavailable
from ..registry import user_key
from .delivery import send_when_room
from .grants import Grant

if TYPE_CHECKING:
    from ..connection import Connection

logger = logging.getLogger("channels_warden.groups")

#: Public reasons of a ``warden.left`` frame besides the denial reasons of a failed re-check.
REVOKED, EXPIRED = "revoked", "expired"
#: Channel-layer calls in flight at once when many sockets leave. redis-py's pools refuse calls
#: beyond their size (100 by default) instead of queueing them: unbounded, a group of 1,000 sockets
#: would fail every leave (and, failing closed, close every socket).
CONCURRENCY = 32

T = TypeVar("T")
X = TypeVar("X")


async def in_lanes(items: Sequence[X], run: Callable[[X], Awaitable[T]]) -> list[T]:
    """``run(item)`` for every item, results in order, in at most :data:`CONCURRENCY` tasks.

    Each task works through its share one item after the other: at most ``CONCURRENCY`` calls are
    in flight, a slow client holds up only its own lane, and a thousand sockets cost a few dozen
    tasks rather than a thousand (which, measured, tripled the p99 of a 1,000-socket revocation).
    """
    results: list[Any] = [None] * len(items)
    lanes = min(CONCURRENCY, len(items))

    async def lane(first: int) -> None:
        for index in range(first, len(items), lanes):
            results[index] = await run(items[index])

    await asyncio.gather(*(lane(first) for first in range(lanes)))
    return results


def _is_channels_redis(layer: Any) -> bool:
    """``channels_redis``' RedisChannelLayer, whose group is one sorted set (see :func:`discard_many`)."""
    return type(layer).__module__ == "channels_redis.core" and all(
        hasattr(layer, name) for name in ("_group_key", "consistent_hash", "connection")
    )


async def discard_many(layer: Any, group: str, channels: list[str]) -> None:
    """Take ``channels`` out of ``group``: one ``ZREM`` on channels_redis, whose ``group_discard``
    makes one per channel (this is what it does, for all of them at once); elsewhere one
    ``group_discard`` per channel, :data:`CONCURRENCY` at a time."""
    if not channels:
        return
    if _is_channels_redis(layer):
        await layer.connection(layer.consistent_hash(group)).zrem(layer._group_key(group), *channels)
        return
    await in_lanes(channels, lambda channel: layer.group_discard(group, channel))


@dataclass(slots=True, eq=False)
class Membership:
    """One socket in one group."""

    group: str
    channel_name: str
    layer: Any
    grant: Grant
    scope: Scope
    #: Also tell the consumer (a ``warden.left`` message on its channel): set by the mixin.
    notify_consumer: bool = False
    #: Recorded while its policy runs, not yet added to the layer (see ``consumer.warden_join``).
    pending: bool = False


class SocketMemberships:
    """``Connection.memberships``: the groups of one socket and its one grant timer."""

    __slots__ = ("groups", "timer")

    def __init__(self) -> None:
        self.groups: dict[str, Membership] = {}
        self.timer: asyncio.TimerHandle | None = None


#: group -> the connections of this process that hold it.
_by_group: dict[str, set[Connection]] = {}
#: Tasks that leave ended groups; held here so that they are not collected while they run.
_tasks: set[asyncio.Task[Any]] = set()


def memberships_of(connection: Connection) -> SocketMemberships:
    """The socket's memberships, made on its first join (most sockets never join through warden)."""
    if connection.memberships is None:
        connection.memberships = SocketMemberships()
    return connection.memberships


def record(connection: Connection, membership: Membership) -> None:
    """Remember that ``connection`` holds ``membership.group`` (before ``group_add``, see consumer.py)."""
    memberships_of(connection).groups[membership.group] = membership
    _by_group.setdefault(membership.group, set()).add(connection)
    rearm(connection)


def forget(connection: Connection, group: str) -> Membership | None:
    """Drop one membership from the socket and the index; ``None`` if it did not hold ``group``."""
    state = connection.memberships
    if state is None:
        return None
    membership = state.groups.pop(group, None)
    if membership is None:
        return None
    holders = _by_group.get(group)
    if holders is not None:
        holders.discard(connection)
        if not holders:
            del _by_group[group]
    rearm(connection)
    return membership


def holders(group: str, user: str | None = None) -> list[Connection]:
    """This process's sockets holding ``group``, only ``user``'s if a user key is given."""
    found = _by_group.get(group, ())
    if user is None:
        return list(found)
    return [c for c in found if c.auth is not None and user_key(c.auth.user) == user]


def groups_here() -> dict[str, int]:
    """Group -> number of sockets holding it in this process (for tests and metrics)."""
    return {group: len(connections) for group, connections in _by_group.items()}


async def leave(connection: Connection, group: str, reason: str | None) -> bool:
    """Take the socket out of ``group``; with a ``reason``, tell the client (and the mixin consumer).

    Returns whether the socket held the group. The ``warden.left`` frame goes out only after the
    channel layer removed the socket, so that once the client reads it no new group message comes.
    """
    membership = forget(connection, group)
    if membership is None:
        return False
    if membership.pending:  # never added to the layer, never announced: its join will fail
        return True
    try:
        await membership.layer.group_discard(group, membership.channel_name)
    except Exception:
        logger.exception("could not take a socket out of group %r: closing it (fail closed)", group)
        await connection.close_live(ServiceUnavailable(f"group_discard({group!r}) failed"))
        return True
    if reason is not None:
        await tell_left(connection, membership, reason)
    return True


async def leave_many(connections: Iterable[Connection], group: str, reason: str) -> int:
    """Take many sockets out of one group at once (a revocation); return how many held it.

    The layer is asked once per layer where it allows it (:func:`discard_many`); if that fails,
    the sockets it concerned are closed with 4500 (fail closed). The others hear ``warden.left``.
    """
    left = 0
    by_layer: dict[int, list[tuple[Connection, Membership]]] = {}
    for connection in connections:
        membership = forget(connection, group)
        if membership is None:
            continue
        left += 1
        if not membership.pending:  # a pending join was never added: its join will fail
            by_layer.setdefault(id(membership.layer), []).append((connection, membership))
    told = []
    for members in by_layer.values():
        try:
            await discard_many(members[0][1].layer, group, [m.channel_name for _, m in members])
        except Exception:
            logger.exception("could not take %d socket(s) out of group %r: closing them", len(members), group)
            for connection, _ in members:
                await connection.close_live(ServiceUnavailable(f"group_discard({group!r}) failed"))
            continue
        told.extend(members)
    # Every client first: a consumer's inbox that pushes back (ChannelFull) must not delay them.
    await in_lanes(told, lambda member: tell_client_left(member[0], member[1], reason))
    await in_lanes(told, lambda member: tell_consumer_left(member[0], member[1], reason))
    return left


async def tell_left(connection: Connection, membership: Membership, reason: str) -> None:
    """Send ``{"type": "warden.left", "group": ..., "reason": ...}`` to the client and the consumer."""
    await tell_client_left(connection, membership, reason)
    await tell_consumer_left(connection, membership, reason)


def _left_frame(membership: Membership, reason: str) -> dict[str, str]:
    return {"type": "warden.left", "group": membership.group, "reason": reason}


async def tell_client_left(connection: Connection, membership: Membership, reason: str) -> None:
    """The client's ``warden.left`` frame, within ``CLOSE_TIMEOUT``.

    Bounded: a client that stops reading must not hold up the revocation's other sockets (the group
    is already left; only the frame is lost, and the socket's own close deals with it).
    """
    timeout = float(connection.settings.CLOSE_TIMEOUT)
    message = {"type": "websocket.send", "text": dumps(_left_frame(membership, reason))}
    try:
        await asyncio.wait_for(connection.send(message), timeout)
    except Exception as exc:  # noqa: BLE001  (the client may be gone; the group is left either way)
        logger.debug("warden.left to %s: %r", connection.scope.get("path"), exc)


async def tell_consumer_left(connection: Connection, membership: Membership, reason: str) -> None:
    """The consumer's ``warden.left`` message (the mixin's ``group_left``), waiting out ``ChannelFull``."""
    if not membership.notify_consumer or connection.closed:
        return
    timeout = float(connection.settings.CLOSE_TIMEOUT)
    try:
        await send_when_room(
            membership.layer, membership.channel_name, _left_frame(membership, reason), within=timeout
        )
    except Exception as exc:  # noqa: BLE001
        logger.debug("warden.left to the consumer of %s: %r", connection.scope.get("path"), exc)


async def leave_all(connection: Connection) -> None:
    """The socket is over: leave every group it holds, telling nobody (the consumer returned)."""
    state = connection.memberships
    if state is None:
        return
    if state.timer is not None:
        state.timer.cancel()
        state.timer = None
    for group in list(state.groups):
        membership = forget(connection, group)
        if membership is None:
            continue
        try:
            await membership.layer.group_discard(group, membership.channel_name)
        except Exception as exc:  # noqa: BLE001  (the channel is gone: the layer expires it)
            logger.debug("leaving %r after close: %r", group, exc)


# Grant ends -------------------------------------------------------------------------------------------


def rearm(connection: Connection) -> None:
    """Arm the socket's one timer for the earliest grant end among its groups (or none)."""
    state = connection.memberships
    if state is None:
        return
    if state.timer is not None:
        state.timer.cancel()
        state.timer = None
    ends = [m.grant.expires_at for m in state.groups.values() if m.grant.expires_at is not None]
    if not ends or connection.closed:
        return
    loop = asyncio.get_running_loop()
    state.timer = loop.call_at(loop.time() + max(min(ends) - time.time(), 0.0), _grants_ended, connection)


def _grants_ended(connection: Connection) -> None:
    state = connection.memberships
    if state is None:
        return
    state.timer = None
    now = time.time()
    ended = [group for group, m in state.groups.items() if m.grant.expired(now)]
    if not ended:  # the loop's clock ran ahead of the wall clock: try again at the end
        rearm(connection)
        return
    task = asyncio.get_running_loop().create_task(_leave_ended(connection, ended))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def _leave_ended(connection: Connection, groups: list[str]) -> None:
    for group in groups:
        await leave(connection, group, EXPIRED)
