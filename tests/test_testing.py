"""channels_warden.testing: a communicator that looks like a real server, and what a real client sees."""

from __future__ import annotations

from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from rest_framework.authtoken.models import Token

from channels_warden import WardenMiddleware, guard
from channels_warden.testing import (
    ABNORMAL_CLOSURE,
    HandshakeOutcome,
    WardenCommunicator,
    connect_as,
    credential_for,
    credential_request,
    handshake,
)
from tests.inprocess import UNAUTHENTICATED, RecordingApp, echo_application, whoami

pytestmark = pytest.mark.usefixtures("stop_revocation_listener")


@pytest.fixture
def alice(transactional_db: None, make_user: Any) -> Any:
    return make_user("alice")


async def close_before_accept(scope: Any, receive: Any, send: Any) -> None:
    """An application that refuses by closing before it accepts (what deny mode does on daphne)."""
    await receive()
    await send({"type": "websocket.close", "code": 4401})


# -- what a real server would show -----------------------------------------------------------------


async def test_websocket_communicator_reports_a_close_code_a_browser_never_sees() -> None:
    """Channels' communicator reports close code 4401 for a close before accept..."""
    communicator = WebsocketCommunicator(close_before_accept, "/ws/")
    assert await communicator.connect() == (False, 4401)


async def test_handshake_reports_what_a_real_server_sends_for_a_close_before_accept() -> None:
    """...but daphne and uvicorn answer HTTP 403 and a browser reports 1006: handshake() says so."""
    outcome = await handshake(WardenCommunicator(close_before_accept, "/ws/"))
    assert outcome == HandshakeOutcome(admitted=False, http_status=403, close_code=ABNORMAL_CLOSURE)


async def test_handshake_reads_an_http_denial() -> None:
    """A websocket.http.response denial is reported with its status and JSON body."""
    app = WardenMiddleware(RecordingApp(), settings={"REJECT_MODE": "deny"})
    outcome = await handshake(WardenCommunicator(app, "/ws/", http_response_extension=True))
    assert outcome == HandshakeOutcome(
        admitted=False, http_status=401, close_code=ABNORMAL_CLOSURE, frame=UNAUTHENTICATED
    )


async def test_handshake_reads_an_empty_http_denial() -> None:
    """An HTTP denial without a body has no frame."""

    async def deny(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.http.response.start", "status": 403, "headers": []})
        await send({"type": "websocket.http.response.body", "body": b""})

    outcome = await handshake(WardenCommunicator(deny, "/ws/", http_response_extension=True))
    assert outcome == HandshakeOutcome(admitted=False, http_status=403, close_code=ABNORMAL_CLOSURE)


async def test_handshake_reads_the_frame_and_close_code() -> None:
    """In close mode the outcome carries warden's frame and close code."""
    outcome = await handshake(WardenCommunicator(WardenMiddleware(RecordingApp()), "/ws/"))
    assert outcome == HandshakeOutcome(admitted=False, close_code=4401, frame=UNAUTHENTICATED)


@pytest.mark.parametrize(
    "first",
    [
        {"type": "websocket.send", "text": "hello"},
        {"type": "websocket.send", "text": '{"type": "chat.message"}'},
        {"type": "websocket.send", "text": "[1, 2]"},
        {"type": "websocket.send", "bytes": b"\x00"},
    ],
)
async def test_application_frames_after_accept_are_kept_for_the_test(first: dict[str, Any]) -> None:
    """A frame the app sends right after accepting is not a refusal, and is still there to receive."""
    app = WardenMiddleware(guard(RecordingApp(after_accept=[first]), allow_anonymous=True))
    communicator = WardenCommunicator(app, "/ws/")
    outcome = await handshake(communicator)
    assert (outcome.admitted, await communicator.receive_output()) == (True, first)
    await communicator.disconnect()


# -- the communicator's scope ---------------------------------------------------------------------------


def test_communicator_scope_looks_like_a_real_servers() -> None:
    """Host, Origin, client and server are filled in; extra headers follow."""
    communicator = WardenCommunicator(
        RecordingApp(), "/ws/?room=1", headers=[(b"x-trace", b"1")], subprotocols=["warden"]
    )
    scope = communicator.scope
    assert (
        scope["headers"],
        scope["client"],
        scope["server"],
        scope["subprotocols"],
        "extensions" in scope,
    ) == (
        [(b"host", b"testserver"), (b"origin", b"http://testserver"), (b"x-trace", b"1")],
        ["127.0.0.1", 50000],
        ["127.0.0.1", 8000],
        ["warden"],
        False,
    )


def test_communicator_without_origin_and_with_the_extension() -> None:
    """origin=None sends no Origin; the extension flag adds websocket.http.response like uvicorn."""
    scope = WardenCommunicator(RecordingApp(), "/ws/", origin=None, http_response_extension=True).scope
    assert (scope["headers"], scope["extensions"]) == (
        [(b"host", b"testserver")],
        {"websocket.http.response": {}},
    )


# -- credentials ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "transport", "request_parts"),
    [
        ("session", "cookie", ([(b"cookie", b"sessionid=s3cr3t")], [], "")),
        ("jwt", "subprotocol", ([], ["warden", "bearer.s3cr3t"], "")),
        ("jwt", "header", ([(b"authorization", b"Bearer s3cr3t")], [], "")),
        ("jwt", "query", ([], [], "token=s3cr3t")),
        ("jwt", "cookie", ([(b"cookie", b"access_token=s3cr3t")], [], "")),
        ("drf", "header", ([(b"authorization", b"Token s3cr3t")], [], "")),
        ("knox", "subprotocol", ([], ["warden", "token.s3cr3t"], "")),
    ],
)
def test_credential_request_carries_the_secret(kind: Any, transport: Any, request_parts: Any) -> None:
    """Each credential kind travels over each transport the way a client sends it."""
    assert credential_request(kind, "s3cr3t", transport) == request_parts


