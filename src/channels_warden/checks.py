"""System checks (``manage.py check``): configurations that work but leak or invite attacks.

=========================  ==========================================================================
``channels_warden.E001``   ``WARDEN`` cannot be loaded (unknown key, bad import string, bad origin)
``channels_warden.E002``   a string where a list belongs (``ALLOWED_ORIGINS = "https://..."``)
``channels_warden.E003``   an authenticator whose Django app is not in ``INSTALLED_APPS``
``channels_warden.W001``   cookie credentials enabled but ``ALLOWED_ORIGINS`` is empty
``channels_warden.W002``   query-string tokens enabled (URLs end up in logs and history)
``channels_warden.W003``   raw-JWT subprotocol compatibility enabled (the token is echoed back)
``channels_warden.W004``   warden's SimpleJWT signs with ``SECRET_KEY`` or an HMAC key under 32 bytes
``channels_warden.W005``   the channel layer is process-local: revocation reaches one process only
``channels_warden.W006``   tickets, limits or the throttle use a process-local cache
=========================  ==========================================================================

W005 and W006 fire when ``DEBUG`` is off (a deployment may run several processes) and, whatever
``DEBUG`` says, under ``manage.py check --deploy``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from .conf import string_for_list, warden_settings
from .processes import SHARED_CACHE, SHARED_LAYER, process_local_caches, process_local_layer
from .tickets import TicketTransport
from .transports import CookieTransport, QueryStringTransport, RawJWTSubprotocolTransport

MIN_HMAC_KEY_BYTES = 32
#: App labels and the INSTALLED_APPS entry that provides them, for E003's hint.
APP_MODULES = {"authtoken": "rest_framework.authtoken", "knox": "knox"}


def _transport_checks(transports: tuple[Any, ...]) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    if any(isinstance(t, CookieTransport) for t in transports) and not warden_settings.ALLOWED_ORIGINS:
        messages.append(
            Warning(
                "Cookie credentials are enabled but WARDEN['ALLOWED_ORIGINS'] is empty.",
                hint="Only same-origin pages can use cookie credentials. List the full origins of your "
                "front ends (e.g. 'https://app.example.com') to allow cross-origin pages.",
                id="channels_warden.W001",
            )
        )
    if any(isinstance(t, QueryStringTransport) and not isinstance(t, TicketTransport) for t in transports):
        messages.append(
            Warning(
                "Tokens in the query string are enabled.",
                hint="URLs are written to access logs, proxies and browser history. Prefer the "
                "subprotocol transport or one-time tickets; keep RedactCredentialsFilter on your loggers.",
                id="channels_warden.W002",
            )
        )
    if any(isinstance(t, RawJWTSubprotocolTransport) for t in transports):
        messages.append(
            Warning(
                "The raw-JWT subprotocol compatibility mode is enabled: the server echoes the token.",
                hint="Move clients to Sec-WebSocket-Protocol: ['warden', 'bearer.<token>'] and remove "
                "RawJWTSubprotocolTransport.",
                id="channels_warden.W003",
            )
        )
    return messages


def _simplejwt_checks(authenticators: tuple[Any, ...]) -> list[CheckMessage]:
    from .authenticators.simplejwt import SimpleJWTAuthenticator

    if not any(isinstance(authenticator, SimpleJWTAuthenticator) for authenticator in authenticators):
        return []  # a project's own SimpleJWT keys are not warden's to judge
    try:
        from rest_framework_simplejwt.settings import api_settings
    except ImportError:
        return []
    if not str(api_settings.ALGORITHM).startswith("HS"):
        return []
    key = api_settings.SIGNING_KEY
    key_bytes = key.encode() if isinstance(key, str) else bytes(key or b"")
    if key == settings.SECRET_KEY or len(key_bytes) < MIN_HMAC_KEY_BYTES:
        return [
            Warning(
                "SimpleJWT's SIGNING_KEY is Django's SECRET_KEY or shorter than 32 bytes.",
                hint="Give SIMPLE_JWT['SIGNING_KEY'] its own random key of at least 32 bytes, so that a "
                "leak of one secret does not forge the other.",
                id="channels_warden.W004",
            )
        ]
    return []


def _app_checks(authenticators: tuple[Any, ...]) -> list[CheckMessage]:
    installed = {config.label for config in apps.get_app_configs()}
    messages: list[CheckMessage] = []
    for authenticator in authenticators:
        for label in authenticator.required_apps():
            if label not in installed:
                module = APP_MODULES.get(label, label)
                messages.append(
                    Error(
                        f"{type(authenticator).__name__} needs the Django app {label!r}, which is not "
                        "installed: every credential it judges would fail closed (4500).",
                        hint=f"Add {module!r} to INSTALLED_APPS and migrate, or remove the authenticator "
                        "from WARDEN['AUTHENTICATORS'].",
                        id="channels_warden.E003",
                    )
                )
    return messages


def _string_checks() -> list[CheckMessage]:
    user = getattr(settings, "WARDEN", {})
    if not isinstance(user, Mapping):
        return []
    return [
        Error(message, hint="A bare string is read letter by letter.", id="channels_warden.E002")
        for message in string_for_list(user)
    ]


def process_checks() -> list[CheckMessage]:
    """W005 and W006: shared state that a process-local layer or cache keeps in one process."""
    messages: list[CheckMessage] = []
    layer = process_local_layer()
    if layer is not None:
        messages.append(
            Warning(
                f"Revocation reaches this process only: {layer}.",
                hint="Logout, password changes, disconnect() and `manage.py warden_disconnect` from any "
                "other process (a second server, a worker, a management command) close nothing. Use a "
                f"shared layer such as {SHARED_LAYER!r} when the server may run several processes.",
                id="channels_warden.W005",
            )
        )
    for use in process_local_caches(warden_settings):
        messages.append(
            Warning(
                f"The cache {use.alias!r} ({use.backend.rsplit('.', 1)[-1]}) that holds warden's "
                f"{use.feature} is kept by each process to itself.",
                hint=f"With several server processes each one counts and stores alone. Point "
                f"CACHES[{use.alias!r}] (or WARDEN {use.setting}) at a shared cache such as "
                f"{SHARED_CACHE!r}.",
                id="channels_warden.W006",
            )
        )
    return messages


@register(Tags.security)
def check_warden_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Run every channels-warden check."""
    strings = _string_checks()
    if strings:
        return strings
    try:
        transports = warden_settings.transports
        authenticators = warden_settings.authenticators
        warden_settings.allowed_origins  # noqa: B018
        warden_settings.default_permissions  # noqa: B018
        warden_settings.connection_limit  # noqa: B018
        warden_settings.handshake_throttle  # noqa: B018
        warden_settings.identity_cache  # noqa: B018
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="channels_warden.E001")]
    processes = [] if settings.DEBUG else process_checks()
    return (
        _app_checks(authenticators)
        + _transport_checks(transports)
        + _simplejwt_checks(authenticators)
        + processes
    )


@register(Tags.security, deploy=True)
def check_warden_deployment(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Under ``check --deploy``: W005 and W006 even with ``DEBUG`` on (off, the first check gives them)."""
    if not settings.DEBUG:
        return []
    try:
        return process_checks()
    except ImproperlyConfigured:
        return []  # E001 says why
