"""Presence from memberships: who holds a group right now, across every process.

``members("chat.lobby")`` asks every process's listener, over the channel layer, which of its
sockets hold the group, and merges the answers: one entry per user however many devices (sockets)
the user has, with the grant metadata of one of them. Nothing is stored: the answer is the
memberships warden already keeps, so it cannot drift from who actually hears the group. The call
waits at most ``wait`` seconds and names the processes holding memberships that did not answer.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from ..registry import user_key
from ..revocation import handlers
from .memberships import holders
from .patterns import is_valid_group_name
from .processes import PROCESS_ID
from .revoke import collect

logger = logging.getLogger("channels_warden.groups")

QUERY_TYPE = "warden.members"
ANSWER_TYPE = "warden.members.answer"
#: Default seconds :func:`members` waits for the processes' answers.
DEFAULT_WAIT = 1.0


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Member:
    """One user in a group: how many sockets (devices, tabs) and the grant's metadata."""

    user: str
    name: str
    sockets: int
    metadata: Mapping[str, Any] = field(default_factory=_empty)


@dataclass(frozen=True)
class Presence:
    """Who holds ``group``: users sorted by name, anonymous sockets counted apart."""

    group: str
    members: tuple[Member, ...] = ()
    anonymous: int = 0
    answered: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        """Every process that holds memberships answered."""
        return not self.missing


def summarise(group: str) -> dict[str, Any]:
    """This process's sockets in ``group``: ``{"users": {key: {...}}, "anonymous": n}``."""
    users: dict[str, dict[str, Any]] = {}
    anonymous = 0
    for connection in holders(group):
        state = connection.memberships
        membership = state.groups.get(group) if state is not None else None
        if membership is None or membership.pending or connection.closed:
            continue
        user = connection.auth.user if connection.auth is not None else None
        key = user_key(user)
        if key is None:
            anonymous += 1
            continue
        entry = users.setdefault(
            key, {"name": _name(user), "sockets": 0, "metadata": dict(membership.grant.metadata)}
        )
        entry["sockets"] += 1
    return {"users": users, "anonymous": anonymous}


def _name(user: Any) -> str:
    get_username = getattr(user, "get_username", None)
    return str(get_username() if callable(get_username) else user)


def merge(group: str, summaries: Mapping[str, Mapping[str, Any]], missing: tuple[str, ...] = ()) -> Presence:
    """One :class:`Presence` from the processes' summaries (process id -> summary)."""
    users: dict[str, dict[str, Any]] = {}
    anonymous = 0
    for summary in summaries.values():
        anonymous += int(summary.get("anonymous") or 0)
        for key, entry in (summary.get("users") or {}).items():
            merged = users.setdefault(key, {**entry, "sockets": 0})
            merged["sockets"] += int(entry.get("sockets") or 0)
    members = tuple(
        sorted(
            (
                Member(key, e["name"], e["sockets"], MappingProxyType(dict(e.get("metadata") or {})))
                for key, e in users.items()
            ),
            key=lambda member: (member.name, member.user),
        )
    )
    return Presence(group, members, anonymous, tuple(sorted(summaries)), missing)


async def answer(message: dict[str, Any]) -> None:
    """The listener's handler: answer a query with this process's summary."""
    group, reply_to = message.get("group"), message.get("reply_to")
    if not is_valid_group_name(group) or not isinstance(reply_to, str):
        logger.warning("ignored a malformed members query")
        return
    layer = get_channel_layer()
    if layer is not None:
        summary = summarise(str(group))
        await layer.send(
            reply_to,
            {"type": ANSWER_TYPE, "id": message.get("id"), "process": PROCESS_ID, "summary": summary},
        )


async def members(group: str, *, wait: float = DEFAULT_WAIT) -> Presence:
    """Who holds ``group`` in every process: one :class:`Member` per user, sockets counted.

    Grant metadata travels over the channel layer, so it must be serializable by it (JSON-like
    values) to appear here.
    """
    if not is_valid_group_name(group):
        raise ValueError(f"{group!r} is not a valid group name")
    layer = get_channel_layer()
    if layer is None:
        return merge(group, {PROCESS_ID: summarise(group)})
    query = {"type": QUERY_TYPE, "group": group, "id": uuid.uuid4().hex, "reply_to": None}
    answered, missing = await collect(layer, query, wait, ANSWER_TYPE)
    return merge(group, {process: a.get("summary") or {} for process, a in answered.items()}, missing)


def members_sync(group: str, *, wait: float = DEFAULT_WAIT) -> Presence:
    """:func:`members` for synchronous code (views)."""
    return async_to_sync(members)(group, wait=wait)


handlers[QUERY_TYPE] = answer
