"""The ``WARDEN`` settings, read lazily.

Settings are read on first use, never at import, and forgotten whenever Django's ``setting_changed``
fires for ``WARDEN`` (so ``override_settings`` and pytest-django's ``settings`` fixture work). Classes
are named by import string, optionally with options::

    WARDEN = {
        "AUTHENTICATORS": [
            "channels_warden.authenticators.SessionAuthenticator",
            {"CLASS": "channels_warden.authenticators.SimpleJWTAuthenticator",
             "OPTIONS": {"mode": "stateless"}},
        ],
    }

A middleware may carry its own overrides (``WardenMiddleware(app, settings={...})``); they are laid
over ``WARDEN``, which is laid over :data:`DEFAULTS`.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from functools import cached_property
from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

from .origins import Origin, parse_allowed_origin

DEFAULTS: dict[str, Any] = {
    # Where credentials are found, in this order (explicit credentials are judged before cookies).
    "TRANSPORTS": [
        "channels_warden.transports.SessionCookieTransport",
        "channels_warden.transports.AuthorizationHeaderTransport",
        "channels_warden.transports.SubprotocolTransport",
    ],
    # Transports appended to TRANSPORTS: enable one more without copying out the defaults.
    "EXTRA_TRANSPORTS": [],
    # What credentials mean; each claims the schemes it understands.
    "AUTHENTICATORS": ["channels_warden.authenticators.SessionAuthenticator"],
    # Full origins (scheme://host[:port]) trusted to open sockets.
    "ALLOWED_ORIGINS": [],
    # Trust an Origin whose host and port equal the request's Host header.
    "ALLOW_SAME_ORIGIN": True,
    # Admit clients that send no Origin (non-browser clients), never with cookie credentials.
    "ALLOW_MISSING_ORIGIN": False,
    # Route policy used where no guard() says otherwise.
    "ALLOW_ANONYMOUS": False,
    "DEFAULT_PERMISSIONS": [],
    # "close": accept, send a JSON frame, close with the code. "deny": refuse the HTTP handshake.
    "REJECT_MODE": "close",
    # Any single credential larger than this is refused without being decoded.
    "MAX_CREDENTIAL_BYTES": 8192,
    # The subprotocol clients offer next to "<scheme>.<token>", and that the server echoes.
    "SUBPROTOCOL": "warden",
    # Realm in the WWW-Authenticate header of deny mode.
    "REALM": "websocket",
    # Routes without a guard() wait for a {"type": "warden.auth"} frame when no credential came.
    "FIRST_MESSAGE_AUTH": False,
    # Seconds a first-message route waits for that frame before closing with 4408.
    "AUTH_TIMEOUT": 10,
    # Seconds before a live socket's credential ends at which a warden.expiring frame is sent.
    "EXPIRY_WARNING": 30,
    # Seconds after which any socket is closed with 4498, whatever its credential (None: no cap).
    "MAX_CONNECTION_AGE": None,
    # Seconds a closing socket (revoked, evicted, expired) may take to accept its close frames before
    # warden drops its TCP connection: a client that stops reading must not hold anything up.
    "CLOSE_TIMEOUT": 2,
    # Seconds a one-time ticket stays redeemable, and the cache alias that stores tickets.
    "TICKET_TTL": 30,
    "TICKET_CACHE": "default",
    # Per-user socket limit across processes, e.g. {"MAX": 5, "POLICY": "evict_oldest"} (see limits.py).
    "CONNECTION_LIMIT": None,
    # Failed handshakes allowed per client address, e.g. {"FAILURES": 20, "WINDOW": 60}.
    "HANDSHAKE_THROTTLE": None,
    # Per-process cache of verified tokens, e.g. {"TTL": 60, "MAX_ENTRIES": 10000} (see identity_cache.py).
    "IDENTITY_CACHE": None,
    # Query parameters scrubbed from server log lines by RedactCredentialsFilter.
    "REDACT_QUERY_PARAMETERS": ["token", "ticket", "access_token"],
    # Group policies and how strict joins are (see channels_warden.groups.settings).
    "GROUPS": {},
    # Subprotocol -> adapter for clients that speak a protocol of their own (see protocols/).
    "PROTOCOL_ADAPTERS": {
        "graphql-transport-ws": "channels_warden.protocols.GraphQLTransportWSAdapter",
        "graphql-ws": "channels_warden.protocols.GraphQLWSAdapter",
    },
}

REJECT_MODES = ("close", "deny")
#: Settings that hold a list: a bare string there is a mistake (it would be read letter by letter).
LIST_SETTINGS = (
    "TRANSPORTS",
    "EXTRA_TRANSPORTS",
    "AUTHENTICATORS",
    "ALLOWED_ORIGINS",
    "DEFAULT_PERMISSIONS",
    "REDACT_QUERY_PARAMETERS",
)


def string_for_list(values: Mapping[str, Any]) -> list[str]:
    """One message per list setting given a bare string, saying how to write it."""
    return [
        f"WARDEN['{name}'] must be a list, not the string {values[name]!r}; write [{values[name]!r}]."
        for name in LIST_SETTINGS
        if isinstance(values.get(name), str | bytes)
    ]


_live_settings: weakref.WeakSet[WardenSettings] = weakref.WeakSet()


def build_instance(entry: Any, kind: str) -> Any:
    """Instantiate an import string, a ``{"CLASS": ..., "OPTIONS": {...}}`` dict, or pass an instance."""
    if isinstance(entry, str):
        path, options = entry, {}
    elif isinstance(entry, Mapping):
        if set(entry) - {"CLASS", "OPTIONS"} or "CLASS" not in entry:
            raise ImproperlyConfigured(
                f"WARDEN {kind} entry {dict(entry)!r} must look like {{'CLASS': 'path', 'OPTIONS': {{...}}}}."
            )
        path, options = entry["CLASS"], dict(entry.get("OPTIONS", {}))
    else:
        return entry
    try:
        cls = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"WARDEN {kind} {path!r} could not be imported: {exc}") from exc
    try:
        return cls(**options)
    except TypeError as exc:
        raise ImproperlyConfigured(f"WARDEN {kind} {path!r} rejected its OPTIONS {options!r}: {exc}") from exc


class WardenSettings:
    """Attribute access to ``WARDEN`` with defaults, validated and cached until the next change."""

    def __init__(self, overrides: Mapping[str, Any] | None = None) -> None:
        self._overrides = dict(overrides or {})
        self._check_keys(self._overrides, "override")
        _live_settings.add(self)

    @staticmethod
    def _check_keys(values: Mapping[str, Any], where: str) -> None:
        unknown = sorted(set(values) - set(DEFAULTS))
        if unknown:
            raise ImproperlyConfigured(
                f"Unknown WARDEN {where} key(s) {', '.join(unknown)}; valid keys are {', '.join(DEFAULTS)}."
            )

    @cached_property
    def _values(self) -> dict[str, Any]:
        user = getattr(django_settings, "WARDEN", {})
        if not isinstance(user, Mapping):
            raise ImproperlyConfigured("settings.WARDEN must be a dict.")
        self._check_keys(user, "setting")
        values = {**DEFAULTS, **user, **self._overrides}
        mistakes = string_for_list(values)
        if mistakes:
            raise ImproperlyConfigured(mistakes[0])
        if values["REJECT_MODE"] not in REJECT_MODES:
            raise ImproperlyConfigured(
                f"WARDEN REJECT_MODE must be one of {REJECT_MODES}, not {values['REJECT_MODE']!r}."
            )
        return values

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"Invalid WARDEN setting: {name!r}")
        # Kept as an attribute, so the next read skips __getattr__ (handshakes read a dozen).
        value = self.__dict__[name] = self._values[name]
        return value

    @cached_property
    def transports(self) -> tuple[Any, ...]:
        """Transport instances: ``TRANSPORTS`` in order, then ``EXTRA_TRANSPORTS``."""
        entries = [*self.TRANSPORTS, *self.EXTRA_TRANSPORTS]
        return tuple(build_instance(entry, "transport") for entry in entries)

    @cached_property
    def authenticators(self) -> tuple[Any, ...]:
        """Authenticator instances, in the configured order."""
        return tuple(build_instance(entry, "authenticator") for entry in self.AUTHENTICATORS)

    @cached_property
    def default_permissions(self) -> tuple[Any, ...]:
        """Permission instances applied to routes without a guard."""
        return tuple(build_instance(entry, "permission") for entry in self.DEFAULT_PERMISSIONS)

    @cached_property
    def allowed_origins(self) -> frozenset[Origin]:
        """The allow-list, normalised so that default ports compare equal."""
        return frozenset(parse_allowed_origin(value) for value in self.ALLOWED_ORIGINS)

    @cached_property
    def connection_limit(self) -> Any:
        """The validated ``CONNECTION_LIMIT`` (a ``LimitConfig``) or ``None``."""
        from .limits import LimitConfig

        return LimitConfig.from_setting(self.CONNECTION_LIMIT)

    @cached_property
    def handshake_throttle(self) -> Any:
        """The validated ``HANDSHAKE_THROTTLE`` (a ``ThrottleConfig``) or ``None``."""
        from .throttle import ThrottleConfig

        return ThrottleConfig.from_setting(self.HANDSHAKE_THROTTLE)

    @cached_property
    def identity_cache(self) -> Any:
        """The validated ``IDENTITY_CACHE`` (a ``CacheConfig``) or ``None``."""
        from .identity_cache import CacheConfig

        return CacheConfig.from_setting(self.IDENTITY_CACHE)

    @cached_property
    def protocol_adapters(self) -> dict[str, Any]:
        """Subprotocol -> adapter instance.

        The setting is laid over the default entries, so ``{"graphql-ws": None}`` turns off just that
        one; ``None`` for the whole setting turns every adapter off.
        """
        if self.PROTOCOL_ADAPTERS is None:
            return {}
        entries = {**DEFAULTS["PROTOCOL_ADAPTERS"], **dict(self.PROTOCOL_ADAPTERS)}
        return {
            str(protocol): build_instance(entry, "protocol adapter")
            for protocol, entry in entries.items()
            if entry is not None
        }

    def reload(self) -> None:
        """Forget everything read so far; the next access reads the settings again."""
        for name in (
            "_values",
            "transports",
            "authenticators",
            "default_permissions",
            "allowed_origins",
            "connection_limit",
            "handshake_throttle",
            "identity_cache",
            "protocol_adapters",
            *DEFAULTS,
        ):
            self.__dict__.pop(name, None)


warden_settings = WardenSettings()


def _reload_on_change(*, setting: str, **kwargs: Any) -> None:
    if setting in ("WARDEN", "SESSION_COOKIE_NAME", "AUTHENTICATION_BACKENDS", "SIMPLE_JWT"):
        for instance in list(_live_settings):
            instance.reload()


setting_changed.connect(_reload_on_change)
