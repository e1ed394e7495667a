"""WardenMiddleware in process: what reaches the application, and what never does."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from channels.routing import URLRouter
from django.db import OperationalError
from django.urls import path

from channels_warden import WardenMiddleware, WardenMiddlewareStack
from channels_warden.authenticators.drf_token import DRFTokenAuthenticator
from channels_warden.testing import (
    HandshakeOutcome,
    WardenCommunicator,
    connect_as,
    handshake,
)
from tests.inprocess import (
    BAD_REQUEST,
    INTERNAL,
    UNAUTHENTICATED,
    ExplodingAuthenticator,
    RecordingApp,
    SentMessages,
    echo_application,
    jwt_shaped,
    queue_receive,
    whoami,
)
from tests.project.consumers import EchoConsumer

pytestmark = pytest.mark.usefixtures("stop_revocation_listener")


# -- scopes that are not websockets ----------------------------------------------------------------


async def test_http_scope_passes_through_untouched() -> None:
    """An http scope reaches the inner app as the very same objects, with nothing read or added."""
    inner = RecordingApp()
    scope = {"type": "http", "path": "/", "headers": [(b"authorization", b"Bearer abc")]}
    receive, send = queue_receive(), SentMessages()
    await WardenMiddleware(inner)(scope, receive, send)
    assert (inner.scope is scope, inner.receive is receive, inner.send is send, scope) == (
        True,
        True,
        True,
        {"type": "http", "path": "/", "headers": [(b"authorization", b"Bearer abc")]},
    )


async def test_lifespan_scope_passes_through() -> None:
    """Lifespan events go to the inner app unchanged."""
    inner = RecordingApp()
    scope = {"type": "lifespan"}
    await WardenMiddleware(inner)(scope, queue_receive(), SentMessages())
    assert inner.scope is scope


# -- before and at the handshake -------------------------------------------------------------------


async def test_client_leaving_before_the_handshake_never_reaches_the_app() -> None:
    """When the first event is websocket.disconnect, the app receives no event and nothing is sent."""
    inner, sent = RecordingApp(), SentMessages()
    scope = {"type": "websocket", "path": "/ws/", "headers": [], "subprotocols": [], "query_string": b""}
    await WardenMiddleware(inner)(scope, queue_receive({"type": "websocket.disconnect", "code": 1001}), sent)
    assert (inner.events, sent) == ([], [])


async def test_a_router_finding_no_route_leaves_the_connect_event_for_the_next_route() -> None:
    """Nested routers fall through: warden must not consume websocket.connect before its app routes."""
    from channels.routing import URLRouter
    from django.urls import path

    from channels_warden import WardenMiddlewareStack

    fallback = RecordingApp()
    router = URLRouter(
        [
            path("deny/", WardenMiddlewareStack(URLRouter([path("ws/echo/", RecordingApp())]))),
            path("deny/nowhere/", fallback),
        ]
    )
    scope = {
        "type": "websocket",
        "path": "/deny/nowhere/",
        "headers": [],
        "subprotocols": [],
        "query_string": b"",
    }
    sent = SentMessages()
    await router(scope, queue_receive({"type": "websocket.connect"}, {"type": "websocket.disconnect"}), sent)
    assert fallback.events[0] == {"type": "websocket.connect"}


async def test_refused_credentials_never_reach_the_app() -> None:
    """A malformed credential is refused before the application is called at all."""
    inner = RecordingApp()
    communicator = WardenCommunicator(
        WardenMiddleware(inner), "/ws/", headers=[(b"authorization", b"Basic x")]
    )
    outcome = await handshake(communicator)
    assert (outcome.close_code, outcome.frame, inner.calls) == (4400, BAD_REQUEST, 0)


async def test_refusal_messages_are_accept_frame_close() -> None:
    """The client sees an accept, the JSON frame and a close with the code (daphne drops the reason)."""
    communicator = WardenCommunicator(WardenMiddleware(RecordingApp()), "/ws/")
    await communicator.send_input({"type": "websocket.connect"})
    messages = [await communicator.receive_output() for _ in range(3)]
    assert messages == [
        {"type": "websocket.accept", "subprotocol": None},
        {"type": "websocket.send", "text": json.dumps(UNAUTHENTICATED)},
        {"type": "websocket.close", "code": 4401, "reason": "unauthenticated"},
    ]


async def test_refusal_echoes_the_marker_so_browsers_can_read_the_frame() -> None:
    """A client that offered 'warden' gets it back even when refused (Chrome fails the socket otherwise)."""
    communicator = WardenCommunicator(
        WardenMiddleware(RecordingApp()), "/ws/", subprotocols=["warden", "bearer.not-a-jwt"]
    )
    outcome = await handshake(communicator)
    assert (outcome.subprotocol, outcome.close_code) == ("warden", 4401)


async def test_invalid_token_is_logged_without_the_secret(
    transactional_db: None, caplog: pytest.LogCaptureFixture
) -> None:
    """The refusal is logged with its reason, detail and transport but never the credential."""
    secret = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"
    headers = [(b"authorization", f"Token {secret}".encode())]
    with caplog.at_level(logging.INFO, logger="channels_warden"):
        await handshake(WardenCommunicator(echo_application(), "/ws/echo/", headers=headers))
    assert [r.getMessage() for r in caplog.records if r.name == "channels_warden.auth"] == [
        "refused websocket /ws/echo/ from 127.0.0.1 via header: 4401 unauthenticated; "
        "check authenticator drf_token: unknown DRF token"
    ]


# -- failing closed --------------------------------------------------------------------------------


async def test_authenticator_crash_fails_closed(caplog: pytest.LogCaptureFixture) -> None:
    """An unexpected exception is a 4500 for the client and a traceback in the log, never an admission."""
    inner = RecordingApp()
    application = WardenMiddleware(inner, settings={"AUTHENTICATORS": [ExplodingAuthenticator()]})
    communicator = WardenCommunicator(application, "/ws/", headers=[(b"authorization", b"Bearer abcdef")])
    outcome = await handshake(communicator)
    await communicator.wait()
    assert (outcome.close_code, outcome.frame, inner.calls) == (4500, INTERNAL, 0)
    assert [
        (r.getMessage(), r.exc_info is not None) for r in caplog.records if r.levelno == logging.ERROR
    ] == [("authentication of websocket /ws/ failed", True)]


async def test_database_unavailable_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A database error while checking a token closes with 4500 ('retry with backoff')."""

    def database_down(self: DRFTokenAuthenticator, keys: Any) -> Any:
        raise OperationalError("database is locked")

    monkeypatch.setattr(DRFTokenAuthenticator, "authenticate_many", database_down)
    headers = [(b"authorization", b"Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b")]
    outcome = await handshake(WardenCommunicator(echo_application(), "/ws/echo/", headers=headers))
    assert (outcome.admitted, outcome.close_code, outcome.frame) == (False, 4500, INTERNAL)


