"""System checks: each warning fires exactly when its configuration is present."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import Error, Warning

from channels_warden.checks import check_warden_settings
from channels_warden.conf import DEFAULTS

SESSION = "channels_warden.transports.SessionCookieTransport"
HEADER = "channels_warden.transports.AuthorizationHeaderTransport"
QUERY = "channels_warden.transports.QueryStringTransport"
RAW_JWT = "channels_warden.transports.RawJWTSubprotocolTransport"
JWT_AUTHENTICATOR = "channels_warden.authenticators.SimpleJWTAuthenticator"
STRONG_KEY = "k" * 32


@pytest.fixture(autouse=True)
def debug_on(settings: Any) -> None:
    """DEBUG on, as on a developer's machine: the multi-process checks (W005, W006) stay quiet.

    The test settings run one process with the in-memory layer and cache; the tests of W005 and
    W006 turn DEBUG off themselves.
    """
    settings.DEBUG = True


def ids(settings: Any, **warden: Any) -> list[str]:
    """The check ids raised for WARDEN = the test settings with ``warden`` laid over them."""
    settings.WARDEN = {**settings.WARDEN, **warden}
    return [message.id for message in check_warden_settings()]


def test_test_settings_are_clean() -> None:
    """The test project's configuration raises nothing."""
    assert check_warden_settings() == []


def test_w001_cookie_transport_without_allowed_origins(settings: Any) -> None:
    """Cookie credentials with an empty allow-list warn W001."""
    assert ids(settings, ALLOWED_ORIGINS=[]) == ["channels_warden.W001"]


def test_w001_message_and_hint(settings: Any) -> None:
    """W001 says what is wrong and how to fix it."""
    settings.WARDEN = {**settings.WARDEN, "ALLOWED_ORIGINS": []}
    assert check_warden_settings() == [
        Warning(
            "Cookie credentials are enabled but WARDEN['ALLOWED_ORIGINS'] is empty.",
            hint="Only same-origin pages can use cookie credentials. List the full origins of your "
            "front ends (e.g. 'https://app.example.com') to allow cross-origin pages.",
            id="channels_warden.W001",
        )
    ]


def test_w001_silent_without_cookie_transports(settings: Any) -> None:
    """An empty allow-list is fine when no transport reads cookies."""
    assert ids(settings, ALLOWED_ORIGINS=[], TRANSPORTS=[HEADER]) == []


def test_w002_query_string_transport(settings: Any) -> None:
    """Query-string tokens warn W002."""
    assert ids(settings, TRANSPORTS=[HEADER, QUERY]) == ["channels_warden.W002"]


def test_w003_raw_jwt_subprotocol_transport(settings: Any) -> None:
    """The raw-JWT compatibility transport warns W003."""
    assert ids(settings, TRANSPORTS=[HEADER, RAW_JWT]) == ["channels_warden.W003"]


def test_w004_signing_key_is_secret_key(settings: Any) -> None:
    """SimpleJWT signing with SECRET_KEY warns W004."""
    settings.SIMPLE_JWT = {"ALGORITHM": "HS256", "SIGNING_KEY": settings.SECRET_KEY}
    assert ids(settings) == ["channels_warden.W004"]


def test_w004_short_hmac_key(settings: Any) -> None:
    """An HMAC key under 32 bytes warns W004."""
    settings.SIMPLE_JWT = {"ALGORITHM": "HS512", "SIGNING_KEY": "k" * 31}
    assert ids(settings) == ["channels_warden.W004"]


def test_w004_short_bytes_key(settings: Any) -> None:
    """A bytes key is measured in bytes too."""
    settings.SIMPLE_JWT = {"ALGORITHM": "HS256", "SIGNING_KEY": b"k" * 31}
    assert ids(settings) == ["channels_warden.W004"]


def test_w004_silent_for_a_strong_key(settings: Any) -> None:
    """A distinct key of 32 bytes raises nothing."""
    settings.SIMPLE_JWT = {"ALGORITHM": "HS256", "SIGNING_KEY": STRONG_KEY}
    assert ids(settings) == []


def test_w004_silent_for_asymmetric_algorithms(settings: Any) -> None:
    """RS256 has no shared secret to be short."""
    settings.SIMPLE_JWT = {"ALGORITHM": "RS256", "SIGNING_KEY": "short", "VERIFYING_KEY": "short"}
    assert ids(settings) == []


def test_w004_silent_when_simplejwt_is_not_used(settings: Any) -> None:
    """A weak SimpleJWT key does not matter when warden does not use SimpleJWT."""
    settings.SIMPLE_JWT = {"ALGORITHM": "HS256", "SIGNING_KEY": "short"}
    assert ids(settings, AUTHENTICATORS=["channels_warden.authenticators.SessionAuthenticator"]) == []


