"""Group policies: who may hear which group, declared once per group-name pattern.

::

    from channels_warden import groups

    @groups.policy("chat.{room}")
    async def can_join_room(user, scope, room: str) -> bool | groups.Grant:
        return await Room.objects.filter(slug=room, members=user).aexists()

A policy is called with the user, the socket's scope and the pattern's typed parts as keyword
arguments. It answers ``True`` (allow), ``False``/``None`` (deny) or a :class:`Grant`. A sync
policy runs in one ``database_sync_to_async`` hop (it may query the database); an async policy
runs on the event loop with no hop. Policies come from this module's :data:`registry` (the
decorator, usually in an app's ``warden.py``) and from ``WARDEN["GROUPS"]["POLICIES"]``, which
wins for the same pattern text so that a project can override an app's policy.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from channels.db import database_sync_to_async
from django.core.exceptions import ImproperlyConfigured

from .._types import Scope
from .grants import Grant, GroupDenied
from .patterns import GroupPattern, is_valid_group_name
from .settings import GroupSettings

logger = logging.getLogger("channels_warden.groups")

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Policy:
    """One declared policy: its pattern, its callable and whether it is a coroutine function."""

    pattern: GroupPattern
    func: Callable[..., Any] = field(compare=False)
    is_async: bool = False

    @classmethod
    def of(cls, pattern: GroupPattern, func: Callable[..., Any]) -> Policy:
        call = getattr(func, "__call__", None)  # noqa: B004  (async callable objects count too)
        is_async = inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(call)
        return cls(pattern, func, is_async)


class PolicyRegistry:
    """The policies declared in code. One per process (:data:`registry`); tests may make their own."""

    def __init__(self) -> None:
        self._policies: dict[str, Policy] = {}
        #: Bumped on every change, so that tables built from the registry know when to rebuild.
        self.version = 0

    def register(self, pattern: str, func: Callable[..., Any]) -> Policy:
        """Declare ``func`` as the policy of ``pattern``; a pattern may be declared once."""
        compiled = GroupPattern.parse(pattern)
        existing = self._policies.get(pattern)
        if existing is not None and _qualname(existing.func) != _qualname(func):
            raise ImproperlyConfigured(
                f"Group pattern {pattern!r} already has the policy {_qualname(existing.func)}; "
                f"{_qualname(func)} cannot be declared for it too (override it in WARDEN['GROUPS'])."
            )
        declared = self._policies[pattern] = Policy.of(compiled, func)
        self.version += 1
        return declared

    def unregister(self, pattern: str) -> None:
        if self._policies.pop(pattern, None) is not None:
            self.version += 1

    def policies(self) -> tuple[Policy, ...]:
        return tuple(self._policies.values())


registry = PolicyRegistry()


def policy(pattern: str, *, on: PolicyRegistry | None = None) -> Callable[[F], F]:
    """Declare the decorated function as the policy of the group-name ``pattern``."""

    def declare(func: F) -> F:
        (on or registry).register(pattern, func)
        return func

    return declare


def _qualname(func: Callable[..., Any]) -> str:
    return f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', repr(func))}"


class PolicyTable:
    """The policies in force for one settings value: settings first, then the registry, ranked."""

    def __init__(self, settings: GroupSettings, declared: Iterable[Policy]) -> None:
        self.settings = settings
        chosen = {policy.pattern.text: policy for policy in declared}
        chosen.update({pattern.text: Policy.of(pattern, func) for pattern, func in settings.policies})
        # sorted() is stable: equally specific patterns keep their declaration order.
        self.policies: tuple[Policy, ...] = tuple(
            sorted(chosen.values(), key=lambda policy: policy.pattern.specificity, reverse=True)
        )

    def resolve(self, group: str) -> tuple[Policy, dict[str, Any]] | None:
        """The most specific policy whose pattern matches ``group``, and the typed parts."""
        for candidate in self.policies:
            parts = candidate.pattern.match(group)
            if parts is not None:
                return candidate, parts
        return None


_tables: dict[int, tuple[GroupSettings, int, PolicyTable]] = {}


def table_for(settings: GroupSettings, on: PolicyRegistry | None = None) -> PolicyTable:
    """The :class:`PolicyTable` of ``settings`` and ``on`` (the process registry), cached."""
    source = on or registry
    cached = _tables.get(id(source))
    if cached is not None and cached[0] is settings and cached[1] == source.version:
        return cached[2]
    table = PolicyTable(settings, source.policies())
    _tables[id(source)] = (settings, source.version, table)
    return table


# Deciding ------------------------------------------------------------------------------------------

#: One policy call to make: the group, the scope its policy sees, the policy and the typed parts.
Call = tuple[str, Scope, Policy, dict[str, Any]]


def _outcome(group: str, user: Any, answer: Any) -> Grant | GroupDenied:
    """Turn a policy's answer into a grant or a denial; anything unexpected denies (fail closed)."""
    if answer is True:
        return Grant()
    if isinstance(answer, Grant):
        if answer.expired():
            return GroupDenied(group, "forbidden", "the policy answered an expired grant")
        return answer
    if answer is False or answer is None:
        anonymous = not getattr(user, "is_authenticated", False)
        return GroupDenied(group, "unauthenticated" if anonymous else "forbidden", "the policy refused")
    logger.error("group policy for %r answered %r, not a bool or a Grant: refused", group, type(answer))
    return GroupDenied(group, "internal", "the policy answered neither a bool nor a Grant")