async def test_crashing_transport_fails_closed() -> None:
    """A custom transport that crashes while choosing a subprotocol is a 4500, not a server error."""
    from channels_warden.transports import Transport

    class ExplodingTransport(Transport):
        name = "exploding"

        def find(self, scope: Any, *, max_bytes: int) -> Any:
            return None

        def accept_subprotocol(self, scope: Any) -> str | None:
            raise RuntimeError("bug in a custom transport")

    application = WardenMiddleware(RecordingApp(), settings={"TRANSPORTS": [ExplodingTransport()]})
    # Transports are asked for a subprotocol only when the client offered one.
    communicator = WardenCommunicator(application, "/ws/", subprotocols=["chat.v1"])
    outcome = await handshake(communicator)
    await communicator.wait()
    assert (outcome.close_code, outcome.frame) == (4500, INTERNAL)


# -- routing ---------------------------------------------------------------------------------------


def test_middleware_says_it_routes_when_its_app_does() -> None:
    """Wrapping a URLRouter keeps the _path_routing flag Channels uses for prefix routes."""
    assert (
        WardenMiddleware(URLRouter([]))._path_routing,
        getattr(WardenMiddlewareStack(URLRouter([])), "_path_routing", None),
        WardenMiddleware(RecordingApp())._path_routing,
        getattr(WardenMiddlewareStack(RecordingApp()), "_path_routing", None),
    ) == (True, True, False, False)


async def test_stack_around_a_nested_router_keeps_prefix_routing(alice: Any) -> None:
    """path('chat/', WardenMiddlewareStack(URLRouter([...]))) routes '/chat/ws/echo/' inside the prefix."""
    inner = URLRouter([path("ws/echo/", EchoConsumer.as_asgi())])
    application = URLRouter([path("chat/", WardenMiddlewareStack(inner))])
    communicator, outcome = await connect_as(application, alice, "/chat/ws/echo/", credential="jwt")
    assert outcome.admitted is True
    assert (await whoami(communicator))["user"] == "alice"