def test_w004_for_an_authenticator_given_as_a_dict(settings: Any) -> None:
    """A CLASS/OPTIONS entry for SimpleJWT counts as using SimpleJWT."""
    settings.SIMPLE_JWT = {"ALGORITHM": "HS256", "SIGNING_KEY": "short"}
    entry = {"CLASS": JWT_AUTHENTICATOR, "OPTIONS": {"mode": "stateless"}}
    assert ids(settings, AUTHENTICATORS=[entry]) == ["channels_warden.W004"]


def test_w004_silent_when_simplejwt_is_only_an_installed_app(settings: Any) -> None:
    """SimpleJWT in INSTALLED_APPS but not among warden's authenticators is not warden's to judge."""
    settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "rest_framework_simplejwt"]
    settings.SIMPLE_JWT = {"ALGORITHM": "HS256", "SIGNING_KEY": "short"}
    assert ids(settings, AUTHENTICATORS=["channels_warden.authenticators.SessionAuthenticator"]) == []


def test_warnings_accumulate(settings: Any) -> None:
    """Every applicable warning is reported, in id order."""
    settings.SIMPLE_JWT = {"ALGORITHM": "HS256", "SIGNING_KEY": "short"}
    assert ids(settings, ALLOWED_ORIGINS=[], TRANSPORTS=[SESSION, QUERY, RAW_JWT]) == [
        "channels_warden.W001",
        "channels_warden.W002",
        "channels_warden.W003",
        "channels_warden.W004",
    ]


def test_e001_unknown_key(settings: Any) -> None:
    """An unknown WARDEN key is an error carrying the configuration message."""
    settings.WARDEN = {**settings.WARDEN, "ALLOWED_ORIGIN": []}
    assert check_warden_settings() == [
        Error(
            f"Unknown WARDEN setting key(s) ALLOWED_ORIGIN; valid keys are {', '.join(DEFAULTS)}.",
            id="channels_warden.E001",
        )
    ]


def test_e001_bad_import_string(settings: Any) -> None:
    """An authenticator that cannot be imported is E001 and nothing else."""
    assert ids(settings, AUTHENTICATORS=["nowhere.Authenticator"]) == ["channels_warden.E001"]


def test_e001_bad_transport_options(settings: Any) -> None:
    """A transport that refuses its OPTIONS is E001."""
    entry = {"CLASS": HEADER, "OPTIONS": {"keyword": "Bearer"}}
    assert ids(settings, TRANSPORTS=[entry]) == ["channels_warden.E001"]


def test_e001_bad_authenticator_options(settings: Any) -> None:
    """Authenticators are instantiated by the check, so bad OPTIONS are E001."""
    entry = {"CLASS": JWT_AUTHENTICATOR, "OPTIONS": {"mode": "lenient"}}
    settings.WARDEN = {**settings.WARDEN, "AUTHENTICATORS": [entry]}
    assert check_warden_settings() == [
        Error(
            "SimpleJWTAuthenticator mode must be one of ('database', 'stateless'), not 'lenient'.",
            id="channels_warden.E001",
        )
    ]


def test_e001_bad_allowed_origin(settings: Any) -> None:
    """An allow-list entry with a path is E001."""
    assert ids(settings, ALLOWED_ORIGINS=["https://app.example.com/"]) == ["channels_warden.E001"]


def test_w004_silent_when_simplejwt_is_not_installed(settings: Any, monkeypatch: Any) -> None:
    """Without SimpleJWT installed there is no signing key to check."""
    import sys

    settings.SIMPLE_JWT = {"ALGORITHM": "HS256", "SIGNING_KEY": "short"}
    monkeypatch.setitem(sys.modules, "rest_framework_simplejwt.settings", None)
    assert ids(settings) == []


def test_w002_silent_for_the_ticket_transport(settings: Any) -> None:
    """Tickets are single-use and short-lived: the only credential that belongs in a URL."""
    transports = [*settings.WARDEN["TRANSPORTS"], "channels_warden.tickets.TicketTransport"]
    assert "channels_warden.W002" not in ids(settings, TRANSPORTS=transports)


@pytest.mark.parametrize(
    "setting",
    [
        {"CONNECTION_LIMIT": {"MAX": 0}},
        {"HANDSHAKE_THROTTLE": {"FAILURES": "many", "WINDOW": 60}},
        {"DEFAULT_PERMISSIONS": ["channels_warden.permissions.NoSuchPermission"]},
    ],
)
def test_e001_for_settings_read_only_at_connect_time(settings: Any, setting: dict[str, Any]) -> None:
    """A bad limit, throttle or permission is an E001 at start-up, not a 4500 on every socket."""
    assert ids(settings, **setting) == ["channels_warden.E001"]


