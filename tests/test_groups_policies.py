"""Policies: the registry and its decorator, ranking, and what a decision makes of an answer."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ImproperlyConfigured

from channels_warden.groups import (
    Grant,
    GroupDenied,
    PolicyRegistry,
    allow_any,
    allow_authenticated,
    allow_staff,
)
from channels_warden.groups.policies import decide, decide_many, policy, table_for
from channels_warden.groups.settings import parse

ALICE = User(pk=1, username="alice")
STAFF = User(pk=2, username="root", is_staff=True)
SCOPE: dict[str, Any] = {"type": "websocket", "path": "/ws/"}


def table(*, require_policy: bool = True, on: PolicyRegistry | None = None, **raw: Any) -> Any:
    return table_for(parse({"REQUIRE_POLICY": require_policy, **raw}), on or PolicyRegistry())


def test_decorator_declares_on_a_registry() -> None:
    """``@policy(pattern, on=registry)`` registers the function and returns it unchanged."""
    own = PolicyRegistry()

    @policy("chat.{room}", on=own)
    async def rooms(user: Any, scope: Any, room: str) -> bool:
        return True

    [declared] = own.policies()
    assert (declared.pattern.text, declared.func, declared.is_async) == ("chat.{room}", rooms, True)


def test_a_pattern_cannot_get_a_second_policy() -> None:
    """Two different functions for one pattern is a configuration error naming both."""
    own = PolicyRegistry()
    own.register("chat.{room}", allow_any)
    with pytest.raises(ImproperlyConfigured, match=r"already has the policy .*allow_any"):
        own.register("chat.{room}", allow_staff)


def test_re_declaring_the_same_function_is_harmless() -> None:
    """A module imported twice declares the same function again without error."""
    own = PolicyRegistry()
    own.register("chat.{room}", allow_any)
    own.register("chat.{room}", allow_any)
    assert len(own.policies()) == 1


def test_settings_override_a_declared_pattern() -> None:
    """A pattern in ``WARDEN['GROUPS']['POLICIES']`` replaces the app's policy for that pattern."""
    own = PolicyRegistry()
    own.register("chat.{room}", allow_any)
    found = table(on=own, POLICIES={"chat.{room}": "channels_warden.groups.allow_staff"}).resolve("chat.x")
    assert found[0].func is allow_staff


def test_most_specific_pattern_wins() -> None:
    """``chat.staff`` is decided by its own policy, not by ``chat.{room}``."""
    own = PolicyRegistry()
    own.register("chat.{room}", allow_any)
    own.register("chat.staff", allow_staff)
    chosen = table(on=own)
    assert (chosen.resolve("chat.staff")[0].func, chosen.resolve("chat.lobby")[0].func) == (
        allow_staff,
        allow_any,
    )


def test_table_is_rebuilt_after_a_registration() -> None:
    """A policy declared after the first decision is seen by the next."""
    own = PolicyRegistry()
    settings = parse({})
    assert table_for(settings, own).resolve("late.x") is None
    own.register("late.{x}", allow_any)
    assert table_for(settings, own).resolve("late.x") is not None


async def test_true_is_an_open_ended_grant() -> None:
    """A policy answering ``True`` gives ``Grant()``."""
    own = PolicyRegistry()
    own.register("chat.{room}", allow_any)
    assert await decide("chat.x", ALICE, SCOPE, table(on=own)) == Grant()


async def test_grant_answer_is_kept() -> None:
    """A policy's ``Grant`` comes back as it was answered."""
    own = PolicyRegistry()
    grant = Grant.for_seconds(30, role="guest")

    async def granting(user: Any, scope: Any, room: str) -> Grant:
        return grant

    own.register("chat.{room}", granting)
    assert await decide("chat.x", ALICE, SCOPE, table(on=own)) is grant


async def test_expired_grant_is_a_denial() -> None:
    """A grant that already ended refuses the join."""
    own = PolicyRegistry()

    async def stale(user: Any, scope: Any, room: str) -> Grant:
        return Grant(expires_at=1.0)

    own.register("chat.{room}", stale)
    with pytest.raises(GroupDenied) as denied:
        await decide("chat.x", ALICE, SCOPE, table(on=own))
    assert (denied.value.reason, denied.value.detail) == ("forbidden", "the policy answered an expired grant")