async def test_per_middleware_settings_under_one_router(alice: Any) -> None:
    """Two stacks under one router keep their own settings (deny mode on one prefix only)."""
    routes = [path("ws/", EchoConsumer.as_asgi())]
    application = URLRouter(
        [
            path("deny/", WardenMiddlewareStack(URLRouter(routes), settings={"REJECT_MODE": "deny"})),
            path("", WardenMiddlewareStack(URLRouter(routes))),
        ]
    )
    denied = await handshake(WardenCommunicator(application, "/deny/ws/", http_response_extension=True))
    closed = await handshake(WardenCommunicator(application, "/ws/", http_response_extension=True))
    assert ((denied.http_status, denied.close_code), (closed.http_status, closed.close_code)) == (
        (401, 1006),
        (None, 4401),
    )


# -- deny mode -------------------------------------------------------------------------------------


async def test_deny_mode_with_the_extension_answers_401() -> None:
    """Where the server supports websocket.http.response, deny mode answers 401 with the JSON body."""
    application = echo_application(REJECT_MODE="deny")
    communicator = WardenCommunicator(application, "/ws/echo/", http_response_extension=True)
    outcome = await handshake(communicator)
    assert outcome == HandshakeOutcome(
        admitted=False, http_status=401, close_code=1006, frame=UNAUTHENTICATED
    )


async def test_deny_mode_without_the_extension_is_a_403_for_the_client() -> None:
    """Without the extension deny mode can only close before accept, which a server turns into 403."""
    application = echo_application(REJECT_MODE="deny")
    outcome = await handshake(WardenCommunicator(application, "/ws/echo/"))
    assert outcome == HandshakeOutcome(admitted=False, http_status=403, close_code=1006)


async def test_deny_mode_without_credentials_challenges_without_an_error() -> None:
    """No credential presented: the 401's challenge names no error (RFC 6750 section 3.1)."""
    application = WardenMiddleware(RecordingApp(), settings={"REJECT_MODE": "deny"})
    communicator = WardenCommunicator(application, "/ws/", http_response_extension=True)
    await communicator.send_input({"type": "websocket.connect"})
    start = await communicator.receive_output()
    assert dict(start["headers"])[b"www-authenticate"] == b'Bearer realm="websocket"'


async def test_deny_mode_for_bad_credentials_carries_invalid_token(transactional_db: None) -> None:
    """An unknown token: the 401 carries WWW-Authenticate with RFC 6750's invalid_token."""
    application = WardenMiddleware(RecordingApp(), settings={"REJECT_MODE": "deny"})
    communicator = WardenCommunicator(
        application, "/ws/", headers=[(b"authorization", b"Token " + b"0" * 40)], http_response_extension=True
    )
    await communicator.send_input({"type": "websocket.connect"})
    start = await communicator.receive_output()
    assert dict(start["headers"])[b"www-authenticate"] == b'Bearer realm="websocket", error="invalid_token"'


# -- unknown routes ----------------------------------------------------------------------------------

NOT_FOUND = {"type": "warden.disconnect", "code": 4404, "reason": "not_found", "reconnect": "never"}


def routed(app: Any, **kwargs: Any) -> Any:
    """Warden in front of a router with one route, ``/ws/echo/``."""
    return WardenMiddleware(URLRouter([path("ws/echo/", app)]), **kwargs)


async def test_unknown_path_is_refused_with_4404(caplog: pytest.LogCaptureFixture) -> None:
    """A path no route matches is a 4404 close (never a 500), logged with the path, credential masked."""
    jwt = jwt_shaped(b"signature")
    inner = RecordingApp()
    app = routed(inner, settings={"ALLOW_ANONYMOUS": True})
    communicator = WardenCommunicator(app, "/ws/")
    communicator.scope["path"] = f"/ws/{jwt}/\r\nx"  # as a server decodes %0d%0a
    with caplog.at_level(logging.INFO, logger="channels_warden"):
        outcome = await handshake(communicator)
    assert (outcome.close_code, outcome.frame, inner.calls) == (4404, NOT_FOUND, 0)
    assert [r.getMessage() for r in caplog.records if r.name == "channels_warden.auth"] == [
        "refused websocket /ws/[redacted]/\\r\\nx from 127.0.0.1 via -: 4404 not_found; check route: "
        "no route below warden matches the path; hint: no route matches; the path has no trailing "
        "slash, and URLRouter does not redirect like APPEND_SLASH: check the client's URL against "
        "websocket_urlpatterns (warden_explain lists them)"
    ]


