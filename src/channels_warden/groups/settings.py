"""``WARDEN["GROUPS"]``: the group policies declared in settings, and how strict joins are.

::

    WARDEN = {
        "GROUPS": {
            "REQUIRE_POLICY": True,          # a group name no pattern matches is refused (default)
            "POLICIES": {                    # pattern -> import string of a policy
                "chat.{room}": "chat.policies.can_join_room",
                "news": "channels_warden.groups.allow_authenticated",
            },
            "AUTODISCOVER": True,            # import every installed app's warden.py at startup
            "MAX_PER_SOCKET": 100,           # groups one socket may hold at once
            "CACHE": "default",              # where processes holding groups list themselves
        },
    }

Read lazily from the connection's settings (so a middleware's overrides apply) and parsed once per
value: the parse is kept until ``WARDEN`` changes (``override_settings`` included).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from ..conf import WardenSettings
from .patterns import GroupPattern

DEFAULTS: dict[str, Any] = {
    "REQUIRE_POLICY": True,
    "POLICIES": {},
    "AUTODISCOVER": True,
    "MAX_PER_SOCKET": 100,
    "CACHE": "default",
}


@dataclass(frozen=True)
class GroupSettings:
    """The validated ``GROUPS`` setting."""

    require_policy: bool
    policies: tuple[tuple[GroupPattern, Callable[..., Any]], ...]
    autodiscover: bool
    max_per_socket: int
    cache: str
    #: Whether ``REQUIRE_POLICY`` was written in the settings (the system check reads it).
    require_policy_explicit: bool


def parse(raw: Any) -> GroupSettings:
    """Validate a ``GROUPS`` value; raise ``ImproperlyConfigured`` saying how to fix it."""
    if not isinstance(raw, Mapping):
        raise ImproperlyConfigured(f"WARDEN['GROUPS'] must be a dict, not {type(raw).__name__}.")
    unknown = sorted(set(raw) - set(DEFAULTS))
    if unknown:
        raise ImproperlyConfigured(
            f"Unknown WARDEN['GROUPS'] key(s) {', '.join(unknown)}; valid keys are {', '.join(DEFAULTS)}."
        )
    values = {**DEFAULTS, **raw}
    for key in ("REQUIRE_POLICY", "AUTODISCOVER"):
        if not isinstance(values[key], bool):
            raise ImproperlyConfigured(f"WARDEN['GROUPS']['{key}'] must be True or False.")
    limit = values["MAX_PER_SOCKET"]
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ImproperlyConfigured("WARDEN['GROUPS']['MAX_PER_SOCKET'] must be a positive integer.")
    declared = values["POLICIES"]
    if not isinstance(declared, Mapping):
        raise ImproperlyConfigured(
            "WARDEN['GROUPS']['POLICIES'] must map group patterns to policies, e.g. "
            "{'chat.{room}': 'chat.policies.can_join_room'}."
        )
    policies = []
    for text, entry in declared.items():
        pattern = GroupPattern.parse(text)
        if isinstance(entry, str):
            try:
                entry = import_string(entry)
            except ImportError as exc:
                raise ImproperlyConfigured(
                    f"WARDEN['GROUPS'] policy {entry!r} for {text!r} could not be imported: {exc}"
                ) from exc
        if not callable(entry):
            raise ImproperlyConfigured(f"WARDEN['GROUPS'] policy for {text!r} is not callable: {entry!r}.")
        policies.append((pattern, entry))
    return GroupSettings(
        require_policy=values["REQUIRE_POLICY"],
        policies=tuple(policies),
        autodiscover=values["AUTODISCOVER"],
        max_per_socket=limit,
        cache=str(values["CACHE"]),
        require_policy_explicit="REQUIRE_POLICY" in raw,
    )


_parsed: weakref.WeakKeyDictionary[WardenSettings, tuple[Any, GroupSettings]] = weakref.WeakKeyDictionary()


def group_settings(settings: WardenSettings) -> GroupSettings:
    """The parsed ``GROUPS`` of ``settings``, parsed again only when the value is another object."""
    raw = settings.GROUPS
    cached = _parsed.get(settings)
    if cached is not None and cached[0] is raw:
        return cached[1]
    parsed = parse(raw)
    _parsed[settings] = (raw, parsed)
    return parsed
