"""Settings of the bench server and of the runner that seeds its database.

The database is a SQLite file (WAL) named by ``WARDEN_BENCH_DB``, so that the runner can create
users, tokens and sessions the server then reads. Connections are persistent (``CONN_MAX_AGE``)
as in production deployments; every route shares them, so the comparison stays fair. The channel
layer is in memory unless ``WARDEN_BENCH_REDIS_URL`` names the Redis of a two-process run, and
absent when ``WARDEN_BENCH_NO_CHANNEL_LAYER`` is set (the memory servers).
"""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from typing import Any

SECRET_KEY = "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz-0123456789"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
ROOT_URLCONF = "bench.project.urls"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "rest_framework",
    "rest_framework.authtoken",
    "channels_warden",
]
MIDDLEWARE: list[str] = []

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("WARDEN_BENCH_DB")
        or os.path.join(tempfile.gettempdir(), "warden-bench.sqlite3"),
        "CONN_MAX_AGE": 600,
        "OPTIONS": {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"},
    }
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CHANNEL_LAYERS: dict[str, dict[str, Any]] = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
REDIS_URL = os.environ.get("WARDEN_BENCH_REDIS_URL")
if os.environ.get("WARDEN_BENCH_NO_CHANNEL_LAYER"):
    # The memory servers: Channels' in-memory layer sweeps every channel on every receive, which
    # makes holding 10k consumers quadratic; a consumer's layer structures are the same with or
    # without warden, so the extra bytes per connection do not change.
    CHANNEL_LAYERS = {}
elif REDIS_URL:
    # socket_timeout above channels_redis' 5 s blocking receive (channels_redis issue 422).
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 10}]},
        }
    }

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # users are seeded, never log in

JWT_SIGNING_KEY = "bench-only-jwt-signing-key-ffffffffffffffffffffffffffffffffffffffff"
SIMPLE_JWT = {
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "ALGORITHM": "HS256",
    "ACCESS_TOKEN_LIFETIME": timedelta(hours=1),
}
# django-channels-jwt-stateless reads its own settings; same key and claim as SimpleJWT's tokens.
CHANNELS_JWT_STATELESS = {"SIGNING_KEY": JWT_SIGNING_KEY, "ALGORITHM": "HS256", "USER_ID_CLAIM": "user_id"}

ORIGIN = "http://bench.local"
WARDEN = {"ALLOWED_ORIGINS": [ORIGIN]}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
