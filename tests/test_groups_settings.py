"""``WARDEN["GROUPS"]``: defaults, validation that says how to fix, and re-reading on change."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from channels_warden.conf import WardenSettings
from channels_warden.groups import allow_authenticated
from channels_warden.groups.settings import group_settings, parse


def test_defaults_require_a_policy() -> None:
    """With no ``GROUPS`` setting, unmatched names are refused and apps are autodiscovered."""
    parsed = parse({})
    assert (parsed.require_policy, parsed.autodiscover, parsed.max_per_socket, parsed.cache) == (
        True,
        True,
        100,
        "default",
    )
    assert (parsed.policies, parsed.require_policy_explicit) == ((), False)


def test_policies_are_imported_from_strings() -> None:
    """An import string becomes the policy callable, under its compiled pattern."""
    [(pattern, func)] = parse(
        {"POLICIES": {"news.{topic}": "channels_warden.groups.allow_authenticated"}}
    ).policies
    assert (pattern.text, func) == ("news.{topic}", allow_authenticated)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "must be a dict"),
        ({"REQUIRE": True}, "Unknown WARDEN\\['GROUPS'\\] key\\(s\\) REQUIRE"),
        ({"REQUIRE_POLICY": "yes"}, "REQUIRE_POLICY'\\] must be True or False"),
        ({"MAX_PER_SOCKET": 0}, "MAX_PER_SOCKET'\\] must be a positive integer"),
        ({"POLICIES": ["chat.{room}"]}, "must map group patterns to policies"),
        ({"POLICIES": {"chat.{room}": "no.such.policy"}}, "could not be imported"),
        ({"POLICIES": {"chat.{room}": 3}}, "is not callable"),
        ({"POLICIES": {"chat room": "channels_warden.groups.allow_any"}}, "not valid in a group name"),
    ],
)
def test_bad_settings_say_how_to_fix_them(raw: Any, message: str) -> None:
    """Each mistake raises ``ImproperlyConfigured`` with a message naming it."""
    with pytest.raises(ImproperlyConfigured, match=message):
        parse(raw)


def test_explicit_require_policy_is_recorded() -> None:
    """The system check can tell a project that turned ``REQUIRE_POLICY`` off on purpose."""
    assert parse({"REQUIRE_POLICY": False}).require_policy_explicit is True


def test_group_settings_follow_override_settings(settings: Any) -> None:
    """A changed ``WARDEN`` is read again, not kept from the first read."""
    warden = WardenSettings()
    first = group_settings(warden)
    settings.WARDEN = {**settings.WARDEN, "GROUPS": {"MAX_PER_SOCKET": 3}}
    assert (first.max_per_socket, group_settings(warden).max_per_socket) == (100, 3)


def test_group_settings_are_parsed_once_per_value() -> None:
    """Reading twice without a change returns the same parsed object."""
    warden = WardenSettings({"GROUPS": {"MAX_PER_SOCKET": 5}})
    assert group_settings(warden) is group_settings(warden)