def _call_sync(calls: Sequence[Call], user: Any) -> list[Any]:
    """Run sync policies one after the other, in the one thread hop their caller paid for."""
    answers: list[Any] = []
    for _, scope, declared, parts in calls:
        try:
            answers.append(declared.func(user, scope, **parts))
        except Exception as exc:  # noqa: BLE001  (reported per group by the caller)
            answers.append(exc)
    return answers


async def decide_many(
    requests: Iterable[tuple[str, Scope]], user: Any, table: PolicyTable
) -> dict[str, Grant | GroupDenied]:
    """Decide several ``(group, scope)`` at once: all their sync policies share one thread hop."""
    decided: dict[str, Grant | GroupDenied] = {}
    sync_calls: list[Call] = []
    async_calls: list[Call] = []
    for group, scope in requests:
        if not is_valid_group_name(group):
            decided[group] = GroupDenied(str(group)[:100], "bad_request", "not a valid group name")
            continue
        found = table.resolve(group)
        if found is None:
            if table.settings.require_policy:
                decided[group] = GroupDenied(group, "forbidden", "no group policy matches this name")
            else:
                decided[group] = Grant()
            continue
        (async_calls if found[0].is_async else sync_calls).append((group, scope, *found))
    answers: list[tuple[str, Any]] = []
    if sync_calls:
        try:
            results = await database_sync_to_async(_call_sync)(sync_calls, user)
        except Exception as exc:  # noqa: BLE001  (the thread hop itself failed)
            results = [exc] * len(sync_calls)
        answers.extend(zip((call[0] for call in sync_calls), results, strict=True))
    for group, scope, declared, parts in async_calls:
        try:
            answers.append((group, await declared.func(user, scope, **parts)))
        except Exception as exc:  # noqa: BLE001
            answers.append((group, exc))
    for group, answer in answers:
        if isinstance(answer, Exception):
            logger.error("group policy for %r raised; refused (fail closed)", group, exc_info=answer)
            decided[group] = GroupDenied(group, "internal", f"the policy raised {type(answer).__name__}")
        else:
            decided[group] = _outcome(group, user, answer)
    return decided


async def decide(group: str, user: Any, scope: Scope, table: PolicyTable) -> Grant:
    """The grant for ``user`` to hear ``group``; raise :class:`GroupDenied` otherwise."""
    if not is_valid_group_name(group):  # checked first: a hostile name may not even be hashable
        raise GroupDenied(str(group)[:100], "bad_request", "not a valid group name")
    outcome = (await decide_many([(group, scope)], user, table))[group]
    if isinstance(outcome, GroupDenied):
        raise outcome
    return outcome


# Policies for common cases: async, so that they cost no thread hop. ------------------------------------


async def allow_any(user: Any, scope: Scope, **parts: Any) -> bool:
    """Anyone on the socket, authenticated or not, may join."""
    return True


async def allow_authenticated(user: Any, scope: Scope, **parts: Any) -> bool:
    """Any authenticated user may join."""
    return bool(getattr(user, "is_authenticated", False))


async def allow_staff(user: Any, scope: Scope, **parts: Any) -> bool:
    """Only active staff users may join."""
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_staff", False))
