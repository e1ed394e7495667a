"""The handshake pipeline: who the client is, from which origin, and what the app may see."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser

from channels_warden import WardenMiddleware, guard
from channels_warden.admission import (
    accept_subprotocol,
    check_origin,
    find_credentials,
    origin_is_trusted,
    redacted_scope,
)
from channels_warden.conf import WardenSettings
from channels_warden.identity import AuthInfo
from channels_warden.origins import parse_origin
from channels_warden.testing import (
    HandshakeOutcome,
    WardenCommunicator,
    connect_as,
    handshake,
    session_key_for,
)
from tests.inprocess import (
    BAD_REQUEST,
    FORBIDDEN,
    SESSION_ROW_MISSING,
    RecordingApp,
    echo_application,
    jwt_for,
    whoami,
)

pytestmark = pytest.mark.usefixtures("stop_revocation_listener")


@pytest.fixture
def bob(transactional_db: None, make_user: Any) -> Any:
    """A second committed user."""
    return make_user("bob")


# -- credentials and redaction ---------------------------------------------------------------------


async def test_drf_token_in_header_is_admitted_and_redacted(alice: Any) -> None:
    """The app gets scope['user'] and scope['auth'] and no Authorization header."""
    communicator, outcome = await connect_as(echo_application(), alice, "/ws/echo/", credential="drf")
    assert outcome.admitted is True
    seen = await whoami(communicator)
    assert (seen["user"], seen["authenticator"], seen["transport"], "authorization" in seen["headers"]) == (
        "alice",
        "drf_token",
        "header",
        False,
    )


async def test_jwt_in_subprotocol_is_admitted_with_the_marker_echoed(alice: Any) -> None:
    """The server selects 'warden', and the app's scope has neither the marker nor the token."""
    communicator, outcome = await connect_as(echo_application(), alice, "/ws/echo/", credential="jwt")
    assert outcome == HandshakeOutcome(admitted=True, subprotocol="warden")
    seen = await whoami(communicator)
    assert (seen["user"], seen["transport"], seen["subprotocols"]) == ("alice", "subprotocol", [])


async def test_jwt_in_cookie_is_redacted_from_the_app(alice: Any) -> None:
    """The access_token cookie is gone from the app's cookies and Cookie header; others stay."""
    headers = [(b"cookie", f"theme=dark; access_token={jwt_for(alice)}".encode())]
    communicator = WardenCommunicator(echo_application(), "/ws/echo/", headers=headers)
    assert (await handshake(communicator)).admitted is True
    seen = await whoami(communicator)
    assert (seen["transport"], seen["cookies"], seen["headers"]["cookie"]) == (
        "cookie",
        ["theme"],
        "theme=dark",
    )


async def test_session_cookie_is_admitted_and_kept(alice: Any) -> None:
    """A session cookie admits its user; the cookie stays for scope['session'] and channels.auth."""
    communicator, outcome = await connect_as(echo_application(), alice, "/ws/echo/", credential="session")
    assert outcome.admitted is True
    seen = await whoami(communicator)
    assert (seen["user"], seen["authenticator"], seen["cookies"]) == ("alice", "session", ["sessionid"])


async def test_app_scope_carries_auth_and_user(alice: Any) -> None:
    """scope['auth'] is the AuthInfo and scope['user'] its user; the server's scope is not changed."""
    inner = RecordingApp()
    communicator = WardenCommunicator(
        WardenMiddleware(inner), "/ws/", headers=[(b"authorization", f"Bearer {jwt_for(alice)}".encode())]
    )
    assert (await handshake(communicator)).admitted is True
    await communicator.disconnect()
    auth = inner.scope["auth"]
    assert (
        inner.scope["user"].pk,
        auth.user is inner.scope["user"],
        auth.authenticator,
        auth.transport,
        [name for name, _ in inner.scope["headers"]],
        [name for name, _ in communicator.scope["headers"]],
    ) == (alice.pk, True, "simplejwt", "header", [b"host", b"origin"], [b"host", b"origin", b"authorization"])


