"""Settings for the channels-warden demo, read from the environment.

Every variable has a default that is safe on a developer's machine (in-memory channel layer,
local-memory cache, SQLite, development keys), so ``make demo`` needs no configuration. Growing the
demo into a deployment is a matter of variables, not code:

- ``DJANGO_SECRET_KEY``: Django's secret key; required when debug is off.
- ``DJANGO_DEBUG``: ``1``/``0``, ``true``/``false``, ``yes``/``no``, ``on``/``off``; default on.
- ``DJANGO_ALLOWED_HOSTS``: comma-separated hosts; default ``localhost,127.0.0.1,[::1]``.
- ``DJANGO_CSRF_TRUSTED_ORIGINS``: comma-separated full origins Django's CSRF check trusts besides
  the request's own; needed behind a TLS proxy that the server cannot read the scheme from (daphne).
- ``WARDEN_ALLOWED_ORIGINS``: comma-separated full origins trusted to open sockets; default
  ``http://127.0.0.1:8000,http://localhost:8000``. A page is also trusted on its own host and port.
- ``REDIS_URL``: ``redis://host:port/db`` switches the channel layer and the cache to Redis; default
  in-process (one server process only).
- ``DATABASE_URL``: ``postgres://user:password@host:port/name``, ``sqlite:///relative/path`` (from
  ``example/``) or ``sqlite:////absolute/path``; default ``example/db.sqlite3``.
- ``JWT_SIGNING_KEY``: SimpleJWT's HMAC key, at least 32 bytes; required when debug is off.
- ``JWT_ACCESS_LIFETIME``: seconds an access token lives; default 300.
- ``CHAT_PRESENCE_LEASE``: seconds a crashed process's sockets may linger in a room's presence;
  default 60 (see ``chat.presence``).
- ``WARDEN_COMPAT``: ``seeds`` turns on the compatibility transports that the clients of the three
  posts this project was born from need, unchanged (``docs/migration.md``): a SimpleJWT access token
  as the only subprotocol from a React app on ``http://localhost:3000``, ``?token=<DRF token>`` in
  the query string, a DRF token in a cookie named ``key``. ``manage.py check`` then shows the
  warnings W002 and W003. Unset: none of them (the default).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env(name: str, default: str) -> str:
    """The variable's value; unset and empty both mean ``default``."""
    return os.environ.get(name) or default


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean; use 1/0, true/false, yes/no or on/off.")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def env_seconds(name: str, default: int) -> timedelta:
    value = env(name, str(default))
    try:
        seconds = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number of seconds.") from None
    if seconds <= 0:
        raise ImproperlyConfigured(f"{name} must be positive, not {seconds}.")
    return timedelta(seconds=seconds)


def database_from_url(url: str) -> dict[str, Any]:
    """A ``DATABASES`` entry for a ``postgres://`` or ``sqlite:///`` URL.

    PostgreSQL: ``postgres://user:password@host:port/name?sslmode=require`` (user, password and
    name are percent-decoded; query parameters become connection ``OPTIONS``). SQLite:
    ``sqlite:///db.sqlite3`` is relative to ``example/``, ``sqlite:////tmp/db.sqlite3`` is absolute.
    """
    parts = urlsplit(url)
    if parts.scheme in ("postgres", "postgresql", "pgsql"):
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ImproperlyConfigured("DATABASE_URL names no database; end it with /<name>.")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "OPTIONS": dict(parse_qsl(parts.query)),
        }
    if parts.scheme == "sqlite":
        if parts.netloc or not parts.path.startswith("/") or parts.path == "/":
            raise ImproperlyConfigured(
                "A SQLite DATABASE_URL looks like sqlite:///relative/path or sqlite:////absolute/path."
            )
        return sqlite_database(BASE_DIR / unquote(parts.path[1:]))
    raise ImproperlyConfigured(
        f"DATABASE_URL scheme {parts.scheme!r} is not supported; use postgres:// or sqlite:///."
    )


def sqlite_database(path: Path) -> dict[str, Any]:
    # The timeout lets the server and a management command (seed_demo) share the file.
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": path, "OPTIONS": {"timeout": 20}}


DEBUG = env_bool("DJANGO_DEBUG", True)

_DEV_SECRET_KEY = "django-insecure-warden-demo-key-not-for-production-0123456789"
_DEV_JWT_KEY = "warden-demo-jwt-signing-key-not-for-production-abcdefghij"
SECRET_KEY = env("DJANGO_SECRET_KEY", _DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY == _DEV_SECRET_KEY:
    raise ImproperlyConfigured("Set DJANGO_SECRET_KEY: the development key is public.")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "rest_framework_simplejwt",
    "channels_warden",
    "chat",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A password change closes the user's other sockets and keeps this session's (live-connections.md).
    "channels_warden.http.SessionContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "chatsite.urls"
ASGI_APPLICATION = "chatsite.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_DATABASE_URL = os.environ.get("DATABASE_URL")
DATABASES = {
    "default": database_from_url(_DATABASE_URL) if _DATABASE_URL else sqlite_database(BASE_DIR / "db.sqlite3")
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        # redis-py 8 reads with a 5 s socket timeout, the length of channels_redis' blocking receive:
        # without a longer one every idle consumer dies after 5 s (channels_redis issue 422).
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 10}]},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "index"
LOGOUT_REDIRECT_URL = "index"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Errors as {"error": <code>, "detail": <sentence>} (docs/chat-api.md).
    "EXCEPTION_HANDLER": "chat.api.exception_handler",
}