@pytest.mark.parametrize(("user", "reason"), [(ALICE, "forbidden"), (AnonymousUser(), "unauthenticated")])
async def test_false_denies_as_forbidden_or_unauthenticated(user: Any, reason: str) -> None:
    """A refusal is ``unauthenticated`` for an anonymous user (credentials would help), else ``forbidden``."""
    own = PolicyRegistry()
    own.register("chat.{room}", allow_authenticated)
    own.register("ops.{room}", allow_staff)
    group = "chat.x" if reason == "unauthenticated" else "ops.x"
    with pytest.raises(GroupDenied) as denied:
        await decide(group, user, SCOPE, table(on=own))
    assert denied.value.reason == reason


async def test_unmatched_name_is_refused_when_a_policy_is_required() -> None:
    """With ``REQUIRE_POLICY`` (the default) a name no pattern matches is refused."""
    with pytest.raises(GroupDenied) as denied:
        await decide("nowhere.x", ALICE, SCOPE, table())
    assert (denied.value.reason, denied.value.detail) == ("forbidden", "no group policy matches this name")


async def test_unmatched_name_is_allowed_when_no_policy_is_required() -> None:
    """With ``REQUIRE_POLICY`` off a name no pattern matches is allowed."""
    assert await decide("nowhere.x", ALICE, SCOPE, table(require_policy=False)) == Grant()


async def test_invalid_name_is_a_bad_request_before_any_policy() -> None:
    """A name Channels would refuse is denied ``bad_request`` without calling a policy."""
    own = PolicyRegistry()
    calls: list[str] = []

    async def spy(user: Any, scope: Any, **parts: Any) -> bool:
        calls.append("called")
        return True

    own.register("{rest:path}", spy)
    with pytest.raises(GroupDenied) as denied:
        await decide(["not", "a", "name"], ALICE, SCOPE, table(on=own))  # type: ignore[arg-type]
    assert (denied.value.reason, calls) == ("bad_request", [])


async def test_raising_policy_fails_closed(caplog: pytest.LogCaptureFixture) -> None:
    """A policy that raises denies with ``internal`` and logs the exception."""
    own = PolicyRegistry()

    def broken(user: Any, scope: Any, room: str) -> bool:
        raise RuntimeError("database down")

    own.register("chat.{room}", broken)
    with caplog.at_level(logging.ERROR, "channels_warden.groups"), pytest.raises(GroupDenied) as denied:
        await decide("chat.x", ALICE, SCOPE, table(on=own))
    assert (denied.value.reason, denied.value.detail) == ("internal", "the policy raised RuntimeError")
    assert caplog.records[0].exc_info is not None


async def test_answer_of_the_wrong_type_fails_closed() -> None:
    """A policy answering something else than a bool or a Grant denies with ``internal``."""
    own = PolicyRegistry()

    async def sloppy(user: Any, scope: Any, room: str) -> str:
        return "yes"

    own.register("chat.{room}", sloppy)
    with pytest.raises(GroupDenied) as denied:
        await decide("chat.x", ALICE, SCOPE, table(on=own))
    assert denied.value.reason == "internal"


async def test_typed_parts_reach_the_policy() -> None:
    """The policy gets the user, the scope and the converted parts as keyword arguments."""
    own = PolicyRegistry()
    seen: list[Any] = []

    async def record(user: Any, scope: Any, id: int) -> bool:
        seen.append((user, scope, id))
        return True

    own.register("user.{id:int}", record)
    await decide("user.7", ALICE, SCOPE, table(on=own))
    assert seen == [(ALICE, SCOPE, 7)]


async def test_sync_policies_share_one_thread_hop_and_async_ones_run_on_the_loop() -> None:
    """Several sync policies run in one worker thread; async policies run in the loop's thread."""
    own = PolicyRegistry()
    threads: dict[str, int] = {}

    def sync_one(user: Any, scope: Any, room: str) -> bool:
        threads[f"sync.{room}"] = threading.get_ident()
        return True

    async def async_one(user: Any, scope: Any, room: str) -> bool:
        threads[f"async.{room}"] = threading.get_ident()
        return True

    own.register("sync.{room}", sync_one)
    own.register("async.{room}", async_one)
    decided = await decide_many(
        [("sync.a", SCOPE), ("sync.b", SCOPE), ("async.c", SCOPE)], ALICE, table(on=own)
    )
    assert decided == {"sync.a": Grant(), "sync.b": Grant(), "async.c": Grant()}
    assert threads["sync.a"] == threads["sync.b"] != threading.get_ident() == threads["async.c"]


async def test_builtin_policies() -> None:
    """``allow_any``, ``allow_authenticated`` and ``allow_staff`` answer as their names say."""
    answers = [
        await policy_(user, SCOPE)
        for policy_ in (allow_any, allow_authenticated, allow_staff)
        for user in (AnonymousUser(), ALICE, STAFF)
    ]
    assert answers == [True, True, True, False, True, True, False, False, True]
