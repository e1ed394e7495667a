"""CanJoin: a route permission that asks the group's policy."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, User

from channels_warden.exceptions import ServiceUnavailable
from channels_warden.groups import CanJoin
from channels_warden.identity import AuthInfo
from tests.groupkit import declared

ALICE = AuthInfo(user=User(pk=1, username="alice"))


async def only_open(user: Any, scope: Any, room: str) -> bool:
    return room == "open"


def scope(**kwargs: Any) -> dict[str, Any]:
    return {"type": "websocket", "url_route": {"args": (), "kwargs": kwargs}}


async def test_allows_when_the_policy_allows() -> None:
    """The route's kwargs name the group; the policy's yes opens the socket."""
    with declared({"unit.{room}": only_open}):
        assert await CanJoin("unit.{room}").has_permission(scope(room="open"), ALICE) is True


async def test_refuses_when_the_policy_refuses() -> None:
    """The policy's no refuses the socket."""
    with declared({"unit.{room}": only_open}):
        assert await CanJoin("unit.{room}").has_permission(scope(room="shut"), ALICE) is False


@pytest.mark.parametrize("kwargs", [{}, {"room": "bad%20name"}, {"room": "a.b"}])
async def test_refuses_kwargs_that_make_no_group_name(kwargs: dict[str, Any]) -> None:
    """A missing kwarg or one that the pattern does not match is refused without a policy call."""
    with declared({"unit.{room}": only_open}):
        assert await CanJoin("unit.{room}").has_permission(scope(**kwargs), ALICE) is False


async def test_failing_policy_fails_closed_with_4500() -> None:
    """A policy that raises refuses the socket with ServiceUnavailable (4500), not 4403."""

    async def broken(user: Any, scope: Any, room: str) -> bool:
        raise RuntimeError("database down")

    with declared({"unit.{room}": broken}), pytest.raises(ServiceUnavailable):
        await CanJoin("unit.{room}").has_permission(scope(room="open"), ALICE)


async def test_anonymous_user_is_asked_about_too() -> None:
    """The policy decides for anonymous users as well (here: a refusal)."""

    async def members(user: Any, scope: Any, room: str) -> bool:
        return bool(user.is_authenticated)

    with declared({"unit.{room}": members}):
        assert (
            await CanJoin("unit.{room}").has_permission(scope(room="x"), AuthInfo(user=AnonymousUser()))
            is False
        )


def test_repr_names_the_pattern() -> None:
    """Refusals in the log name the permission and its pattern."""
    assert repr(CanJoin("unit.{room}")) == "CanJoin('unit.{room}')"
