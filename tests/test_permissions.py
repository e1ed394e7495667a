"""Connect-time permissions, and the choice between 4401 and 4403."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser, Permission, User

from channels_warden.exceptions import AuthenticationFailed, PermissionDenied
from channels_warden.identity import AuthInfo
from channels_warden.permissions import (
    AllowAny,
    BasePermission,
    HasPerm,
    IsAuthenticated,
    IsStaff,
    IsSuperuser,
    check_permissions,
)

SCOPE: dict[str, Any] = {"type": "websocket", "url_route": {"args": (), "kwargs": {"room": "lobby"}}}
ANONYMOUS = AuthInfo.anonymous()


def auth_for(**fields: Any) -> AuthInfo:
    """An authenticated record for an unsaved user with the given flags."""
    return AuthInfo(user=User(username="alice", **fields), authenticator="test", transport="test")


def test_base_permission_allows() -> None:
    """The base class allows everyone; subclasses narrow it."""
    assert BasePermission().has_permission(SCOPE, ANONYMOUS) is True


def test_allow_any_allows_anonymous() -> None:
    """AllowAny admits clients without credentials."""
    assert AllowAny().has_permission(SCOPE, ANONYMOUS) is True


def test_permission_repr_is_its_class_name() -> None:
    """Log lines name the permission that refused."""
    assert repr(IsStaff()) == "IsStaff"


@pytest.mark.parametrize(
    ("permission", "fields", "allowed"),
    [
        (IsAuthenticated(), {}, True),
        (IsStaff(), {}, False),
        (IsStaff(), {"is_staff": True}, True),
        (IsSuperuser(), {"is_staff": True}, False),
        (IsSuperuser(), {"is_superuser": True}, True),
    ],
)
def test_flag_permissions_for_users(
    permission: BasePermission, fields: dict[str, Any], allowed: bool
) -> None:
    """IsAuthenticated, IsStaff and IsSuperuser read the user's flags."""
    assert permission.has_permission(SCOPE, auth_for(**fields)) is allowed


@pytest.mark.parametrize("permission", [IsAuthenticated(), IsStaff(), IsSuperuser()])
def test_flag_permissions_refuse_anonymous(permission: BasePermission) -> None:
    """No flag permission admits an anonymous client."""
    assert permission.has_permission(SCOPE, ANONYMOUS) is False


def test_staff_flag_on_an_unauthenticated_object_is_not_enough() -> None:
    """is_staff counts only for an authenticated user."""

    class Impostor:
        is_authenticated = False
        is_staff = True

    assert IsStaff().has_permission(SCOPE, AuthInfo(user=Impostor())) is False


def test_has_perm_needs_a_permission() -> None:
    """HasPerm() with nothing to check is a programming error."""
    with pytest.raises(ValueError, match=r"^HasPerm needs at least one 'app_label.codename' permission$"):
        HasPerm()


def test_has_perm_repr_lists_its_permissions() -> None:
    """Log lines show which permissions were required."""
    assert (
        repr(HasPerm("auth.view_user", "auth.change_user")) == "HasPerm('auth.view_user', 'auth.change_user')"
    )


async def test_has_perm_refuses_anonymous_without_a_query() -> None:
    """Anonymous clients are refused before the database is asked (no db fixture here)."""
    assert await HasPerm("auth.view_user").has_permission(SCOPE, ANONYMOUS) is False


async def test_has_perm_allows_an_active_superuser() -> None:
    """An active superuser holds every permission."""
    assert await HasPerm("auth.view_user").has_permission(SCOPE, auth_for(is_superuser=True)) is True


async def test_has_perm_refuses_an_inactive_superuser() -> None:
    """An inactive superuser holds none."""
    auth = auth_for(is_superuser=True, is_active=False)
    assert await HasPerm("auth.view_user").has_permission(SCOPE, auth) is False


@pytest.mark.django_db(transaction=True)
async def test_has_perm_reads_granted_permissions(make_user: Any) -> None:
    """A user granted the permission in the database passes, through the async path."""
    user = await database_sync_to_async(make_user)()
    permission = await Permission.objects.aget(codename="view_user", content_type__app_label="auth")
    await user.user_permissions.aadd(permission)
    auth = AuthInfo(user=await User.objects.aget(pk=user.pk))
    assert await HasPerm("auth.view_user").has_permission(SCOPE, auth) is True


@pytest.mark.django_db(transaction=True)
async def test_has_perm_needs_every_permission(make_user: Any) -> None:
    """Holding one of two required permissions is not enough."""
    user = await database_sync_to_async(make_user)()
    permission = await Permission.objects.aget(codename="view_user", content_type__app_label="auth")
    await user.user_permissions.aadd(permission)
    auth = AuthInfo(user=await User.objects.aget(pk=user.pk))
    assert await HasPerm("auth.view_user", "auth.delete_user").has_permission(SCOPE, auth) is False


async def test_check_permissions_passes_when_all_allow() -> None:
    """No permission refuses: nothing is raised."""
    assert await check_permissions([IsAuthenticated(), AllowAny()], SCOPE, auth_for()) is None


async def test_check_permissions_with_no_permissions_passes() -> None:
    """An empty list allows anyone."""
    assert await check_permissions([], SCOPE, ANONYMOUS) is None


async def test_refusal_of_an_anonymous_client_is_4401() -> None:
    """Nobody authenticated, so credentials would help: 4401."""
    with pytest.raises(AuthenticationFailed) as exc_info:
        await check_permissions([IsStaff()], SCOPE, ANONYMOUS)
    assert (exc_info.value.code, exc_info.value.detail) == (4401, "IsStaff requires an authenticated user")


async def test_refusal_of_an_authenticated_user_is_4403() -> None:
    """Someone authenticated and is not allowed: 4403."""
    with pytest.raises(PermissionDenied) as exc_info:
        await check_permissions([IsAuthenticated(), IsStaff()], SCOPE, auth_for())
    assert (exc_info.value.code, exc_info.value.detail) == (4403, "IsStaff refused the user")


async def test_async_permission_is_awaited() -> None:
    """A coroutine has_permission is awaited, and its False refuses."""

    class NeverAsync(BasePermission):
        async def has_permission(self, scope: Any, auth: AuthInfo) -> bool:
            return False

    with pytest.raises(PermissionDenied) as exc_info:
        await check_permissions([NeverAsync()], SCOPE, auth_for())
    assert exc_info.value.detail == "NeverAsync refused the user"


async def test_permission_sees_the_route() -> None:
    """A permission can read url_route from the scope it is given."""

    rooms: list[str] = []

    class InLobby(BasePermission):
        def has_permission(self, scope: Any, auth: AuthInfo) -> bool:
            rooms.append(scope["url_route"]["kwargs"]["room"])
            return True

    await check_permissions([InLobby()], SCOPE, auth_for())
    assert rooms == ["lobby"]


async def test_first_refusal_stops_the_chain() -> None:
    """Permissions after the first refusal are not asked."""
    asked: list[str] = []

    class Records(BasePermission):
        def has_permission(self, scope: Any, auth: AuthInfo) -> bool:
            asked.append("second")
            return True

    with pytest.raises(AuthenticationFailed):
        await check_permissions([IsAuthenticated(), Records()], SCOPE, AuthInfo(user=AnonymousUser()))
    assert asked == []
