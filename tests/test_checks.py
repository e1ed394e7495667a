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


def test_w004_when_simplejwt_is_an_installed_app(settings: Any) -> None:
    """SimpleJWT in INSTALLED_APPS is checked even if warden authenticates otherwise."""
    settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "rest_framework_simplejwt"]
    settings.SIMPLE_JWT = {"ALGORITHM": "HS256", "SIGNING_KEY": "short"}
    assert ids(settings, AUTHENTICATORS=["channels_warden.authenticators.SessionAuthenticator"]) == [
        "channels_warden.W004"
    ]


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
