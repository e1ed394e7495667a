"""The WARDEN settings object: lazy, reloaded on change, strict about what it accepts."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from channels_warden.authenticators.session import SessionAuthenticator
from channels_warden.conf import DEFAULTS, WardenSettings, build_instance, warden_settings
from channels_warden.origins import Origin
from channels_warden.permissions import IsStaff
from channels_warden.transports import (
    AuthorizationHeaderTransport,
    CookieTransport,
    QueryStringTransport,
    SessionCookieTransport,
    SubprotocolTransport,
)

VALID_KEYS = ", ".join(DEFAULTS)


def test_constructing_settings_reads_nothing(settings: Any) -> None:
    """A settings object is created without reading WARDEN (so broken settings do not fail yet)."""
    settings.WARDEN = {"NOT_A_KEY": 1}
    assert "_values" not in vars(WardenSettings())


def test_broken_settings_fail_at_first_read(settings: Any) -> None:
    """The first attribute read validates WARDEN and says which keys are valid."""
    settings.WARDEN = {"NOT_A_KEY": 1, "ALSO_BAD": 2}
    with pytest.raises(ImproperlyConfigured) as exc_info:
        WardenSettings().REJECT_MODE  # noqa: B018
    assert (
        str(exc_info.value)
        == f"Unknown WARDEN setting key(s) ALSO_BAD, NOT_A_KEY; valid keys are {VALID_KEYS}."
    )


def test_defaults_apply_without_warden(settings: Any) -> None:
    """With no WARDEN setting at all, every value is the default."""
    del settings.WARDEN
    fresh = WardenSettings()
    assert {key: getattr(fresh, key) for key in DEFAULTS} == DEFAULTS


def test_user_setting_lies_over_defaults(settings: Any) -> None:
    """A key in WARDEN replaces the default; the others keep theirs."""
    settings.WARDEN = {"REALM": "chat"}
    fresh = WardenSettings()
    assert (fresh.REALM, fresh.SUBPROTOCOL) == ("chat", "warden")


def test_settings_fixture_change_takes_effect_immediately(settings: Any) -> None:
    """The shared settings object forgets a value it already read when WARDEN changes."""
    assert warden_settings.REJECT_MODE == "close"
    settings.WARDEN = {**settings.WARDEN, "REJECT_MODE": "deny"}
    assert warden_settings.REJECT_MODE == "deny"


def test_changed_transports_are_rebuilt(settings: Any) -> None:
    """Cached transport instances are rebuilt from the new TRANSPORTS."""
    assert len(warden_settings.transports) == 4
    settings.WARDEN = {**settings.WARDEN, "TRANSPORTS": ["channels_warden.transports.QueryStringTransport"]}
    assert [type(t) for t in warden_settings.transports] == [QueryStringTransport]


def test_unrelated_setting_change_keeps_the_cache(settings: Any) -> None:
    """A change to an unrelated setting does not rebuild anything."""
    before = warden_settings.transports
    settings.DEBUG = True
    assert warden_settings.transports is before


@pytest.mark.parametrize("setting", ["SESSION_COOKIE_NAME", "AUTHENTICATION_BACKENDS", "SIMPLE_JWT"])
def test_related_setting_change_rebuilds(settings: Any, setting: str) -> None:
    """Settings that authenticators and transports depend on also clear the cache."""
    before = warden_settings.authenticators
    setattr(settings, setting, getattr(settings, setting))
    assert warden_settings.authenticators is not before


def test_middleware_overrides_lie_over_warden() -> None:
    """Per-middleware overrides win over WARDEN, which wins over the defaults."""
    overridden = WardenSettings({"REJECT_MODE": "deny"})
    assert (overridden.REJECT_MODE, overridden.ALLOW_MISSING_ORIGIN, overridden.REALM) == (
        "deny",
        True,
        "websocket",
    )


def test_middleware_overrides_follow_warden_changes(settings: Any) -> None:
    """A settings object with overrides still sees changes to the keys it does not override."""
    overridden = WardenSettings({"REJECT_MODE": "deny"})
    assert overridden.REALM == "websocket"
    settings.WARDEN = {**settings.WARDEN, "REALM": "chat", "REJECT_MODE": "close"}
    assert (overridden.REALM, overridden.REJECT_MODE) == ("chat", "deny")


def test_unknown_override_key_fails_at_construction() -> None:
    """A typo in a middleware's settings fails when the application is built."""
    with pytest.raises(ImproperlyConfigured) as exc_info:
        WardenSettings({"REJECT_MOD": "deny"})
    assert str(exc_info.value) == f"Unknown WARDEN override key(s) REJECT_MOD; valid keys are {VALID_KEYS}."


def test_warden_must_be_a_dict(settings: Any) -> None:
    """WARDEN as anything but a mapping is refused."""
    settings.WARDEN = ["REJECT_MODE", "deny"]
    with pytest.raises(ImproperlyConfigured, match=r"^settings\.WARDEN must be a dict\.$"):
        WardenSettings().REALM  # noqa: B018


def test_bad_reject_mode_is_refused() -> None:
    """REJECT_MODE has two values."""
    with pytest.raises(ImproperlyConfigured) as exc_info:
        WardenSettings({"REJECT_MODE": "drop"}).REALM  # noqa: B018
    assert str(exc_info.value) == "WARDEN REJECT_MODE must be one of ('close', 'deny'), not 'drop'."


