"""The app config: checks registered and the log filter installed at start-up."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.checks import run_checks

from channels_warden.apps import WardenConfig


def test_app_config_is_installed() -> None:
    """INSTALLED_APPS' 'channels_warden' uses WardenConfig."""
    assert type(apps.get_app_config("channels_warden")) is WardenConfig


def test_checks_are_registered_with_django(settings: Any) -> None:
    """manage.py check runs warden's checks (security tag)."""
    settings.DEBUG = True  # the single-process warning W005 is tested in test_checks
    settings.WARDEN = {**settings.WARDEN, "TRANSPORTS": ["channels_warden.transports.QueryStringTransport"]}
    ids = [
        message.id for message in run_checks(tags=["security"]) if message.id.startswith("channels_warden")
    ]
    assert ids == ["channels_warden.W002"]
