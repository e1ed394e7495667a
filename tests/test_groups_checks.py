"""System checks for ``WARDEN["GROUPS"]``."""

from __future__ import annotations

from typing import Any

from channels_warden.groups.checks import check_group_settings


def test_default_settings_pass(settings: Any) -> None:
    """With ``REQUIRE_POLICY`` on (the default) there is nothing to report."""
    assert check_group_settings() == []


def test_require_policy_off_is_a_warning_with_a_hint(settings: Any) -> None:
    """``REQUIRE_POLICY: False`` is W020, with how to turn it on."""
    settings.WARDEN = {**settings.WARDEN, "GROUPS": {"REQUIRE_POLICY": False}}
    [message] = check_group_settings()
    assert (message.id, "remove REQUIRE_POLICY or set it to True" in message.hint) == (
        "channels_warden.W020",
        True,
    )


def test_bad_groups_setting_is_an_error(settings: Any) -> None:
    """An unloadable ``GROUPS`` is E020 carrying the configuration error."""
    settings.WARDEN = {**settings.WARDEN, "GROUPS": {"POLICIES": {"chat.{room}": "no.such.policy"}}}
    [message] = check_group_settings()
    assert (message.id, "could not be imported" in message.msg) == ("channels_warden.E020", True)
