"""Settings for the test suite and for the servers the end-to-end tests start.

The end-to-end servers run in other processes and must see the rows the tests write, so the test
database is a SQLite file (WAL mode) named by ``WARDEN_TEST_DB``; pytest-django creates it, the
servers open it.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
TEST_DB = os.environ.get("WARDEN_TEST_DB", str(BASE_DIR / ".test-db.sqlite3"))

SECRET_KEY = "tests-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
ROOT_URLCONF = "tests.project.urls"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "rest_framework",
    "rest_framework.authtoken",
    "knox",
    "channels_warden",
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": TEST_DB,
        "TEST": {"NAME": TEST_DB},
        "OPTIONS": {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"},
    }
}

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast, tests only
ASGI_APPLICATION = "tests.project.asgi.application"

SIMPLE_JWT = {
    "SIGNING_KEY": "tests-only-jwt-signing-key-ffffffffffffffffffffffffffffffff",
    "ALGORITHM": "HS256",
}

WARDEN = {
    "TRANSPORTS": [
        "channels_warden.transports.SessionCookieTransport",
        "channels_warden.transports.AuthorizationHeaderTransport",
        "channels_warden.transports.SubprotocolTransport",
        {"CLASS": "channels_warden.transports.CookieTransport", "OPTIONS": {"cookie": "access_token"}},
    ],
    "AUTHENTICATORS": [
        "channels_warden.authenticators.SessionAuthenticator",
        "channels_warden.authenticators.DRFTokenAuthenticator",
        "channels_warden.authenticators.SimpleJWTAuthenticator",
    ],
    "ALLOWED_ORIGINS": ["http://testserver", "http://localhost:3000"],
    "ALLOW_MISSING_ORIGIN": True,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"channels_warden": {"handlers": ["console"], "level": "INFO"}},
}
