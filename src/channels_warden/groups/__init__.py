"""Group policies: authorize what a socket *hears*, checked at join, re-checked while joined.

In Channels a socket hears whatever its groups hear, so the group is the unit of access. Declare who
may hear which group once, per group-name pattern::

    from channels_warden import groups

    @groups.policy("chat.{room}")
    async def can_join_room(user, scope, room: str) -> bool | groups.Grant:
        ...

then join through warden: ``await groups.warden_join(self, "chat.lobby")`` (or the
:class:`WardenGroupsMixin`). Warden records the membership on the socket and takes the socket out of
the group again when a re-check refuses it (after an in-band refresh, or ``recheck(user)``), when
``revoke_membership(user, group)`` says so in any process, or when its grant ends. See docs/groups.md.

Modules: ``patterns`` (names with typed parts), ``grants`` (Grant, GroupDenied), ``settings``
(``WARDEN["GROUPS"]``), ``policies`` (registry, decorator, decisions), ``drf`` (DRF permissions as
policies), ``permissions`` (CanJoin: a route permission from a policy), ``memberships`` (per-socket
state, grant timers), ``consumer`` (join, leave, mixin), ``listen``
(Strawberry subscriptions), ``rechecks``, ``revoke`` (cross-process
messages), ``presence`` (members across processes), ``processes`` (who must confirm), ``checks``.
"""

from __future__ import annotations

from ..connection import Connection
from .consumer import WardenGroupsMixin, joined_groups, warden_join, warden_leave
from .drf import drf_policy
from .grants import Grant, GroupDenied
from .listen import GroupLeft, warden_listen
from .patterns import GroupPattern
from .permissions import CanJoin
from .policies import PolicyRegistry, allow_any, allow_authenticated, allow_staff, policy, registry
from .presence import Member, Presence, members, members_sync
from .rechecks import MembershipHook
from .revoke import Confirmation, recheck, recheck_sync, revoke_membership, revoke_membership_sync

Connection.membership_hook = MembershipHook()

__all__ = [
    "CanJoin",
    "Confirmation",
    "Grant",
    "GroupDenied",
    "GroupLeft",
    "GroupPattern",
    "Member",
    "PolicyRegistry",
    "Presence",
    "WardenGroupsMixin",
    "allow_any",
    "allow_authenticated",
    "allow_staff",
    "drf_policy",
    "joined_groups",
    "members",
    "members_sync",
    "policy",
    "recheck",
    "recheck_sync",
    "registry",
    "revoke_membership",
    "revoke_membership_sync",
    "warden_join",
    "warden_leave",
    "warden_listen",
]
