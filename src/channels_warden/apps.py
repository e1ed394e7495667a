"""Django app config: system checks, the log filter, revocation triggers, Prometheus counters and the
discovery of group policies in apps' ``warden.py``."""

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
        self._discover_group_policies()

    @staticmethod
    def _discover_group_policies() -> None:
        """Import every installed app's ``warden.py`` (group policies), as the admin does ``admin.py``."""
        from django.utils.module_loading import autodiscover_modules

        from .conf import warden_settings
        from .groups import checks  # noqa: F401  (registers the group checks)
        from .groups.settings import group_settings

        try:
            enabled = group_settings(warden_settings).autodiscover
        except Exception:  # noqa: BLE001  (a bad GROUPS setting is reported by check E020)
            enabled = True
        if enabled:
            autodiscover_modules("warden")
