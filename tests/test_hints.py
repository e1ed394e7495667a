"""Refusals explain themselves in the server log (check, transport, hint), never with the secret."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from channels_warden.exceptions import ConnectionExpired, PermissionDenied
from channels_warden.hints import log_live_close, log_rejection
from channels_warden.testing import WardenCommunicator, handshake
from tests.docblocks import code_blocks
from tests.inprocess import echo_application, jwt_for

pytestmark = pytest.mark.usefixtures("stop_revocation_listener")

DRF_KEY = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"
RAW_JWT = "channels_warden.transports.RawJWTSubprotocolTransport"


async def refusal(
    caplog: pytest.LogCaptureFixture, path: str = "/ws/echo/", app: Any = None, **kwargs: Any
) -> tuple[int | None, logging.LogRecord]:
    """Open one socket; return its close code and the one line warden logged about it."""
    with caplog.at_level(logging.DEBUG, logger="channels_warden"):
        outcome = await handshake(WardenCommunicator(app or echo_application(), path, **kwargs))
    [record] = [r for r in caplog.records if r.name == "channels_warden.auth"]
    return outcome.close_code, record


async def test_raw_jwt_subprotocol_hint_names_the_compatibility_transport(
    caplog: pytest.LogCaptureFixture, alice: Any
) -> None:
    """A JWT as the only subprotocol, transport off: 4401, and the line names the transport to enable."""
    token = jwt_for(alice)
    code, record = await refusal(caplog, subprotocols=[token])
    message = record.getMessage()
    assert (code, token in message, message) == (
        4401,
        False,
        "refused websocket /ws/echo/ from 127.0.0.1 via -: 4401 unauthenticated; check policy: no "
        "credentials on a route that requires them; hint: the client offered a JWT as its only "
        "subprotocol (new WebSocket(url, token)); warden ignores it unless "
        f"{RAW_JWT} is in WARDEN['EXTRA_TRANSPORTS'], which echoes the token (system check W003), so a "
        "browser fails the socket (1006); better, offer ['warden', 'bearer.<token>'] (docs/migration.md)",
    )


async def test_no_raw_jwt_hint_when_the_compatibility_transport_is_on(
    caplog: pytest.LogCaptureFixture, alice: Any
) -> None:
    """With the compatibility transport on, a refused raw JWT gets no hint about enabling it."""
    app = echo_application(TRANSPORTS=[RAW_JWT])
    code, record = await refusal(caplog, app=app, subprotocols=[jwt_for(alice) + "x"])
    assert (code, "hint:" in record.getMessage()) == (4401, False)


async def test_query_token_hint_names_the_parameter_not_the_value(caplog: pytest.LogCaptureFixture) -> None:
    """?token=<DRF key> with no query transport: the hint names 'token' and scheme 'token', not the key."""
    code, record = await refusal(caplog, path=f"/ws/echo/?token={DRF_KEY}")
    message = record.getMessage()
    assert (code, DRF_KEY in message) == (4401, False)
    assert message.endswith(
        "hint: the query string carries 'token', which no transport reads (query-string tokens are off: "
        "URLs end up in access logs and history); prefer a one-time ticket (TicketTransport) or the "
        "subprotocol, or add "
        "{'CLASS': 'channels_warden.transports.QueryStringTransport', 'OPTIONS': {'parameter': 'token', "
        "'scheme': 'token'}} to WARDEN['EXTRA_TRANSPORTS'] (system check W002; docs/migration.md)"
    )


async def test_refresh_token_as_access_token_hint(caplog: pytest.LogCaptureFixture, alice: Any) -> None:
    """A SimpleJWT refresh token in the access token's place: the simplejwt check and the hint, no token."""
    refresh = str(RefreshToken.for_user(alice))
    code, record = await refusal(caplog, headers=[(b"authorization", f"Bearer {refresh}".encode())])
    message = record.getMessage()
    assert (code, refresh in message, refresh.split(".")[2] in message) == (4401, False, False)
    assert message == (
        "refused websocket /ws/echo/ from 127.0.0.1 via header: 4401 unauthenticated; check authenticator "
        "simplejwt: JWT refused by SimpleJWT: Token has wrong type; hint: the JWT is a refresh token "
        "(token_type 'refresh'); send the access token and keep the refresh token for your "
        "token-refresh endpoint"
    )


