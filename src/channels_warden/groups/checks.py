"""System checks for group policies.

=========================  ==========================================================================
``channels_warden.E020``   ``WARDEN["GROUPS"]`` cannot be loaded (unknown key, bad pattern, bad import)
``channels_warden.W020``   ``REQUIRE_POLICY`` is off: a group name no pattern matches can be joined
=========================  ==========================================================================
"""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from ..conf import warden_settings
from .policies import table_for
from .settings import group_settings


@register(Tags.security)
def check_group_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Validate ``WARDEN["GROUPS"]`` and say how to make unmatched group names refused."""
    try:
        settings = group_settings(warden_settings)
        table_for(settings)
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="channels_warden.E020")]
    if not settings.require_policy:
        return [
            Warning(
                "WARDEN['GROUPS']['REQUIRE_POLICY'] is off: warden_join() lets a socket join any group "
                "name that no policy pattern matches.",
                hint="Declare a policy for every group your consumers join (@groups.policy in each app's "
                "warden.py, or WARDEN['GROUPS']['POLICIES']), then remove REQUIRE_POLICY or set it to "
                "True, so that a group nobody thought about is refused.",
                id="channels_warden.W020",
            )
        ]
    return []