async def test_anonymous_admission_sets_anonymous_user() -> None:
    """On an anonymous route the app gets AnonymousUser and an anonymous AuthInfo."""
    inner = RecordingApp()
    communicator = WardenCommunicator(WardenMiddleware(guard(inner, allow_anonymous=True)), "/ws/")
    assert (await handshake(communicator)).admitted is True
    await communicator.disconnect()
    assert (isinstance(inner.scope["user"], AnonymousUser), inner.scope["auth"].authenticator) == (True, None)


# -- several credentials ---------------------------------------------------------------------------


async def test_conflicting_credentials_are_a_bad_request(alice: Any, bob: Any) -> None:
    """A session for alice and a JWT for bob on one handshake: refused with 4400, nobody admitted."""
    key = await database_sync_to_async(session_key_for)(alice)
    communicator = WardenCommunicator(
        echo_application(),
        "/ws/echo/",
        headers=[(b"cookie", f"sessionid={key}".encode())],
        subprotocols=["warden", f"bearer.{jwt_for(bob)}"],
    )
    outcome = await handshake(communicator)
    assert (outcome.close_code, outcome.frame) == (4400, BAD_REQUEST)


async def test_two_credentials_for_one_user_admit_via_the_explicit_one(alice: Any) -> None:
    """A session and a JWT for the same user are not a conflict; the explicit JWT is recorded."""
    key = await database_sync_to_async(session_key_for)(alice)
    communicator = WardenCommunicator(
        echo_application(),
        "/ws/echo/",
        headers=[(b"cookie", f"sessionid={key}".encode())],
        subprotocols=["warden", f"bearer.{jwt_for(alice)}"],
    )
    assert (await handshake(communicator)).admitted is True
    assert (await whoami(communicator))["transport"] == "subprotocol"


async def test_stale_session_cookie_next_to_a_valid_jwt_admits_the_jwt_user(alice: Any) -> None:
    """An explicit credential wins over a forged or stale session cookie (admission.py)."""
    communicator = WardenCommunicator(
        echo_application(),
        "/ws/echo/",
        headers=[(b"cookie", f"sessionid={SESSION_ROW_MISSING}".encode())],
        subprotocols=["warden", f"bearer.{jwt_for(alice)}"],
    )
    assert (await handshake(communicator)).admitted is True
    seen = await whoami(communicator)
    assert (seen["user"], seen["transport"]) == ("alice", "subprotocol")


async def test_stale_session_cookie_alone_is_refused(transactional_db: None) -> None:
    """A forged session cookie on its own is a 4401, never an anonymous socket."""
    headers = [(b"cookie", f"sessionid={SESSION_ROW_MISSING}".encode())]
    outcome = await handshake(WardenCommunicator(echo_application(), "/ws/public/", headers=headers))
    assert (outcome.admitted, outcome.close_code) == (False, 4401)


async def test_invalid_jwt_next_to_a_valid_session_is_refused(alice: Any) -> None:
    """A wrong explicit credential is refused even when the cookie is good: no falling back."""
    key = await database_sync_to_async(session_key_for)(alice)
    communicator = WardenCommunicator(
        echo_application(),
        "/ws/echo/",
        headers=[(b"cookie", f"sessionid={key}".encode())],
        subprotocols=["warden", "bearer.not-a-jwt"],
    )
    assert (await handshake(communicator)).close_code == 4401


async def test_credentials_nobody_accepts_are_a_bad_request() -> None:
    """A scheme no configured authenticator claims is a 4400."""
    application = WardenMiddleware(RecordingApp(), settings={"AUTHENTICATORS": []})
    headers = [(b"authorization", b"Bearer abcdef")]
    outcome = await handshake(WardenCommunicator(application, "/ws/", headers=headers))
    assert outcome.close_code == 4400


# -- origins ---------------------------------------------------------------------------------------


async def test_cookie_from_an_untrusted_origin_is_forbidden(alice: Any) -> None:
    """A cookie credential from a page not on the allow-list is refused (cross-site hijacking)."""
    key = await database_sync_to_async(session_key_for)(alice)
    headers = [(b"cookie", f"sessionid={key}".encode())]
    communicator = WardenCommunicator(
        echo_application(ALLOWED_ORIGINS=[]), "/ws/echo/", headers=headers, origin="https://evil.example"
    )
    outcome = await handshake(communicator)
    assert (outcome.close_code, outcome.frame) == (4403, FORBIDDEN)