async def test_origin_hint_names_the_origin_and_the_list(caplog: pytest.LogCaptureFixture) -> None:
    """An Origin missing from ALLOWED_ORIGINS: the line names that Origin and the allow-list."""
    code, record = await refusal(caplog, origin="http://localhost:5173")
    assert (code, record.levelname, record.getMessage()) == (
        4403,
        "WARNING",
        "refused websocket /ws/echo/ from 127.0.0.1 via -: 4403 forbidden; check origin: Origin "
        "http://localhost:5173 is not in ALLOWED_ORIGINS; hint: the Origin 'http://localhost:5173' is not "
        "in WARDEN['ALLOWED_ORIGINS'] = ['http://testserver', 'http://localhost:3000']; add it "
        "(scheme://host[:port], exactly as the browser sends it) if that front end is yours",
    )


async def test_cookie_without_trusted_origin_hint(caplog: pytest.LogCaptureFixture) -> None:
    """A cookie credential from an untrusted Origin: the cookie transport and why it needs one."""
    app = echo_application(ALLOWED_ORIGINS=[])
    headers = [(b"cookie", f"access_token={DRF_KEY}".encode())]
    code, record = await refusal(caplog, app=app, origin="http://evil.example", headers=headers)
    message = record.getMessage()
    assert (code, DRF_KEY in message) == (4403, False)
    assert message == (
        "refused websocket /ws/echo/ from 127.0.0.1 via cookie: 4403 forbidden; check cookie origin: "
        "cookie credentials from an Origin that is not trusted; hint: a cookie credential came with the "
        "Origin 'http://evil.example': browsers attach cookies to sockets that any page opens, so warden "
        "reads them only from an Origin in WARDEN['ALLOWED_ORIGINS'] (now []) or the server's own; add "
        "the front end's origin there, or send a token in the subprotocol or an Authorization header "
        "instead"
    )


async def test_missing_origin_hint(caplog: pytest.LogCaptureFixture) -> None:
    """No Origin where one is required: the hint names ALLOW_MISSING_ORIGIN."""
    app = echo_application(ALLOW_MISSING_ORIGIN=False)
    code, record = await refusal(caplog, app=app, origin=None)
    assert (code, record.getMessage().split("; hint: ")[1]) == (
        4403,
        "the handshake has no Origin header, which browsers always send: a non-browser client needs "
        "WARDEN['ALLOW_MISSING_ORIGIN'] = True (cookies still need a trusted Origin)",
    )


async def test_unknown_path_hint(caplog: pytest.LogCaptureFixture) -> None:
    """A path no route matches, with its trailing slash: the route check and where to list routes."""
    code, record = await refusal(caplog, path="/ws/nowhere/", app=echo_application(ALLOW_ANONYMOUS=True))
    assert (code, record.getMessage()) == (
        4404,
        "refused websocket /ws/nowhere/ from 127.0.0.1 via -: 4404 not_found; check route: no route below "
        "warden matches the path; hint: no route in the URLRouter below warden matches; `manage.py "
        "warden_explain <url>` lists the routes",
    )


async def test_unauthenticated_is_info_without_debug(caplog: pytest.LogCaptureFixture) -> None:
    """Without DEBUG a 4401 is logged at INFO (routine: wrong and expired tokens)."""
    code, record = await refusal(caplog)
    assert (code, record.levelname) == (4401, "INFO")


async def test_every_refusal_is_a_warning_under_debug(
    caplog: pytest.LogCaptureFixture, settings: Any
) -> None:
    """With DEBUG on, a 4401 is a WARNING, so Django's default logging shows it."""
    settings.DEBUG = True
    code, record = await refusal(caplog)
    assert (code, record.levelname) == (4401, "WARNING")