def test_unknown_attribute_is_an_attribute_error() -> None:
    """Reading a setting that does not exist is an AttributeError naming it."""
    with pytest.raises(AttributeError, match=r"^Invalid WARDEN setting: 'NOPE'$"):
        warden_settings.NOPE  # noqa: B018


def test_transports_are_built_in_order() -> None:
    """Import strings and CLASS/OPTIONS dicts become instances, in the configured order."""
    transports = warden_settings.transports
    assert [type(t) for t in transports] == [
        SessionCookieTransport,
        AuthorizationHeaderTransport,
        SubprotocolTransport,
        CookieTransport,
    ]


def test_extra_transports_come_after_the_transports() -> None:
    """EXTRA_TRANSPORTS are appended to TRANSPORTS (the defaults), in their own order."""
    transports = WardenSettings(
        {
            "TRANSPORTS": DEFAULTS["TRANSPORTS"],
            "EXTRA_TRANSPORTS": [{"CLASS": "channels_warden.transports.QueryStringTransport"}],
        }
    ).transports
    assert [type(t) for t in transports] == [
        SessionCookieTransport,
        AuthorizationHeaderTransport,
        SubprotocolTransport,
        QueryStringTransport,
    ]


def test_a_string_where_a_list_belongs_is_refused() -> None:
    """A bare string for a list setting is refused with the way to write it, not read letter by letter."""
    with pytest.raises(ImproperlyConfigured) as exc_info:
        WardenSettings({"ALLOWED_ORIGINS": "http://localhost:3000"}).allowed_origins  # noqa: B018
    assert str(exc_info.value) == (
        "WARDEN['ALLOWED_ORIGINS'] must be a list, not the string 'http://localhost:3000'; "
        "write ['http://localhost:3000']."
    )


def test_options_reach_the_constructor() -> None:
    """OPTIONS are passed to the class as keyword arguments."""
    cookie_transport = warden_settings.transports[3]
    assert (cookie_transport.cookie, cookie_transport.scheme) == ("access_token", "bearer")


def test_default_permissions_are_built() -> None:
    """DEFAULT_PERMISSIONS import strings become permission instances."""
    overridden = WardenSettings({"DEFAULT_PERMISSIONS": ["channels_warden.permissions.IsStaff"]})
    assert [type(p) for p in overridden.default_permissions] == [IsStaff]


def test_allowed_origins_are_normalised() -> None:
    """The allow-list is parsed so that default ports compare equal."""
    overridden = WardenSettings({"ALLOWED_ORIGINS": ["https://a.example:443", "HTTP://B.example:8000"]})
    assert overridden.allowed_origins == frozenset(
        {Origin("https", "a.example", 443), Origin("http", "b.example", 8000)}
    )


def test_instances_are_used_as_is() -> None:
    """An instance in the configuration is used without being rebuilt."""
    authenticator = SessionAuthenticator()
    assert build_instance(authenticator, "authenticator") is authenticator


def test_bad_import_string_says_what_could_not_be_imported() -> None:
    """An import string that does not resolve names the kind, the path and the cause."""
    with pytest.raises(ImproperlyConfigured) as exc_info:
        build_instance("channels_warden.transports.NoSuchTransport", "transport")
    assert str(exc_info.value) == (
        "WARDEN transport 'channels_warden.transports.NoSuchTransport' could not be imported: "
        'Module "channels_warden.transports" does not define a "NoSuchTransport" attribute/class'
    )


def test_bad_import_string_in_settings_fails_on_use(settings: Any) -> None:
    """A broken AUTHENTICATORS entry fails when the authenticators are first needed."""
    settings.WARDEN = {"AUTHENTICATORS": ["nowhere.Authenticator"]}
    with pytest.raises(ImproperlyConfigured) as exc_info:
        warden_settings.authenticators  # noqa: B018
    assert str(exc_info.value) == (
        "WARDEN authenticator 'nowhere.Authenticator' could not be imported: No module named 'nowhere'"
    )


def test_rejected_options_say_which() -> None:
    """OPTIONS the class does not take are reported with the class and the options."""
    entry = {"CLASS": "channels_warden.transports.CookieTransport", "OPTIONS": {"name": "x"}}
    with pytest.raises(ImproperlyConfigured) as exc_info:
        build_instance(entry, "transport")
    assert str(exc_info.value) == (
        "WARDEN transport 'channels_warden.transports.CookieTransport' rejected its OPTIONS "
        "{'name': 'x'}: CookieTransport.__init__() got an unexpected keyword argument 'name'"
    )


@pytest.mark.parametrize(
    "entry",
    [
        {"OPTIONS": {}},
        {"CLASS": "channels_warden.transports.CookieTransport", "OPTION": {}},
    ],
)
def test_malformed_dict_entry_shows_the_expected_shape(entry: dict[str, Any]) -> None:
    """A dict entry without CLASS, or with other keys, shows the shape it must have."""
    with pytest.raises(ImproperlyConfigured) as exc_info:
        build_instance(entry, "transport")
    assert str(exc_info.value) == (
        f"WARDEN transport entry {entry!r} must look like {{'CLASS': 'path', 'OPTIONS': {{...}}}}."
    )


def test_dict_entry_without_options() -> None:
    """CLASS alone is enough."""
    transport = build_instance({"CLASS": "channels_warden.transports.QueryStringTransport"}, "transport")
    assert (type(transport), transport.parameter) == (QueryStringTransport, "token")
