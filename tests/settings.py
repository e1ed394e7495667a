"""Settings for the test suite and for the servers the end-to-end tests start.

The end-to-end servers run in other processes and must see the rows the tests write, so the test
database is a SQLite file (WAL mode) named by ``WARDEN_TEST_DB``; pytest-django creates it, the
servers open it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
# One file per test run (the servers get its name through WARDEN_TEST_DB), so runs never collide.
TEST_DB = os.environ.get("WARDEN_TEST_DB") or os.path.join(
    tempfile.gettempdir(), f"warden-tests-{os.getpid()}.sqlite3"
)

SECRET_KEY = "tests-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
DEBUG = False
# "*" for the in-process tests (their scopes name many hosts, or none); the hostile-input suite runs
# a server with a real list to prove that warden checks the handshake's Host against it.
ALLOWED_HOSTS = os.environ.get("WARDEN_TEST_ALLOWED_HOSTS", "*").split(",")
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
    "tests.project",  # its warden.py declares the group policies the end-to-end tests use
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": TEST_DB,
        "TEST": {"NAME": TEST_DB},
        "OPTIONS": {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"},
    }
}

# PostgreSQL on 127.0.0.1:5432 for the tests that need real transactions next to other connections
# (tests/test_triggers_commit.py); only tests that ask for the "postgres" alias create its database.
DATABASES["postgres"] = {
    "ENGINE": "django.db.backends.postgresql",
    "HOST": os.environ.get("WARDEN_TEST_PGHOST", "127.0.0.1"),
    "PORT": os.environ.get("WARDEN_TEST_PGPORT", "5432"),
    "USER": os.environ.get("WARDEN_TEST_PGUSER", "postgres"),
    "NAME": "postgres",
    "TEST": {"NAME": f"warden_tests_{os.getpid()}"},
}

# The cache session engine's end-to-end test runs a server with sessions in its local memory.
if os.environ.get("WARDEN_TEST_SESSION_ENGINE"):
    SESSION_ENGINE = os.environ["WARDEN_TEST_SESSION_ENGINE"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CHANNEL_LAYERS: dict[str, dict[str, Any]] = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast, tests only
ASGI_APPLICATION = "tests.project.asgi.application"

# AUDIENCE and ISSUER are set so the end-to-end tests can show that a token for another audience or
# from another issuer is refused. SimpleJWT's own AccessToken.for_user (and credential_for) add both
# claims; a token crafted with PyJWT must add them itself.
SIMPLE_JWT = {
    "SIGNING_KEY": "tests-only-jwt-signing-key-ffffffffffffffffffffffffffffffff",
    "ALGORITHM": "HS256",
    "AUDIENCE": "channels-warden-tests",
    "ISSUER": "https://auth.testserver",
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

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "channels_warden.http.SessionContextMiddleware",
]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
}

# The multi-process suites run their servers (and tests) against a Redis they start themselves.
REDIS_URL = os.environ.get("WARDEN_TEST_REDIS_URL")
if REDIS_URL:
    # redis-py 8 gives every socket a 5 s read timeout, the length of channels_redis' blocking
    # BZPOPMIN, so idle receives fail with TimeoutError (django/channels_redis#422): read longer.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 10}]},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
