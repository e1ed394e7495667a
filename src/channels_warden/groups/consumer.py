"""The consumer side: join and leave groups through their policies.

::

    class RoomConsumer(AsyncWebsocketConsumer):
        async def connect(self):
            await self.accept()
            try:
                await warden_join(self, f"chat.{self.scope['url_route']['kwargs']['room']}")
            except GroupDenied as denied:
                await self.send(text_data=json.dumps(denied.frame()))

:func:`warden_join` runs the group's policy, then ``group_add``, and records the membership on the
socket's :class:`~channels_warden.connection.Connection`, from where re-checks, revocations and the
grant's end take the socket out of the group again. A refusal raises :class:`GroupDenied` and leaves
the socket open. :class:`WardenGroupsMixin` does the same for Channels' generic async consumers and
answers a refusal with a ``warden.denied`` frame.

Sync consumers call ``async_to_sync(warden_join)(self, group)``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from .._types import Scope
from ..connection import Connection, connection_of
from ..identity import AuthInfo
from ..registry import user_key
from .grants import Grant, GroupDenied
from .memberships import Membership, leave, memberships_of, rearm, record
from .patterns import is_valid_group_name
from .policies import PolicyTable, decide, table_for
from .processes import inventory
from .settings import group_settings

logger = logging.getLogger("channels_warden.groups")


def _connection(consumer: Any) -> Connection:
    connection = connection_of(getattr(consumer, "scope", None) or {})
    if not isinstance(connection, Connection):
        raise ImproperlyConfigured(
            "warden_join() found no warden connection in the consumer's scope: put WardenMiddleware "
            "(or WardenMiddlewareStack) above the router that leads to this consumer."
        )
    return connection


async def warden_join(consumer: Any, group: str, *, notify_consumer: bool = False) -> Grant:
    """Run ``group``'s policy for the socket's current user, then add the consumer to the group.

    Args:
        consumer: a Channels consumer behind warden (it has ``scope``, ``channel_layer`` and
            ``channel_name``).
        group: the group name, e.g. ``"chat.lobby"``.
        notify_consumer: also send the consumer a ``{"type": "warden.left"}`` message when the
            membership ends (its ``warden_left`` handler must exist; the mixin has one).

    Returns:
        The :class:`Grant` the policy answered (``Grant()`` for a plain ``True``).

    Raises:
        GroupDenied: the policy refused, no policy matches (``REQUIRE_POLICY``), the name is not a
            group name, the socket holds ``MAX_PER_SOCKET`` groups, or something failed (the policy
            raised, the channel layer is down: fail closed). The socket stays open.
    """
    connection = _connection(consumer)
    layer = getattr(consumer, "channel_layer", None)
    channel_name = getattr(consumer, "channel_name", None)
    if layer is None or not channel_name:
        raise ImproperlyConfigured("warden_join() needs a channel layer (settings.CHANNEL_LAYERS).")
    auth = connection.auth or AuthInfo.anonymous()
    settings = group_settings(connection.settings)
    try:
        if not is_valid_group_name(group):  # before anything hashes it: it may come from a client
            raise GroupDenied(str(group)[:100], "bad_request", "not a valid group name")
        state = memberships_of(connection)
        if group not in state.groups and len(state.groups) >= settings.max_per_socket:
            raise GroupDenied(str(group)[:100], "too_many", f"the socket holds {len(state.groups)} groups")
        await inventory.ensure_registered()
        membership = state.groups.get(group)
        if membership is None:
            # Recorded, pending, before the policy runs: a revocation that arrives while the policy
            # or group_add runs finds it, and the join fails instead of outliving the revocation.
            membership = Membership(
                group, channel_name, layer, Grant(), consumer.scope, notify_consumer, True
            )
            record(connection, membership)
        grant = await _decide_current(connection, consumer.scope, group, table_for(settings))
        if state.groups.get(group) is not membership:
            raise GroupDenied(group, "forbidden", "the membership was revoked while its policy ran")
        if connection.closed:
            await leave(connection, group, None)
            raise GroupDenied(group, "forbidden", "the socket closed while its policy ran")
        membership.grant = grant
        membership.notify_consumer = membership.notify_consumer or notify_consumer
        adding, membership.pending = membership.pending, False
        rearm(connection)
        if adding:
            try:
                await layer.group_add(group, channel_name)
            except Exception as exc:
                await leave(connection, group, None)
                raise GroupDenied(group, "internal", f"group_add failed: {exc!r}") from exc
            if state.groups.get(group) is not membership:
                await layer.group_discard(group, channel_name)
                raise GroupDenied(group, "forbidden", "the membership was revoked while it was being added")
    except GroupDenied as denied:
        logger.info(
            "refused group %r to user %s: %s",
            denied.group,
            user_key(auth.user) or "anonymous",
            denied.detail,
            extra={"warden_group_reason": denied.reason},
        )
        raise
    except Exception as exc:  # fail closed: nothing else may escape into the consumer
        logger.exception("joining group %r failed; refused", str(group)[:100])
        held = connection.memberships.groups.get(group) if connection.memberships is not None else None
        if held is not None and held.pending:
            await leave(connection, group, None)
        raise GroupDenied(str(group)[:100], "internal", f"{type(exc).__name__}") from exc
    return grant


async def _decide_current(connection: Connection, scope: Scope, group: str, table: PolicyTable) -> Grant:
    """The policy's answer for the socket's *current* identity; leaves ``group`` if it refuses.

    After an in-band refresh the consumer's scope still holds the connect-time ``auth``, so the
    current one is laid over it. If a refresh lands while the policy runs, the answer is about a
    token the socket no longer holds (and the refresh's re-check skipped this pending join), so the
    policy is asked again, once.
    """
    for _ in range(2):
        current = connection.auth
        auth = current or AuthInfo.anonymous()
        asked = scope if scope.get("auth") is auth else {**scope, "user": auth.user, "auth": auth}
        try:
            grant = await decide(group, auth.user, asked, table)
        except GroupDenied:
            await leave(connection, group, None)  # a pending join ends; a held group is refused now
            raise
        if connection.auth is current:
            return grant
    await leave(connection, group, None)
    raise GroupDenied(group, "forbidden", "the socket's identity changed twice while its policy ran")


async def warden_leave(consumer: Any, group: str) -> bool:
    """Take the consumer out of ``group`` (no frame: the application chose to leave).

    Returns whether the socket held the group through warden.
    """
    return await leave(_connection(consumer), group, None)


def joined_groups(consumer: Any) -> frozenset[str]:
    """The groups the consumer's socket holds through warden right now."""
    connection = _connection(consumer)
    return frozenset(connection.memberships.groups) if connection.memberships is not None else frozenset()


class WardenGroupsMixin:
    """For Channels' generic async consumers: ``await self.join(group)`` / ``await self.leave(group)``.

    A refused join answers ``{"type": "warden.denied", "group": ..., "reason": ...}`` to the client
    and returns ``None``. When warden takes the socket out of a group (revocation, re-check, grant
    end), the client gets ``warden.left`` and :meth:`group_left` is called.
    """

    scope: dict[str, Any]

    async def join(self, group: str) -> Grant | None:
        try:
            return await warden_join(self, group, notify_consumer=True)
        except GroupDenied as denied:
            await self.send(text_data=json.dumps(denied.frame()))  # type: ignore[attr-defined]
            return None

    async def leave(self, group: str) -> bool:
        return await warden_leave(self, group)

    @property
    def warden_groups(self) -> frozenset[str]:
        return joined_groups(self)

    async def warden_left(self, event: dict[str, Any]) -> None:
        """Channels' handler of the ``warden.left`` message warden sends to this consumer."""
        await self.group_left(str(event.get("group")), str(event.get("reason")))

    async def group_left(self, group: str, reason: str) -> None:
        """Called after warden took this socket out of ``group``; override to react."""