def test_live_expiry_is_logged_as_closed_not_refused(caplog: pytest.LogCaptureFixture) -> None:
    """A live socket's 4498 is a 'closed websocket' line at INFO, not a refusal."""
    with caplog.at_level(logging.DEBUG, logger="channels_warden"):
        log_live_close(
            {"path": "/ws/", "client": ["10.0.0.1", 1]}, ConnectionExpired("credential expired"), "header"
        )
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "INFO",
            "closed websocket /ws/ from 10.0.0.1 via header: 4498 token_expired; check expiry: "
            "credential expired",
        )
    ]


def test_a_check_named_by_the_raiser_wins(caplog: pytest.LogCaptureFixture) -> None:
    """The check the raiser named is the one logged."""
    refused = PermissionDenied("token user is inactive")
    refused.check = "authenticator drf_token"
    with caplog.at_level(logging.DEBUG, logger="channels_warden"):
        log_rejection({"path": "/ws/", "client": ["10.0.0.1", 1]}, refused, "header")
    assert caplog.records[0].getMessage() == (
        "refused websocket /ws/ from 10.0.0.1 via header: 4403 forbidden; check authenticator drf_token: "
        "token user is inactive"
    )


async def test_quickstart_logging_snippet_shows_a_401_without_debug(
    capsys: pytest.CaptureFixture[str], settings: Any
) -> None:
    """docs/quickstart.md's LOGGING, applied as written, prints an INFO 4401 refusal with its hint."""
    import logging.config

    [block] = [body for body in code_blocks("quickstart.md") if "LOGGING = {" in body]
    namespace: dict[str, Any] = {}
    exec(block, namespace)
    logging.config.dictConfig(namespace["LOGGING"])
    try:
        await handshake(WardenCommunicator(echo_application(), f"/ws/echo/?token={DRF_KEY}"))
    finally:
        logging.config.dictConfig(settings.LOGGING)
    printed = capsys.readouterr().err
    assert (DRF_KEY in printed, printed.splitlines()[0]) == (
        False,
        "refused websocket /ws/echo/ from 127.0.0.1 via -: 4401 unauthenticated; check policy: no "
        "credentials on a route that requires them; hint: the query string carries 'token', which no "
        "transport reads (query-string tokens are off: URLs end up in access logs and history); prefer a "
        "one-time ticket (TicketTransport) or the subprotocol, or add {'CLASS': "
        "'channels_warden.transports.QueryStringTransport', 'OPTIONS': {'parameter': 'token', 'scheme': "
        "'token'}} to WARDEN['EXTRA_TRANSPORTS'] (system check W002; docs/migration.md)",
    )


async def test_client_leaving_a_first_message_route_is_logged_with_the_hint(
    caplog: pytest.LogCaptureFixture, alice: Any
) -> None:
    """A raw-JWT client that leaves a first-message route before authenticating: one line, with the hint."""
    from channels.routing import URLRouter
    from django.urls import path

    from channels_warden import WardenMiddleware, guard
    from tests.project.consumers import EchoConsumer

    app = WardenMiddleware(URLRouter([path("ws/first/", guard(EchoConsumer.as_asgi(), first_message=True))]))
    token = jwt_for(alice)
    communicator = WardenCommunicator(app, "/ws/first/", subprotocols=[token])
    with caplog.at_level(logging.DEBUG, logger="channels_warden"):
        connected, _ = await communicator.connect()
        await communicator.disconnect()
    [record] = [r for r in caplog.records if r.name == "channels_warden.auth"]
    message = record.getMessage()
    assert (connected, record.levelname, token in message) == (True, "INFO", False)
    assert message.startswith(
        "websocket /ws/first/ from 127.0.0.1 closed by the client before it authenticated (first-message "
        "route); hint: the client offered a JWT as its only subprotocol"
    )
