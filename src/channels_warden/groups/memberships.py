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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._types import Scope
from ..control import dumps
from ..exceptions import ServiceUnavailable
from ..registry import user_key
from .grants import Grant

if TYPE_CHECKING:
    from ..connection import Connection

logger = logging.getLogger("channels_warden.groups")

#: Public reasons of a ``warden.left`` frame besides the denial reasons of a failed re-check.
REVOKED, EXPIRED = "revoked", "expired"


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


async def tell_left(connection: Connection, membership: Membership, reason: str) -> None:
    """Send ``{"type": "warden.left", "group": ..., "reason": ...}`` to the client and the consumer."""
    frame = {"type": "warden.left", "group": membership.group, "reason": reason}
    try:
        await connection.send({"type": "websocket.send", "text": dumps(frame)})
    except Exception as exc:  # noqa: BLE001  (the client may be gone; the group is left either way)
        logger.debug("warden.left to %s: %r", connection.scope.get("path"), exc)
    if membership.notify_consumer and not connection.closed:
        try:
            await membership.layer.send(membership.channel_name, frame)
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
