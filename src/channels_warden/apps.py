"""Django app config: registers the system checks, the log filter and the revocation triggers."""

from __future__ import annotations

from django.apps import AppConfig


class WardenConfig(AppConfig):
    name = "channels_warden"
    verbose_name = "channels-warden"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the checks)
        from .logging import install_server_filters
        from .triggers import connect_triggers

        install_server_filters()
        connect_triggers()
