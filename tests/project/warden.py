"""Group policies of the test project, declared the way an app declares them: autodiscovered.

``tests.project`` is an installed app (tests/settings.py), so warden imports this module at startup.

* ``room.{name}``: a sync policy that makes one query: the user is in the Django group ``room-<name>``.
* ``open.{name}``: any authenticated user (a built-in async policy, no thread hop).
* ``claim.{name}``: the current token's ``rooms`` claim lists the room (re-checked after a refresh).
* ``timed.{seconds:int}``: a grant that ends that many seconds after the join.
* ``staff.{name}``: DRF's ``IsAdminUser`` through the adapter.

Any other name (``secret.x``) has no policy and is refused: ``REQUIRE_POLICY`` is on by default.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import IsAdminUser

from channels_warden import groups


@groups.policy("room.{name}")
def member_of_room(user: Any, scope: dict[str, Any], name: str) -> bool:
    return bool(user.is_authenticated and user.groups.filter(name=f"room-{name}").exists())


groups.policy("open.{name}")(groups.allow_authenticated)


@groups.policy("claim.{name}")
async def room_in_token(user: Any, scope: dict[str, Any], name: str) -> bool:
    auth = scope.get("auth")
    rooms = auth.claims.get("rooms", []) if auth is not None else []
    return isinstance(rooms, list) and name in rooms


@groups.policy("timed.{seconds:int}")
async def timed_grant(user: Any, scope: dict[str, Any], seconds: int) -> groups.Grant:
    return groups.Grant.for_seconds(seconds, role="guest")


groups.policy("staff.{name}")(groups.drf_policy(IsAdminUser))
