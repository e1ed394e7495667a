"""What signal receivers are handed: scopes and auth without a secret in them."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from channels_warden.conf import WardenSettings
from channels_warden.identity import AuthInfo
from channels_warden.signals import signal_auth, signal_scope

SETTINGS = WardenSettings(
    {
        "TRANSPORTS": [
            "channels_warden.transports.SessionCookieTransport",
            "channels_warden.transports.AuthorizationHeaderTransport",
            "channels_warden.transports.SubprotocolTransport",
            {"CLASS": "channels_warden.transports.CookieTransport", "OPTIONS": {"cookie": "access_token"}},
            "channels_warden.transports.QueryStringTransport",
        ]
    }
)


def raw_scope() -> dict[str, Any]:
    return {
        "type": "websocket",
        "path": "/ws/",
        "query_string": b"token=QUERYSECRET&room=lobby",
        "headers": [
            (b"authorization", b"Bearer HEADERSECRET"),
            (b"cookie", b"sessionid=SESSIONSECRET; access_token=COOKIESECRET; theme=dark"),
            (b"sec-websocket-protocol", b"warden, bearer.PROTOCOLSECRET"),
            (b"origin", b"http://testserver"),
        ],
        "subprotocols": ["warden", "bearer.PROTOCOLSECRET"],
        "cookies": {"sessionid": "SESSIONSECRET", "access_token": "COOKIESECRET", "theme": "dark"},
        "session": object(),
        "warden": object(),
    }


def test_signal_scope_keeps_no_credential_of_any_transport() -> None:
    """Header, cookies (session one included), subprotocol and query token are all gone."""
    safe = signal_scope(raw_scope(), SETTINGS)
    assert "SECRET" not in repr(safe)


def test_signal_scope_keeps_what_is_not_a_credential() -> None:
    """The path, the other cookies, the Origin and the other query parameters stay."""
    safe = signal_scope(raw_scope(), SETTINGS)
    assert (safe["path"], safe["cookies"], safe["query_string"], safe["subprotocols"]) == (
        "/ws/",
        {"theme": "dark"},
        b"room=lobby",
        [],
    )
    assert (b"origin", b"http://testserver") in safe["headers"]
    assert (b"cookie", b"theme=dark") in safe["headers"]


def test_signal_scope_withholds_the_session_and_the_connection() -> None:
    """``session`` (its key is the cookie) and ``warden`` (it leads to the raw scope) are left out."""
    safe = signal_scope(raw_scope(), SETTINGS)
    assert ("session" in safe, "warden" in safe) == (False, False)


def test_signal_scope_leaves_the_scope_it_copies_alone() -> None:
    """The application's own scope is not redacted by a signal."""
    scope = raw_scope()
    signal_scope(scope, SETTINGS)
    assert scope == {**raw_scope(), "session": scope["session"], "warden": scope["warden"]}


def test_signal_auth_blanks_the_session_key() -> None:
    """The session key is the cookie's value; token ids are not secrets and stay."""
    auth = AuthInfo(user=User(pk=1), authenticator="session", session_key="SESSIONSECRET", token_id="drf:ab")
    assert (signal_auth(auth).session_key, signal_auth(auth).token_id, signal_auth(None)) == (
        None,
        "drf:ab",
        None,
    )
