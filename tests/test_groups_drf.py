"""DRF permission classes reused as group policies."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, User
from rest_framework.permissions import BasePermission, IsAdminUser, IsAuthenticated, IsAuthenticatedOrReadOnly

from channels_warden.groups import drf_policy
from channels_warden.identity import AuthInfo

ALICE = User(pk=1, username="alice")
STAFF = User(pk=2, username="root", is_staff=True)


class RoomIsOpen(BasePermission):
    """Reads the group's parts the way a view's permission reads URL kwargs."""

    def has_permission(self, request: Any, view: Any) -> bool:
        return bool(view.kwargs.get("room") == "open" and view.action == "join")


def test_admin_permission_admits_staff_only() -> None:
    """``drf_policy(IsAdminUser)`` allows staff and refuses others."""
    policy = drf_policy(IsAdminUser)
    assert (policy(STAFF, {}, room="x"), policy(ALICE, {}, room="x")) == (True, False)


def test_every_permission_must_allow() -> None:
    """Several classes combine with AND, like a view's ``permission_classes``."""
    policy = drf_policy(IsAuthenticated, RoomIsOpen)
    assert [
        policy(ALICE, {}, room="open"),
        policy(ALICE, {}, room="shut"),
        policy(AnonymousUser(), {}, room="open"),
    ] == [
        True,
        False,
        False,
    ]


def test_composed_permissions_work() -> None:
    """DRF's ``A & B`` composition is instantiated like a class."""
    assert drf_policy(IsAuthenticated & IsAdminUser)(STAFF, {}) is True


def test_a_join_is_a_safe_method() -> None:
    """``IsAuthenticatedOrReadOnly`` lets an anonymous user join: a join only reads a group."""
    assert drf_policy(IsAuthenticatedOrReadOnly)(AnonymousUser(), {}) is True


def test_request_auth_is_wardens_auth_info() -> None:
    """``request.auth`` is the socket's ``AuthInfo``, ``request.user`` the user asked about."""
    seen: list[Any] = []

    class Spy(BasePermission):
        def has_permission(self, request: Any, view: Any) -> bool:
            seen.append((request.user, request.auth))
            return True

    auth = AuthInfo(user=ALICE)
    drf_policy(Spy)(ALICE, {"auth": auth})
    assert seen == [(ALICE, auth)]


def test_policy_needs_a_permission() -> None:
    """An empty adapter is a mistake, not an allow-all."""
    with pytest.raises(ValueError, match="at least one"):
        drf_policy()


def test_policy_is_named_after_its_permissions() -> None:
    """The policy's name says which permissions it runs (for logs and errors)."""
    assert drf_policy(IsAdminUser, RoomIsOpen).__name__ == "drf_policy(IsAdminUser, RoomIsOpen)"