async def test_cookie_without_origin_is_forbidden(alice: Any) -> None:
    """A cookie credential needs a trusted Origin even when missing origins are allowed."""
    key = await database_sync_to_async(session_key_for)(alice)
    headers = [(b"cookie", f"sessionid={key}".encode())]
    communicator = WardenCommunicator(echo_application(), "/ws/echo/", headers=headers, origin=None)
    assert (await handshake(communicator)).close_code == 4403


async def test_token_without_origin_is_admitted_when_allowed(alice: Any) -> None:
    """Non-browser clients send no Origin; with ALLOW_MISSING_ORIGIN their tokens are accepted."""
    _, outcome = await connect_as(echo_application(), alice, "/ws/echo/", credential="drf", origin=None)
    assert outcome.admitted is True


async def test_missing_origin_refused_by_default() -> None:
    """With ALLOW_MISSING_ORIGIN off, a handshake without Origin is a 4403."""
    communicator = WardenCommunicator(
        echo_application(ALLOW_MISSING_ORIGIN=False), "/ws/public/", origin=None
    )
    assert (await handshake(communicator)).close_code == 4403


async def test_origin_not_on_the_allow_list_is_forbidden() -> None:
    """Any handshake from an Origin outside a non-empty allow-list is refused."""
    communicator = WardenCommunicator(echo_application(), "/ws/public/", origin="https://evil.example")
    assert (await handshake(communicator)).close_code == 4403


async def test_same_origin_is_trusted_for_cookies(alice: Any) -> None:
    """A page served by this host may use cookies though it is not on the allow-list."""
    key = await database_sync_to_async(session_key_for)(alice)
    communicator = WardenCommunicator(
        echo_application(),
        "/ws/echo/",
        headers=[(b"cookie", f"sessionid={key}".encode())],
        origin="https://chat.example:8443",
        host="chat.example:8443",
    )
    communicator.scope["scheme"] = "wss"  # the server runs TLS, as the https page implies
    assert (await handshake(communicator)).admitted is True
    await communicator.disconnect()


async def test_same_host_on_another_scheme_is_not_trusted_for_cookies(alice: Any) -> None:
    """An https page is not the origin of a plain ws server on the same host and port: 4403."""
    key = await database_sync_to_async(session_key_for)(alice)
    communicator = WardenCommunicator(
        echo_application(),
        "/ws/echo/",
        headers=[(b"cookie", f"sessionid={key}".encode())],
        origin="https://chat.example:8443",
        host="chat.example:8443",
    )
    assert (await handshake(communicator)).close_code == 4403


