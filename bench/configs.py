"""The handshake configurations under test, shared by the bench server and the runner.

Each configuration is one route of the bench server (``/ws/<name>/``). The server builds its ASGI
application from :data:`CONFIGS`; the runner reads the same entries to know which credential to
send and how to label the result. Peers are built only when their package imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Credential = Literal[
    "none",
    "session",
    "session_signed",
    "drf",
    "jwt_db",
    "jwt_stateless",
    "ticket",
    "first_message",
    "jwt_query",
]
Cache = Literal["cold", "warm"] | None


@dataclass(frozen=True)
class Config:
    """One route of the bench server.

    Attributes:
        name: route and result key.
        label: what the tables call it.
        family: ``baseline``, ``warden``, ``peer`` or ``calibration`` (measured only on request).
        credential: what the client sends (see :mod:`bench.credentials`).
        cache: ``cold`` (a token the process never saw; ``IDENTITY_CACHE`` off), ``warm`` (a token
            this process already verified; ``IDENTITY_CACHE`` on), ``None`` where no cache applies.
            For sessions, warm means the session's *user* is cached: the session row is read anyway.
        package: the PyPI distribution a peer comes from (``None`` for Channels and warden).
        module: the module that must import for a peer to be measured.
    """

    name: str
    label: str
    family: Literal["baseline", "warden", "peer", "calibration"]
    credential: Credential
    cache: Cache = None
    package: str | None = None
    module: str | None = None

    @property
    def path(self) -> str:
        return f"/ws/{self.name}/"


BASELINE = Config("baseline", "no auth (plain Channels consumer)", "baseline", "none")

CONFIGS: tuple[Config, ...] = (
    BASELINE,
    Config("warden_session", "warden: session", "warden", "session", "cold"),
    Config("warden_session_warm", "warden: session", "warden", "session", "warm"),
    Config("warden_session_signed", "warden: session (signed cookies)", "warden", "session_signed", "warm"),
    Config("warden_drf_cold", "warden: DRF token", "warden", "drf", "cold"),
    Config("warden_drf_warm", "warden: DRF token", "warden", "drf", "warm"),
    Config("warden_jwt_db_cold", "warden: SimpleJWT database", "warden", "jwt_db", "cold"),
    Config("warden_jwt_db_warm", "warden: SimpleJWT database", "warden", "jwt_db", "warm"),
    Config("warden_jwt_stateless_cold", "warden: SimpleJWT stateless", "warden", "jwt_stateless", "cold"),
    Config("warden_jwt_stateless_warm", "warden: SimpleJWT stateless", "warden", "jwt_stateless", "warm"),
    Config("warden_ticket", "warden: one-time ticket", "warden", "ticket"),
    Config("warden_first_message", "warden: first message (stateless JWT)", "warden", "first_message"),
    Config(
        "peer_auth_stack",
        "Channels AuthMiddlewareStack (database sessions)",
        "peer",
        "session",
        package="channels",
        module="channels.auth",
    ),
    Config(
        "peer_token_drf",
        "channels-auth-token-middlewares: DRF",
        "peer",
        "drf",
        package="channels-auth-token-middlewares",
        module="channels_auth_token_middlewares.middleware",
    ),
    Config(
        "peer_token_jwt",
        "channels-auth-token-middlewares: SimpleJWT",
        "peer",
        "jwt_db",
        package="channels-auth-token-middlewares",
        module="channels_auth_token_middlewares.middleware",
    ),
    Config(
        "peer_jwt_stateless",
        "django-channels-jwt-stateless",
        "peer",
        "jwt_query",
        package="django-channels-jwt-stateless",
        module="django_channels_jwt_stateless",
    ),
    # Not measured by default (``--configs calibration_50,calibration_150``): the plain consumer
    # behind a middleware that spends a fixed CPU time in Python, to read any ratio as microseconds.
    Config("calibration_50", "calibration: plain consumer + 50 µs of Python", "calibration", "none"),
    Config("calibration_150", "calibration: plain consumer + 150 µs of Python", "calibration", "none"),
)

BY_NAME = {config.name: config for config in CONFIGS}


def peer_available(config: Config) -> str | None:
    """``None`` when the peer's module imports, else why it does not."""
    if config.module is None:
        return None
    from importlib import import_module

    try:
        import_module(config.module)
    except ImportError as exc:
        return f"{config.package} is not installed ({exc}); install the bench group"
    return None