JWT_SIGNING_KEY = env("JWT_SIGNING_KEY", _DEV_JWT_KEY)
if not DEBUG and JWT_SIGNING_KEY == _DEV_JWT_KEY:
    raise ImproperlyConfigured("Set JWT_SIGNING_KEY: the development key is public.")
SIMPLE_JWT = {
    "ALGORITHM": "HS256",
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "ACCESS_TOKEN_LIFETIME": env_seconds("JWT_ACCESS_LIFETIME", 300),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
}

WARDEN: dict[str, Any] = {
    # Where credentials are found: the browser's session cookie, "Authorization: Bearer|Token ..."
    # from terminal and mobile clients, "Sec-WebSocket-Protocol: warden, bearer.<jwt>" from
    # browser pages on other origins, and one-time tickets from POST /api/auth/ticket/ in ?ticket=.
    # The chat routes also wait for a {"type": "warden.auth"} first frame (chat.routing).
    "TRANSPORTS": [
        "channels_warden.transports.SessionCookieTransport",
        "channels_warden.transports.AuthorizationHeaderTransport",
        "channels_warden.transports.SubprotocolTransport",
        "channels_warden.tickets.TicketTransport",
    ],
    "AUTHENTICATORS": [
        "channels_warden.authenticators.SessionAuthenticator",
        "channels_warden.authenticators.DRFTokenAuthenticator",
        "channels_warden.authenticators.SimpleJWTAuthenticator",
        "channels_warden.tickets.TicketAuthenticator",
    ],
    "ALLOWED_ORIGINS": env_list("WARDEN_ALLOWED_ORIGINS", "http://127.0.0.1:8000,http://localhost:8000"),
    # Terminal clients send no Origin; they may connect with a token. A session cookie still needs a
    # trusted Origin, so a hostile page cannot ride a logged-in browser's cookie.
    "ALLOW_MISSING_ORIGIN": True,
}

# Compatibility profiles (WARDEN_COMPAT): transports appended to the ones above, for old clients
# that cannot change yet. Each one is a warning in `manage.py check`; docs/migration.md shows the
# two-line move of each client to the safe form, after which the profile can go.
COMPAT_PROFILES: dict[str, dict[str, list[Any]]] = {
    "seeds": {
        "EXTRA_TRANSPORTS": [
            # 000: new WebSocket(url, accessToken), a raw JWT as the only subprotocol (W003).
            "channels_warden.transports.RawJWTSubprotocolTransport",
            # 001: ws://.../ws/chat/?token=<DRF token> (W002; RedactCredentialsFilter keeps it out of logs).
            {
                "CLASS": "channels_warden.transports.QueryStringTransport",
                "OPTIONS": {"parameter": "token", "scheme": "token"},
            },
            # 002: Cookie: key=<DRF token>; a cookie needs a trusted Origin like any cookie credential.
            {
                "CLASS": "channels_warden.transports.CookieTransport",
                "OPTIONS": {"cookie": "key", "scheme": "token"},
            },
        ],
        # The React app of 000 and 002.
        "ALLOWED_ORIGINS": ["http://localhost:3000"],
    },
}
WARDEN_COMPAT = env("WARDEN_COMPAT", "")
if WARDEN_COMPAT:
    if WARDEN_COMPAT not in COMPAT_PROFILES:
        raise ImproperlyConfigured(
            f"WARDEN_COMPAT={WARDEN_COMPAT!r} is not a profile; use one of {', '.join(COMPAT_PROFILES)}."
        )
    _profile = COMPAT_PROFILES[WARDEN_COMPAT]
    WARDEN["EXTRA_TRANSPORTS"] = _profile["EXTRA_TRANSPORTS"]
    WARDEN["ALLOWED_ORIGINS"] = [*WARDEN["ALLOWED_ORIGINS"], *_profile["ALLOWED_ORIGINS"]]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "channels_warden.logging.RedactCredentialsFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact"]}},
    "loggers": {
        "channels_warden": {"handlers": ["console"], "level": "INFO"},
        "chat": {"handlers": ["console"], "level": "INFO"},
    },
}

CHAT_PRESENCE_LEASE = env_seconds("CHAT_PRESENCE_LEASE", 60).total_seconds()