def test_same_origin_behind_a_tls_proxy_follows_secure_proxy_ssl_header(settings: Any) -> None:
    """With SECURE_PROXY_SSL_HEADER, the proxy's X-Forwarded-Proto decides the server's scheme."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    scope = scope_with([(b"x-forwarded-proto", b"https")])
    warden = WardenSettings({"ALLOWED_ORIGINS": []})
    assert (
        origin_is_trusted(parse_origin("https://testserver"), scope, warden),
        origin_is_trusted(parse_origin("http://testserver"), scope, warden),
    ) == (True, False)


@pytest.mark.parametrize(
    ("host", "allowed"),
    [(b"evil.example", ["testserver"]), (b"testserver/x", ["*"]), (b"t\xe9st", ["*"])],
)
async def test_bad_host_is_refused_with_4400(settings: Any, host: bytes, allowed: list[str]) -> None:
    """A Host outside ALLOWED_HOSTS, or malformed even under "*", is a 4400 before anything else."""
    settings.ALLOWED_HOSTS = allowed
    communicator = WardenCommunicator(echo_application(), "/ws/public/")
    communicator.scope["headers"] = [(b"host", host), (b"origin", b"http://testserver")]
    assert (await handshake(communicator)).close_code == 4400


# -- the pipeline's pure parts ----------------------------------------------------------------------


def scope_with(headers: list[tuple[bytes, bytes]], subprotocols: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "websocket",
        "path": "/ws/",
        "headers": [(b"host", b"testserver"), *headers],
        "subprotocols": subprotocols or [],
        "query_string": b"",
    }


def test_explicit_credentials_come_before_cookies() -> None:
    """Cookies are tried last whatever the transport order, so an explicit credential decides."""
    scope = scope_with(
        [(b"cookie", b"sessionid=sess1234; access_token=cookie123"), (b"authorization", b"Token header12")],
        subprotocols=["warden", "bearer.proto123"],
    )
    found = find_credentials(scope, WardenSettings())
    assert [(c.transport, c.secret) for c in found] == [
        ("header", "header12"),
        ("subprotocol", "proto123"),
        ("session", "sess1234"),
        ("cookie", "cookie123"),
    ]


def test_accept_subprotocol_is_the_marker_when_offered() -> None:
    """The marker is echoed when the client offered it."""
    assert accept_subprotocol(scope_with([], ["warden", "bearer.abc"]), WardenSettings()) == "warden"


def test_accept_subprotocol_echoes_nothing_the_raw_header_lacks() -> None:
    """daphne decoded ``warden%2Cbearer.x`` into two entries; 'warden' is not in the header, so no echo."""
    scope = scope_with([(b"sec-websocket-protocol", b"warden%2Cbearer.x")], ["warden", "bearer.x"])
    assert accept_subprotocol(scope, WardenSettings()) is None


def test_accept_subprotocol_still_echoes_the_marker_for_too_many_offers() -> None:
    """Seventeen offers are refused with 4400, but the marker is echoed so the client can read why."""
    offered = ["warden", *(f"p{i}" for i in range(16))]
    assert accept_subprotocol(scope_with([], offered), WardenSettings()) == "warden"


def test_accept_subprotocol_is_none_when_a_transport_finds_the_offer_malformed() -> None:
    """In compatibility mode, too many offered protocols select nothing instead of raising."""
    settings = WardenSettings({"TRANSPORTS": ["channels_warden.transports.RawJWTSubprotocolTransport"]})
    offered = [f"p{i}" for i in range(17)]
    assert accept_subprotocol(scope_with([], offered), settings) is None


def test_accept_subprotocol_is_the_token_in_compatibility_mode() -> None:
    """The raw-JWT transport is the one case where the token is echoed (hence W003)."""
    settings = WardenSettings({"TRANSPORTS": ["channels_warden.transports.RawJWTSubprotocolTransport"]})
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoiMSJ9.c2ln"
    assert accept_subprotocol(scope_with([], [jwt]), settings) == jwt


def test_redaction_leaves_the_servers_scope_alone() -> None:
    """The application gets a redacted copy; the scope the server holds is unchanged."""
    scope = scope_with([(b"authorization", b"Bearer abc")], ["warden", "bearer.abc"])
    app_scope = redacted_scope(scope, WardenSettings(), AuthInfo.anonymous())
    assert (
        app_scope["headers"],
        app_scope["subprotocols"],
        scope["headers"][1],
        scope["subprotocols"],
        "auth" in scope,
    ) == ([(b"host", b"testserver")], [], (b"authorization", b"Bearer abc"), ["warden", "bearer.abc"], False)


def test_any_origin_may_bring_a_token_when_the_allow_list_is_empty() -> None:
    """An empty allow-list restricts cookies only; the Origin is then reported as untrusted."""
    scope = scope_with([(b"origin", b"https://elsewhere.example")])
    assert check_origin(scope, WardenSettings({"ALLOWED_ORIGINS": []})) is False


def test_same_origin_trust_can_be_turned_off() -> None:
    """With ALLOW_SAME_ORIGIN off, the server's own pages must be on the allow-list too."""
    scope = scope_with([(b"origin", b"http://testserver")])
    settings = WardenSettings({"ALLOWED_ORIGINS": [], "ALLOW_SAME_ORIGIN": False})
    assert origin_is_trusted(parse_origin("http://testserver"), scope, settings) is False


def test_same_origin_is_trusted_by_default() -> None:
    """A page from the Host the client connected to is trusted without being listed."""
    scope = scope_with([(b"origin", b"http://testserver")])
    settings = WardenSettings({"ALLOWED_ORIGINS": []})
    assert origin_is_trusted(parse_origin("http://testserver"), scope, settings) is True
