"""Group policies in apps' ``warden.py`` are discovered at startup, like ``admin.py``."""

from __future__ import annotations

from typing import Any

import pytest

from channels_warden.apps import WardenConfig
from channels_warden.groups import registry


def test_installed_apps_warden_modules_are_imported() -> None:
    """``tests.project`` is installed, so its ``warden.py`` declared its policies at startup."""
    patterns = {declared.pattern.text for declared in registry.policies()}
    assert {"room.{name}", "open.{name}", "claim.{name}", "timed.{seconds:int}", "staff.{name}"} <= patterns


def test_discovery_imports_the_warden_module_of_each_app(monkeypatch: pytest.MonkeyPatch) -> None:
    """Discovery asks Django for every app's ``warden`` module."""
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(
        "django.utils.module_loading.autodiscover_modules", lambda *names: calls.append(names)
    )
    WardenConfig._discover_group_policies()
    assert calls == [("warden",)]


def test_discovery_can_be_turned_off(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """``AUTODISCOVER: False`` imports nothing."""
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(
        "django.utils.module_loading.autodiscover_modules", lambda *names: calls.append(names)
    )
    settings.WARDEN = {**settings.WARDEN, "GROUPS": {"AUTODISCOVER": False}}
    WardenConfig._discover_group_policies()
    assert calls == []