def test_credential_request_follows_session_cookie_name(settings: Any) -> None:
    """The session cookie is named by SESSION_COOKIE_NAME."""
    settings.SESSION_COOKIE_NAME = "warden_sid"
    assert credential_request("session", "s3cr3t", "cookie") == ([(b"cookie", b"warden_sid=s3cr3t")], [], "")


def test_session_credentials_only_travel_in_the_cookie() -> None:
    """A session key in a header is a test mistake, reported as such."""
    with pytest.raises(ValueError, match=r"^session credentials travel in the session cookie only$"):
        credential_request("session", "s3cr3t", "header")


def test_unknown_credential_kind() -> None:
    """An unknown kind says which kinds exist."""
    with pytest.raises(ValueError, match=r"^unknown credential kind 'oauth'; use session, jwt, drf or knox$"):
        credential_for(object(), "oauth")  # type: ignore[arg-type]


@pytest.mark.django_db
def test_credential_for_reuses_a_drf_token(make_user: Any) -> None:
    """DRF has one token per user: minting twice returns the same key."""
    user = make_user()
    assert credential_for(user, "drf") == credential_for(user, "drf") == Token.objects.get(user=user).key


@pytest.mark.parametrize("kind", ["session", "jwt", "drf"])
async def test_connect_as_admits_each_credential_kind(alice: Any, kind: Any) -> None:
    """connect_as mints a credential, sends it the default way and reports the outcome."""
    communicator, outcome = await connect_as(echo_application(), alice, "/ws/echo/", credential=kind)
    assert outcome.admitted is True
    assert (await whoami(communicator))["user"] == "alice"


async def test_connect_as_knox(alice: Any) -> None:
    """A knox token is minted and sent in the Authorization header."""
    app = echo_application(AUTHENTICATORS=["channels_warden.authenticators.KnoxAuthenticator"])
    communicator, outcome = await connect_as(app, alice, "/ws/echo/", credential="knox")
    assert outcome.admitted is True
    assert (await whoami(communicator))["authenticator"] == "knox"


async def test_connect_as_query_transport_keeps_the_path_query(alice: Any) -> None:
    """A query-string credential is appended to a path that has a query already, then redacted."""
    transports = ["channels_warden.transports.QueryStringTransport"]
    app = echo_application(TRANSPORTS=transports)
    communicator, outcome = await connect_as(
        app, alice, "/ws/echo/?room=1", credential="jwt", transport="query"
    )
    assert outcome.admitted is True
    assert (await whoami(communicator))["query_string"] == "room=1"


async def test_connect_as_query_transport_on_a_bare_path(alice: Any) -> None:
    """On a path without a query the credential starts one; the app sees an empty query string."""
    app = echo_application(TRANSPORTS=["channels_warden.transports.QueryStringTransport"])
    communicator, outcome = await connect_as(app, alice, "/ws/echo/", credential="jwt", transport="query")
    assert outcome.admitted is True
    assert (await whoami(communicator))["query_string"] == ""