def test_e002_a_string_where_a_list_belongs(settings: Any) -> None:
    """ALLOWED_ORIGINS = "http://..." is E002 saying how to write it, not "entry 'h' is not an origin"."""
    settings.WARDEN = {**settings.WARDEN, "ALLOWED_ORIGINS": "http://localhost:3000"}
    assert check_warden_settings() == [
        Error(
            "WARDEN['ALLOWED_ORIGINS'] must be a list, not the string 'http://localhost:3000'; "
            "write ['http://localhost:3000'].",
            hint="A bare string is read letter by letter.",
            id="channels_warden.E002",
        )
    ]


@pytest.mark.parametrize("key", ["TRANSPORTS", "EXTRA_TRANSPORTS", "AUTHENTICATORS", "DEFAULT_PERMISSIONS"])
def test_e002_for_every_list_setting(settings: Any, key: str) -> None:
    """Every list setting given a bare string is E002 (and only that)."""
    assert ids(settings, **{key: "channels_warden.transports.QueryStringTransport"}) == [
        "channels_warden.E002"
    ]


def test_e003_drf_token_authenticator_without_authtoken(settings: Any) -> None:
    """DRFTokenAuthenticator without rest_framework.authtoken installed is E003, naming the app to add."""
    settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if app != "rest_framework.authtoken"]
    settings.WARDEN = {
        **settings.WARDEN,
        "AUTHENTICATORS": ["channels_warden.authenticators.DRFTokenAuthenticator"],
    }
    assert check_warden_settings() == [
        Error(
            "DRFTokenAuthenticator needs the Django app 'authtoken', which is not installed: every "
            "credential it judges would fail closed (4500).",
            hint="Add 'rest_framework.authtoken' to INSTALLED_APPS and migrate, or remove the "
            "authenticator from WARDEN['AUTHENTICATORS'].",
            id="channels_warden.E003",
        )
    ]


def test_e003_knox_authenticator_without_knox(settings: Any) -> None:
    """KnoxAuthenticator without knox installed is E003."""
    settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if app != "knox"]
    assert ids(settings, AUTHENTICATORS=["channels_warden.authenticators.KnoxAuthenticator"]) == [
        "channels_warden.E003"
    ]


def test_w005_in_memory_layer_when_debug_is_off(settings: Any) -> None:
    """InMemoryChannelLayer with DEBUG off warns W005 with the fix."""
    settings.DEBUG = False
    assert check_warden_settings() == [
        Warning(
            "Revocation reaches this process only: CHANNEL_LAYERS['default'] is InMemoryChannelLayer, which "
            "each process keeps to itself.",
            hint="Logout, password changes, disconnect() and `manage.py warden_disconnect` from any other "
            "process (a second server, a worker, a management command) close nothing. Use a shared layer "
            "such as 'channels_redis.core.RedisChannelLayer' when the server may run several processes.",
            id="channels_warden.W005",
        )
    ]


def test_w005_silent_for_a_shared_layer(settings: Any) -> None:
    """A Redis channel layer raises nothing."""
    settings.DEBUG = False
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer"}}
    assert ids(settings) == []


def test_w005_under_check_deploy_even_with_debug(settings: Any) -> None:
    """`check --deploy` reports W005 whatever DEBUG says."""
    from django.core.checks import run_checks

    found = [m.id for m in run_checks(include_deployment_checks=True) if m.id.startswith("channels_warden")]
    assert found == ["channels_warden.W005"]


def test_w006_tickets_and_limits_on_a_local_memory_cache(settings: Any) -> None:
    """Tickets and a connection limit on locmem warn W006 once each, naming the feature and the alias."""
    settings.DEBUG = False
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer"}}
    settings.WARDEN = {
        **settings.WARDEN,
        "EXTRA_TRANSPORTS": ["channels_warden.tickets.TicketTransport"],
        "CONNECTION_LIMIT": {"MAX": 3},
    }
    assert [(m.id, m.msg) for m in check_warden_settings()] == [
        (
            "channels_warden.W006",
            "The cache 'default' (LocMemCache) that holds warden's one-time tickets is kept by each "
            "process to itself.",
        ),
        (
            "channels_warden.W006",
            "The cache 'default' (LocMemCache) that holds warden's connection limit is kept by each "
            "process to itself.",
        ),
    ]


def test_w006_silent_for_a_shared_cache(settings: Any) -> None:
    """The same features on a Redis cache raise nothing."""
    settings.DEBUG = False
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer"}}
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"}}
    assert ids(settings, HANDSHAKE_THROTTLE={"FAILURES": 3, "WINDOW": 5}) == []


def test_extra_transports_count_for_the_transport_warnings(settings: Any) -> None:
    """A transport in EXTRA_TRANSPORTS is checked like one in TRANSPORTS (W003)."""
    assert ids(settings, EXTRA_TRANSPORTS=[RAW_JWT]) == ["channels_warden.W003"]
