"""Django app config: system checks, the log filter, revocation triggers and Prometheus counters."""

from __future__ import annotations

from django.apps import AppConfig


class WardenConfig(AppConfig):
    name = "channels_warden"
    verbose_name = "channels-warden"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the checks)
        from .logging import install_server_filters
        from .metrics import connect_metrics
        from .triggers import connect_triggers

        install_server_filters()
        connect_triggers()
        connect_metrics()
