"""Revoking memberships and re-checking users in every process, through warden's one listener.

``revoke_membership(user, group)`` and ``recheck(user)`` are one channel-layer message each, sent to
the group that every process's revocation listener is in (:mod:`channels_warden.revocation`). Each
process applies it to its own sockets: the user's sockets leave the group (``group_discard``) and
hear ``warden.left``; the sockets stay open. With ``wait=``, the caller also waits, at most that
many seconds, until every process that holds memberships (see :mod:`.processes`) confirmed; once a
complete :class:`Confirmation` is returned, nothing sent to the group reaches the removed sockets.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from ..cachelock import in_thread
from ..registry import registry, user_key
from ..revocation import broadcast, handlers
from ..revocation_messages import user_reference
from .delivery import send_when_room
from .memberships import REVOKED, holders, in_lanes, leave, leave_many
from .patterns import is_valid_group_name
from .processes import PROCESS_ID, inventory
from .rechecks import recheck_connection

logger = logging.getLogger("channels_warden.groups")

MESSAGE_TYPE = "warden.membership"
ACK_TYPE = "warden.membership.ack"
MAX_REASON_BYTES = 64
#: Seconds a confirmation may wait for room in the asking process's inbox (``ChannelFull``).
ACK_WITHIN = 5.0


@dataclass(frozen=True)
class Confirmation:
    """What the processes answered to a waiting revocation or re-check.

    Attributes:
        answered: process id -> how many of its sockets left a group.
        missing: processes that hold memberships and did not answer in time.
    """

    answered: dict[str, int] = field(default_factory=dict)
    missing: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        """Every process that holds memberships confirmed."""
        return not self.missing

    @property
    def removed(self) -> int:
        return sum(self.answered.values())


def membership_message(action: str, *, user: Any, group: str | None, reason: str) -> dict[str, Any]:
    """The message for a revocation (``"revoke"``) or a re-check (``"recheck"``); validated."""
    if action == "revoke" and not is_valid_group_name(group):
        raise ValueError(f"revoke_membership() needs a valid group name, not {group!r}")
    if action == "recheck" and user is None and group is None:
        raise ValueError("recheck() needs a user, a group or both")
    if group is not None and not is_valid_group_name(group):
        raise ValueError(f"{group!r} is not a valid group name")
    if not reason or len(reason.encode()) > MAX_REASON_BYTES or not reason.isprintable():
        raise ValueError(f"reason must be 1 to {MAX_REASON_BYTES} printable bytes")
    return {
        "type": MESSAGE_TYPE,
        "action": action,
        "user": user_reference(user),
        "group": group,
        "reason": reason,
        "id": uuid.uuid4().hex,
        "reply_to": None,
    }


async def _fresh_users(users: list[Any]) -> dict[str, Any]:
    """User key -> the user as the database has it now, one query per user model.

    A re-check must not trust what is cached on the user object (``has_perm`` caches permissions).
    A user that is gone comes back as ``AnonymousUser``; users that are not model instances (a
    stateless token's user, anonymous sockets) are not in the result and are asked about as they are.
    """
    from django.contrib.auth.models import AnonymousUser

    wanted: dict[type[Any], set[Any]] = {}
    for user in users:
        if getattr(user, "_meta", None) is not None and getattr(user, "pk", None) is not None:
            wanted.setdefault(type(user), set()).add(user.pk)
    fresh: dict[str, Any] = {}
    for model, pks in wanted.items():
        found = await model._default_manager.ain_bulk(list(pks))
        for pk in pks:
            fresh[str(pk)] = found.get(pk) or AnonymousUser()
    return fresh


async def apply(message: dict[str, Any]) -> int:
    """Apply a membership message to this process's sockets; answer ``reply_to``; return the count."""
    action, user, group = message.get("action"), message.get("user"), message.get("group")
    removed = 0
    if action == "revoke" and isinstance(group, str) and (user is None or isinstance(user, str)):
        reason = str(message.get("reason") or REVOKED)[:MAX_REASON_BYTES]
        targets = holders(group, user)
        removed = await leave_many(targets, group, reason)
    elif action == "recheck" and (isinstance(user, str) or isinstance(group, str)):
        if isinstance(group, str):
            targets = holders(group, user if isinstance(user, str) else None)
        else:
            targets = [c for c in registry.matching(user=user) if c.memberships and c.memberships.groups]
        if targets:
            removed = await _recheck_all(targets, group if isinstance(group, str) else None)
    else:
        logger.warning("ignored a malformed membership message (action %r)", str(action)[:40])
    if removed:
        logger.info("membership %s of %r took %d socket(s) out of groups", action, group, removed)
    reply_to = message.get("reply_to")
    if isinstance(reply_to, str):
        layer = get_channel_layer()
        if layer is not None:
            ack = {"type": ACK_TYPE, "id": message.get("id"), "process": PROCESS_ID, "removed": removed}
            await send_when_room(layer, reply_to, ack, within=ACK_WITHIN)
    return removed


async def _recheck_all(targets: list[Any], only: str | None) -> int:
    try:
        fresh = await _fresh_users([c.auth.user for c in targets if c.auth is not None])
    except Exception:  # the database is down: nobody can be re-confirmed, so everyone leaves
        logger.exception("re-check could not load the users: leaving their groups (fail closed)")
        left = 0
        for connection in targets:
            for group in [only] if only else list(connection.memberships.groups):
                left += await leave(connection, group, "internal")
        return left
    return sum(
        await in_lanes(
            targets,
            lambda c: recheck_connection(c, fresh.get(user_key(c.auth.user) or "") if c.auth else None, only),
        )
    )


async def collect(
    layer: Any, message: dict[str, Any], wait: float, answer_type: str
) -> tuple[dict[str, dict[str, Any]], tuple[str, ...]]:
    """Broadcast ``message`` with a reply channel and gather the processes' answers.

    Returns the answers by process id, and the processes holding memberships (the inventory) that
    did not answer within ``wait`` seconds. Every listening process answers, listed or not.
    """
    expected = set(await in_thread(inventory.live))
    message["reply_to"] = await layer.new_channel()
    await broadcast(message)
    answered: dict[str, dict[str, Any]] = {}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while not expected <= answered.keys():
        try:
            answer = await asyncio.wait_for(layer.receive(message["reply_to"]), deadline - loop.time())
        except TimeoutError:
            break
        if answer.get("type") == answer_type and answer.get("id") == message["id"]:
            answered[str(answer.get("process"))] = answer
    missing = tuple(sorted(expected - answered.keys()))
    if missing:
        logger.warning(
            "%s: no answer within %.2fs from process(es) %s", message["type"], wait, ", ".join(missing)
        )
    return answered, missing


async def _send(message: dict[str, Any], wait: float | None) -> Confirmation | None:
    layer = get_channel_layer()
    if layer is None:  # one process: apply here
        return Confirmation({PROCESS_ID: await apply(message)})
    if wait is None:
        await broadcast(message)
        return None
    answered, missing = await collect(layer, message, wait, ACK_TYPE)
    return Confirmation({p: int(ack.get("removed") or 0) for p, ack in answered.items()}, missing)


async def revoke_membership(
    user: Any, group: str, *, reason: str = REVOKED, wait: float | None = None
) -> Confirmation | None:
    """Take ``user``'s sockets out of ``group`` in every process; they stay open for the rest.

    Args:
        user: a user, a primary key, or ``None`` for every socket that holds ``group``.
        group: the group name.
        reason: the short public word in the ``warden.left`` frame.
        wait: seconds to wait for every process holding memberships to confirm (``None``: send and
            return at once).

    Returns:
        A :class:`Confirmation` when waiting (or with no channel layer), else ``None``.
    """
    return await _send(membership_message("revoke", user=user, group=group, reason=reason), wait)


async def recheck(
    user: Any = None, *, group: str | None = None, wait: float | None = None
) -> Confirmation | None:
    """Ask the policies again, in every process; the groups now refused are left with ``warden.left``.

    Args:
        user: re-check all the groups of this user's sockets (after a permission, group or
            membership change).
        group: re-check this group only, for every socket that holds it (a room made private), or
            for ``user``'s sockets only when both are given.
        wait: as for :func:`revoke_membership`.
    """
    return await _send(membership_message("recheck", user=user, group=group, reason="recheck"), wait)


def revoke_membership_sync(
    user: Any, group: str, *, reason: str = REVOKED, wait: float | None = None
) -> Confirmation | None:
    """:func:`revoke_membership` for synchronous code (views, signal handlers, commands)."""
    return async_to_sync(revoke_membership)(user, group, reason=reason, wait=wait)


def recheck_sync(
    user: Any = None, *, group: str | None = None, wait: float | None = None
) -> Confirmation | None:
    """:func:`recheck` for synchronous code (``m2m_changed``, ``post_save`` receivers)."""
    return async_to_sync(recheck)(user, group=group, wait=wait)


handlers[MESSAGE_TYPE] = apply