async def test_unknown_path_in_deny_mode_is_an_http_404() -> None:
    """In deny mode an unknown path is an HTTP 404 with the disconnect frame as its body."""
    app = routed(RecordingApp(), settings={"REJECT_MODE": "deny"})
    outcome = await handshake(WardenCommunicator(app, "/ws/nope/", http_response_extension=True))
    assert (outcome.http_status, outcome.frame) == (404, NOT_FOUND)


async def test_invalid_credentials_on_an_unknown_path_are_refused_first() -> None:
    """Credentials are judged before routing: a bad token on an unknown path is still 4400/4401."""
    app = routed(RecordingApp())
    communicator = WardenCommunicator(app, "/ws/nope/", headers=[(b"authorization", b"Basic x")])
    assert (await handshake(communicator)).close_code == 4400


async def test_nested_warden_without_fall_through_refuses_with_4404() -> None:
    """``fall_through=False`` makes a warden inside a router own the end of its routes."""
    router = URLRouter(
        [path("p/", WardenMiddlewareStack(URLRouter([path("ws/echo/", RecordingApp())]), fall_through=False))]
    )
    outcome = await handshake(WardenCommunicator(router, "/p/ws/nope/"))
    assert (outcome.close_code, outcome.frame) == (4404, NOT_FOUND)


async def test_value_error_of_a_started_app_is_not_a_4404() -> None:
    """An application that raises ValueError after receiving connect is not mistaken for a missing route."""

    async def broken(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        raise ValueError("No route found for path 'inside the app'.")

    app = routed(broken, settings={"ALLOW_ANONYMOUS": True})
    scope = {"type": "websocket", "path": "/ws/echo/", "headers": [], "subprotocols": [], "query_string": b""}
    with pytest.raises(ValueError, match="inside the app"):
        await app(scope, queue_receive({"type": "websocket.connect"}), SentMessages())


async def test_subprotocols_the_server_decoded_differently_are_refused_with_4400() -> None:
    """A percent-encoded comma daphne split apart is 4400, and warden echoes no subprotocol."""
    inner = RecordingApp()
    communicator = WardenCommunicator(WardenMiddleware(inner), "/ws/", subprotocols=["warden", "bearer.x"])
    communicator.scope["headers"].append((b"sec-websocket-protocol", b"warden%2Cbearer.x"))
    outcome = await handshake(communicator)
    assert (outcome.close_code, outcome.subprotocol, inner.calls) == (4400, None, 0)


# -- protocol adapters (GraphQL) -----------------------------------------------------------------


def graphql_scope() -> dict[str, Any]:
    return {"type": "websocket", "path": "/graphql/", "headers": [], "subprotocols": ["graphql-transport-ws"]}


async def test_graphql_socket_is_accepted_with_its_subprotocol_before_a_refusal() -> None:
    """A GraphQL client without credentials: accepted with its subprotocol, then 4401, no warden frame."""
    inner = RecordingApp()
    send = SentMessages()
    receive = queue_receive(
        {"type": "websocket.connect"}, {"type": "websocket.receive", "text": '{"type": "connection_init"}'}
    )
    await WardenMiddleware(inner, settings={"ALLOW_MISSING_ORIGIN": True})(graphql_scope(), receive, send)
    assert inner.events == []  # the application never saw websocket.connect
    assert send == [
        {"type": "websocket.accept", "subprotocol": "graphql-transport-ws"},
        {"type": "websocket.close", "code": 4401, "reason": "unauthenticated"},
    ]


async def test_broken_protocol_adapter_setting_fails_closed() -> None:
    """A ``PROTOCOL_ADAPTERS`` entry that cannot be imported closes with 4500; the app never runs."""
    inner = RecordingApp()
    send = SentMessages()
    settings = {"PROTOCOL_ADAPTERS": {"graphql-transport-ws": "no.such.Adapter"}}
    await WardenMiddleware(inner, settings=settings)(
        graphql_scope(), queue_receive({"type": "websocket.connect"}), send
    )
    assert (inner.calls, [message.get("code") for message in send]) == (0, [None, None, 4500])
