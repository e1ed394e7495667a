"""Re-checking a socket's groups: after an in-band refresh, and when ``recheck(user)`` asks.

A re-check asks every group's policy again, with the socket's *current* identity (the refreshed
token's claims, the user as the database has it now) in the scope its join was decided in. Groups
whose policy now refuses are left with a ``warden.left`` frame whose reason is the refusal's
(``forbidden``, ``unauthenticated``, or ``internal`` when the policy failed: fail closed); groups
still allowed keep their membership with the new grant (and its new end).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ..identity import AuthInfo
from .grants import GroupDenied
from .memberships import leave, leave_all, rearm
from .policies import decide_many, table_for
from .settings import group_settings

if TYPE_CHECKING:
    from ..connection import Connection

logger = logging.getLogger("channels_warden.groups")


async def recheck_connection(connection: Connection, user: Any = None, only: str | None = None) -> int:
    """Ask every policy of the socket's groups again; return how many groups it left.

    Args:
        connection: the socket.
        user: the user to ask about (a fresh copy from the database); by default the user of the
            socket's current credential.
        only: re-check this one group (if the socket holds it) instead of all of them.
    """
    state = connection.memberships
    if state is None or not state.groups or connection.closed:
        return 0
    auth = connection.auth or AuthInfo.anonymous()
    if user is None:
        user = auth.user
    held = {g: m for g, m in state.groups.items() if (only is None or g == only) and not m.pending}
    if not held:
        return 0
    requests = [(group, {**m.scope, "user": user, "auth": auth}) for group, m in held.items()]
    decided = await decide_many(requests, user, table_for(group_settings(connection.settings)))
    left = 0
    for group, outcome in decided.items():
        if state.groups.get(group) is not held[group]:
            continue  # left or joined again while the policies ran: that newer decision stands
        if isinstance(outcome, GroupDenied):
            logger.info("re-check took a socket out of group %r: %s", group, outcome.detail)
            left += await leave(connection, group, outcome.reason)
        else:
            held[group].grant = outcome
    rearm(connection)
    return left


class MembershipHook:
    """Installed on :class:`~channels_warden.connection.Connection` by ``channels_warden.groups``."""

    async def identity_changed(self, connection: Connection) -> None:
        await recheck_connection(connection)

    async def finished(self, connection: Connection) -> None:
        await leave_all(connection)
