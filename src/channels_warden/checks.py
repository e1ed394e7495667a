"""System checks (``manage.py check``): configurations that work but leak or invite attacks.

=========================  ==========================================================================
``channels_warden.E001``   ``WARDEN`` cannot be loaded (unknown key, bad import string, bad origin)
``channels_warden.W001``   cookie credentials enabled but ``ALLOWED_ORIGINS`` is empty
``channels_warden.W002``   query-string tokens enabled (URLs end up in logs and history)
``channels_warden.W003``   raw-JWT subprotocol compatibility enabled (the token is echoed back)
``channels_warden.W004``   SimpleJWT signs with ``SECRET_KEY`` or with an HMAC key under 32 bytes
=========================  ==========================================================================
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from .conf import warden_settings
from .tickets import TicketTransport
from .transports import CookieTransport, QueryStringTransport, RawJWTSubprotocolTransport

MIN_HMAC_KEY_BYTES = 32


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


def _simplejwt_checks() -> list[CheckMessage]:
    if "rest_framework_simplejwt" not in settings.INSTALLED_APPS and not any(
        "SimpleJWTAuthenticator" in str(entry) for entry in warden_settings.AUTHENTICATORS
    ):
        return []
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


@register(Tags.security)
def check_warden_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Run every channels-warden check."""
    try:
        transports = warden_settings.transports
        warden_settings.authenticators  # noqa: B018  (instantiating them validates their options)
        warden_settings.allowed_origins  # noqa: B018
        warden_settings.default_permissions  # noqa: B018
        warden_settings.connection_limit  # noqa: B018
        warden_settings.handshake_throttle  # noqa: B018
        warden_settings.identity_cache  # noqa: B018
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="channels_warden.E001")]
    return _transport_checks(transports) + _simplejwt_checks()
