"""One socket's Connection: the receive and send warden hands the application."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from django.contrib.auth.models import User

from channels_warden import WardenMiddleware, guard
from channels_warden.authenticators.base import BaseAuthenticator
from channels_warden.codes import CloseCode
from channels_warden.conf import WardenSettings
from channels_warden.connection import Connection, HandshakeRejected, connection_of, log_rejection
from channels_warden.credentials import Credential
from channels_warden.exceptions import AuthenticationFailed, PermissionDenied
from channels_warden.identity import AuthInfo, CredentialInfo
from channels_warden.permissions import BasePermission
from channels_warden.registry import registry
from channels_warden.revocation import disconnect, listener
from channels_warden.signals import (
    connection_admitted,
    connection_closed,
    connection_refreshed,
    connection_rejected,
    connection_revoked,
)
from channels_warden.testing import (
    WardenCommunicator,
    handshake,
)
from tests.inprocess import RecordingApp, SentMessages, jwt_for, queue_receive
from tests.project.consumers import EchoConsumer

pytestmark = pytest.mark.usefixtures("stop_revocation_listener")


# -- the application's own messages ----------------------------------------------------------------


async def test_app_subprotocol_choice_is_kept(alice: Any) -> None:
    """An app that selects its own protocol keeps it; warden only fills an empty choice."""
    inner = RecordingApp(subprotocol="chat.v1")
    communicator = WardenCommunicator(
        WardenMiddleware(inner), "/ws/", subprotocols=["warden", f"bearer.{jwt_for(alice)}", "chat.v1"]
    )
    outcome = await handshake(communicator)
    await communicator.disconnect()
    assert (outcome.subprotocol, inner.scope["subprotocols"]) == ("chat.v1", ["chat.v1"])


async def test_marker_filled_in_when_the_app_chose_none(alice: Any) -> None:
    """An app that accepts without a subprotocol gets 'warden' filled in for the client."""
    inner = RecordingApp()
    communicator = WardenCommunicator(
        WardenMiddleware(inner), "/ws/", subprotocols=["warden", f"bearer.{jwt_for(alice)}"]
    )
    outcome = await handshake(communicator)
    await communicator.disconnect()
    assert outcome.subprotocol == "warden"


async def test_app_receives_connect_then_the_clients_frames(alice: Any) -> None:
    """Once admitted, the app sees websocket.connect and then the client's events, in order."""
    inner = RecordingApp()
    communicator = WardenCommunicator(
        WardenMiddleware(inner), "/ws/", headers=[(b"authorization", f"Bearer {jwt_for(alice)}".encode())]
    )
    await handshake(communicator)
    await communicator.send_to(text_data="hello")
    await communicator.disconnect()
    assert inner.event_types == ["websocket.connect", "websocket.receive", "websocket.disconnect"]


async def test_sends_after_the_app_closed_are_dropped() -> None:
    """After the application's own close, further sends do not reach the server."""
    after = [{"type": "websocket.close", "code": 1000}, {"type": "websocket.send", "text": "late"}]
    inner = RecordingApp(after_accept=after)
    communicator = WardenCommunicator(WardenMiddleware(guard(inner, allow_anonymous=True)), "/ws/")
    await communicator.send_input({"type": "websocket.connect"})
    messages = [await communicator.receive_output(), await communicator.receive_output()]
    assert (messages[1], await communicator.receive_nothing()) == (
        {"type": "websocket.close", "code": 1000},
        True,
    )
    await communicator.disconnect()


async def test_app_scope_holds_the_connection(alice: Any) -> None:
    """The application's scope carries warden's connection for consumer helpers."""
    from channels_warden.connection import Connection, connection_of

    inner = RecordingApp()
    communicator = WardenCommunicator(
        WardenMiddleware(inner), "/ws/", headers=[(b"authorization", f"Bearer {jwt_for(alice)}".encode())]
    )
    await handshake(communicator)
    await communicator.disconnect()
    assert isinstance(connection_of(inner.scope), Connection)


# -- Channels consumers ----------------------------------------------------------------------------


class QuietConsumer(EchoConsumer):
    """Records whether its handlers ran."""

    calls: list[str] = []

    async def connect(self) -> None:
        self.calls.append("connect")
        await self.accept()

    async def disconnect(self, code: int) -> None:
        self.calls.append("disconnect")


async def test_refusal_keeps_channels_consumers_quiet() -> None:
    """A refused consumer runs neither connect nor disconnect, and nothing is raised to the server."""
    QuietConsumer.calls = []
    communicator = WardenCommunicator(WardenMiddleware(QuietConsumer.as_asgi()), "/ws/")
    outcome = await handshake(communicator)
    await communicator.wait()
    assert (outcome.close_code, QuietConsumer.calls, communicator.future.exception()) == (4401, [], None)


async def test_refusal_keeps_sync_consumers_quiet() -> None:
    """The same holds for a synchronous consumer: warden needs no base class."""
    from tests.project.consumers import SyncEchoConsumer

    communicator = WardenCommunicator(WardenMiddleware(SyncEchoConsumer.as_asgi()), "/ws/")
    outcome = await handshake(communicator)
    await communicator.wait()
    assert (outcome.close_code, communicator.future.exception()) == (4401, None)


async def test_app_that_accepts_before_receiving_is_refused_quietly() -> None:
    """An app that sends accept before asking for connect still goes through the policy."""

    async def eager(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "websocket.accept"})

    communicator = WardenCommunicator(WardenMiddleware(eager), "/ws/")
    outcome = await handshake(communicator)
    await communicator.wait()
    assert (outcome.close_code, communicator.future.exception()) == (4401, None)


# -- a live socket ---------------------------------------------------------------------------------

ALICE = User(pk=101, username="alice-live")
BOB = User(pk=102, username="bob-live")
#: token -> (user, seconds until it expires or None)
KEYS: dict[str, tuple[Any, float | None]] = {
    "alice-1": (ALICE, None),
    "alice-2": (ALICE, 3600.0),
    "alice-short": (ALICE, 0.2),
    "bob-1": (BOB, None),
}


class KeyAuthenticator(BaseAuthenticator):
    """Tokens from a table, so live-socket tests need no database."""

    name = "key"
    default_schemes = ("bearer",)

    async def authenticate(self, credential: Credential, scope: Any) -> Any:
        if credential.secret == "explode":
            raise RuntimeError("authenticator bug")
        if credential.secret not in KEYS:
            raise AuthenticationFailed("unknown key")
        user, lifetime = KEYS[credential.secret]
        expires_at = None if lifetime is None else time.time() + lifetime
        return user, CredentialInfo(expires_at=expires_at, token_id=f"key:{credential.secret}")


def live_app(inner: Any, **overrides: Any) -> WardenMiddleware:
    settings = {
        "TRANSPORTS": ["channels_warden.transports.AuthorizationHeaderTransport"],
        "AUTHENTICATORS": [KeyAuthenticator()],
        **overrides,
    }
    return WardenMiddleware(inner, settings=settings)


async def open_socket(app: Any, key: str | None = "alice-1") -> WardenCommunicator:
    headers = [] if key is None else [(b"authorization", f"Bearer {key}".encode())]
    communicator = WardenCommunicator(app, "/ws/", headers=headers)
    outcome = await handshake(communicator)
    assert outcome.admitted is True
    return communicator


async def closing(communicator: WardenCommunicator) -> tuple[dict[str, Any], dict[str, Any]]:
    """The warden.disconnect frame and the close that follow on a live socket."""
    frame = json.loads((await communicator.receive_output())["text"])
    close = await communicator.receive_output()
    return frame, close


async def test_credential_end_closes_the_socket_with_4498() -> None:
    """When the credential's expiry passes, warden closes the open socket with token_expired."""
    communicator = await open_socket(live_app(RecordingApp(), EXPIRY_WARNING=0), "alice-short")
    assert await closing(communicator) == (
        {"type": "warden.disconnect", "code": 4498, "reason": "token_expired", "reconnect": "refresh"},
        {"type": "websocket.close", "code": 4498, "reason": "token_expired"},
    )
    await communicator.disconnect()


async def test_expiry_is_announced_before_the_close() -> None:
    """EXPIRY_WARNING seconds before the end a warden.expiring frame names the end."""
    communicator = await open_socket(live_app(RecordingApp(), MAX_CONNECTION_AGE=0.3, EXPIRY_WARNING=0.2))
    warning = json.loads((await communicator.receive_output())["text"])
    frame, _ = await closing(communicator)
    assert (sorted(warning), warning["type"], frame["code"]) == (
        ["expires_at", "type"],
        "warden.expiring",
        4498,
    )
    await communicator.disconnect()


async def test_credential_shorter_than_the_warning_is_announced_at_once() -> None:
    """With less than EXPIRY_WARNING left at connect, warden.expiring goes out straight away."""
    communicator = await open_socket(live_app(RecordingApp(), MAX_CONNECTION_AGE=0.5, EXPIRY_WARNING=30))
    frame = json.loads((await communicator.receive_output(0.2))["text"])
    assert frame["type"] == "warden.expiring"


async def test_max_connection_age_caps_sockets_without_an_end() -> None:
    """MAX_CONNECTION_AGE closes even a socket whose credential never expires."""
    communicator = await open_socket(live_app(RecordingApp(), MAX_CONNECTION_AGE=0.2, EXPIRY_WARNING=0))
    frame, close = await closing(communicator)
    assert (frame["code"], close["code"]) == (4498, 4498)
    await communicator.disconnect()


async def test_refresh_extends_the_socket_and_never_reaches_the_app() -> None:
    """A warden.refresh for the same user swaps the credential; the app sees only its own frames."""
    inner = RecordingApp()
    communicator = await open_socket(live_app(inner, EXPIRY_WARNING=0), "alice-short")
    await communicator.send_to(text_data='{"type": "warden.refresh", "token": "alice-2"}')
    refreshed = json.loads(await communicator.receive_from())
    await communicator.send_to(text_data="hello")
    assert await communicator.receive_nothing(timeout=0.3) is True  # the short credential's end is gone
    await communicator.disconnect()
    assert (refreshed["type"], inner.event_types, inner.scope["warden"].auth.token_id) == (
        "warden.refreshed",
        ["websocket.connect", "websocket.receive", "websocket.disconnect"],
        "key:alice-2",
    )


async def test_refresh_for_another_user_closes_with_4401() -> None:
    """A refresh cannot switch users: the socket is closed."""
    communicator = await open_socket(live_app(RecordingApp()))
    await communicator.send_to(text_data='{"type": "warden.refresh", "token": "bob-1"}')
    assert (await closing(communicator))[1] == {
        "type": "websocket.close",
        "code": 4401,
        "reason": "unauthenticated",
    }
    await communicator.disconnect()


async def test_refresh_with_an_invalid_token_closes_with_4401() -> None:
    """A refresh the authenticator refuses closes the socket."""
    communicator = await open_socket(live_app(RecordingApp()))
    await communicator.send_to(text_data='{"type": "warden.refresh", "token": "nope"}')
    assert (await closing(communicator))[1]["code"] == 4401
    await communicator.disconnect()


async def test_refresh_without_a_token_is_a_bad_request() -> None:
    """A refresh frame without a token string closes with 4400."""
    communicator = await open_socket(live_app(RecordingApp()))
    await communicator.send_to(text_data='{"type": "warden.refresh", "token": 42}')
    assert (await closing(communicator))[1]["code"] == 4400
    await communicator.disconnect()


async def test_refresh_on_an_anonymous_socket_is_refused() -> None:
    """An anonymous socket has nobody to refresh."""
    communicator = await open_socket(live_app(guard(RecordingApp(), allow_anonymous=True)), None)
    await communicator.send_to(text_data='{"type": "warden.refresh", "token": "alice-1"}')
    assert (await closing(communicator))[1]["code"] == 4401
    await communicator.disconnect()


async def test_unknown_control_frame_is_a_bad_request() -> None:
    """The warden.* frame namespace is reserved: an unknown type closes with 4400."""
    communicator = await open_socket(live_app(RecordingApp()))
    await communicator.send_to(text_data='{"type": "warden.hello"}')
    assert (await closing(communicator))[1]["code"] == 4400
    await communicator.disconnect()


async def test_refresh_that_crashes_fails_closed() -> None:
    """An unexpected error during a refresh closes the socket with 4500."""
    communicator = await open_socket(live_app(RecordingApp()))
    await communicator.send_to(text_data='{"type": "warden.refresh", "token": "explode"}')
    assert (await closing(communicator))[1]["code"] == 4500
    await communicator.disconnect()


async def test_application_json_is_not_a_control_frame() -> None:
    """JSON whose type is not warden.* reaches the application."""
    inner = RecordingApp()
    communicator = await open_socket(live_app(inner))
    await communicator.send_to(text_data='{"type": "chat.message", "text": "warden.refresh"}')
    await communicator.disconnect()
    assert inner.events[1] == {
        "type": "websocket.receive",
        "text": '{"type": "chat.message", "text": "warden.refresh"}',
    }


async def test_revocation_closes_the_socket_with_4499() -> None:
    """disconnect(user=...) reaches the socket through the channel layer and closes it as revoked."""
    communicator = await open_socket(live_app(RecordingApp()))
    await asyncio.wait_for(listener.joined.wait(), timeout=5)
    await disconnect(user=ALICE)
    assert await closing(communicator) == (
        {"type": "warden.disconnect", "code": 4499, "reason": "revoked", "reconnect": "never"},
        {"type": "websocket.close", "code": 4499, "reason": "revoked"},
    )
    await communicator.disconnect()


async def test_revocation_by_token_spares_other_tokens() -> None:
    """A revocation naming one token closes that token's sockets only."""
    first = await open_socket(live_app(RecordingApp()), "alice-1")
    second = await open_socket(live_app(RecordingApp()), "alice-2")
    await asyncio.wait_for(listener.joined.wait(), timeout=5)
    await disconnect(token="key:alice-1")
    assert ((await closing(first))[1]["code"], await second.receive_nothing(timeout=0.2)) == (4499, True)
    await first.disconnect()
    await second.disconnect()


async def test_closed_socket_leaves_the_registry() -> None:
    """When the client hangs up, the socket is no longer a revocation target."""
    communicator = await open_socket(live_app(RecordingApp()))
    assert len(registry.matching(user=str(ALICE.pk))) == 1
    await communicator.disconnect()
    assert registry.matching(user=str(ALICE.pk)) == []


# -- first-message authentication ----------------------------------------------------------------------


def first_message_app(inner: Any, **overrides: Any) -> WardenMiddleware:
    return live_app(guard(inner, first_message=True), **overrides)


async def test_first_message_auth_admits_after_the_auth_frame() -> None:
    """Without handshake credentials, warden accepts, reads warden.auth, then hands the app its connect."""
    inner = RecordingApp()
    communicator = WardenCommunicator(first_message_app(inner), "/ws/")
    await communicator.send_input({"type": "websocket.connect"})
    accept = await communicator.receive_output()
    await communicator.send_to(text_data='{"type": "warden.auth", "token": "alice-1"}')
    authenticated = json.loads(await communicator.receive_from())
    await communicator.send_to(text_data="hello")
    await communicator.disconnect()
    assert (accept["type"], authenticated, inner.event_types, inner.scope["user"]) == (
        "websocket.accept",
        {"type": "warden.authenticated", "expires_at": None},
        ["websocket.connect", "websocket.receive", "websocket.disconnect"],
        ALICE,
    )


class CountingKeyAuthenticator(KeyAuthenticator):
    """A cacheable KeyAuthenticator that counts the credentials it had to judge."""

    cacheable = True
    judged = 0

    async def authenticate(self, credential: Credential, scope: Any) -> Any:
        type(self).judged += 1
        return await super().authenticate(credential, scope)


async def test_first_message_auth_uses_the_identity_cache() -> None:
    """A token sent in warden.auth that this process verified already is not judged again."""
    from channels_warden.identity_cache import identity_cache

    identity_cache.clear()
    CountingKeyAuthenticator.judged = 0
    app = first_message_app(
        RecordingApp(),
        AUTHENTICATORS=[CountingKeyAuthenticator()],
        IDENTITY_CACHE={"TTL": 60, "MAX_ENTRIES": 10},
    )
    for _ in range(3):
        communicator = WardenCommunicator(app, "/ws/")
        await communicator.send_input({"type": "websocket.connect"})
        await communicator.receive_output()
        await communicator.send_to(text_data='{"type": "warden.auth", "token": "alice-1"}')
        assert json.loads(await communicator.receive_from())["type"] == "warden.authenticated"
        await communicator.disconnect()
    identity_cache.clear()
    assert CountingKeyAuthenticator.judged == 1


async def test_first_message_auth_names_its_scheme() -> None:
    """The frame may name the scheme; an unknown scheme is a 4400."""
    communicator = WardenCommunicator(first_message_app(RecordingApp()), "/ws/")
    await communicator.send_input({"type": "websocket.connect"})
    await communicator.receive_output()
    await communicator.send_to(text_data='{"type": "warden.auth", "token": "alice-1", "scheme": "Cookie"}')
    assert (await closing(communicator))[1]["code"] == 4400


async def test_first_message_timeout_closes_with_4408() -> None:
    """No warden.auth frame within AUTH_TIMEOUT closes with auth_timeout."""
    inner = RecordingApp()
    communicator = WardenCommunicator(first_message_app(inner, AUTH_TIMEOUT=0.05), "/ws/")
    await communicator.send_input({"type": "websocket.connect"})
    await communicator.receive_output()
    assert (await closing(communicator), inner.calls) == (
        (
            {"type": "warden.disconnect", "code": 4408, "reason": "auth_timeout", "reconnect": "retry"},
            {"type": "websocket.close", "code": 4408, "reason": "auth_timeout"},
        ),
        0,
    )


async def test_first_frame_that_is_not_auth_is_a_bad_request() -> None:
    """An ordinary frame where warden.auth was expected closes with 4400."""
    communicator = WardenCommunicator(first_message_app(RecordingApp()), "/ws/")
    await communicator.send_input({"type": "websocket.connect"})
    await communicator.receive_output()
    await communicator.send_to(text_data="hello")
    assert (await closing(communicator))[1]["code"] == 4400


async def test_client_leaving_during_first_message_auth() -> None:
    """A client that hangs up instead of authenticating ends quietly; the app never runs."""
    inner = RecordingApp()
    communicator = WardenCommunicator(first_message_app(inner), "/ws/")
    await communicator.send_input({"type": "websocket.connect"})
    await communicator.receive_output()
    await communicator.send_input({"type": "websocket.disconnect", "code": 1001})
    await communicator.wait()
    assert (inner.calls, await communicator.receive_nothing()) == (0, True)


async def test_handshake_credentials_skip_the_first_message() -> None:
    """A client that authenticated in the handshake is not asked for a frame."""
    inner = RecordingApp()
    communicator = await open_socket(first_message_app(inner))
    await communicator.disconnect()
    assert inner.event_types == ["websocket.connect", "websocket.disconnect"]


# -- small parts -----------------------------------------------------------------------------------------


def test_connection_of_a_scope_outside_warden_is_none() -> None:
    """Consumers can tell whether warden is in front of them."""
    assert connection_of({"type": "websocket"}) is None


def test_connection_repr_names_path_and_state() -> None:
    """A Connection prints its path, identity and whether it is live."""
    connection = Connection({"path": "/ws/"}, queue_receive(), SentMessages(), WardenSettings())
    assert repr(connection) == "<Connection '/ws/' auth=None live=False>"


def test_forbidden_refusals_are_logged_as_warnings(caplog: pytest.LogCaptureFixture) -> None:
    """4401 is routine (INFO); anything else, like 4403, is a WARNING."""
    log_rejection({"path": "/ws/", "client": ["10.0.0.1", 5000]}, PermissionDenied("not staff"), "header")
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "WARNING",
            "refused websocket /ws/ from 10.0.0.1 via header: 4403 forbidden; check handshake: not staff",
        )
    ]


def bare_connection(send: Any = None, **settings: Any) -> Connection:
    """A Connection outside any middleware, for its guard clauses."""
    return Connection(
        {"path": "/ws/"},
        queue_receive({"type": "websocket.connect"}),
        SentMessages() if send is None else send,
        WardenSettings(settings or None),
    )


async def test_reject_is_sent_once() -> None:
    """A second refusal of the same socket sends nothing."""
    sent = SentMessages()
    connection = bare_connection(sent)
    await connection.reject(PermissionDenied("first"))
    await connection.reject(PermissionDenied("second"))
    assert [message["type"] for message in sent] == ["websocket.accept", "websocket.send", "websocket.close"]


async def test_closed_connection_ignores_close_live_and_revoke() -> None:
    """Closing or revoking a closed socket sends nothing."""
    sent = SentMessages()
    connection = bare_connection(sent)
    connection.closed = True
    await connection.close_live(PermissionDenied("late"))
    assert (connection.revoke(CloseCode.REVOKED, "revoked"), sent) == (False, [])


async def test_closed_connection_refuses_policy() -> None:
    """A socket that is already closed cannot pass a route's policy."""
    connection = bare_connection()
    connection.closed = True
    assert await connection.enforce({"path": "/ws/"}, allow_anonymous=True) is False


async def test_accept_after_close_stops_the_app() -> None:
    """An app that tries to accept a socket warden closed is stopped with HandshakeRejected."""
    connection = bare_connection()
    connection.closed = True
    with pytest.raises(HandshakeRejected):
        await connection.send({"type": "websocket.accept"})


async def test_close_to_a_client_that_left_is_quiet() -> None:
    """If the client is gone while warden closes the socket, nothing is raised."""

    async def gone(message: Any) -> None:
        raise OSError("connection reset")

    connection = bare_connection(gone)
    await connection.close_live(PermissionDenied("revoked"))
    assert connection.closed is True


async def test_expiry_warning_after_close_is_not_sent() -> None:
    """A warning timer that fires after the socket closed sends nothing."""
    sent = SentMessages()
    connection = bare_connection(sent)
    connection.closed = True
    connection._on_expiring()
    await asyncio.sleep(0)
    assert sent == []


def test_rekey_of_an_unauthenticated_connection_is_a_no_op() -> None:
    """A connection with no identity has no session to re-key."""
    connection = bare_connection()
    connection.rekey_session("new")
    assert connection.auth is None


class NotOnAlice2(BasePermission):
    """Refuses the credential 'alice-2'; used to show that a refresh is re-checked."""

    def has_permission(self, scope: Any, auth: AuthInfo) -> bool:
        return auth.token_id != "key:alice-2"


async def test_refresh_is_checked_against_the_routes_permissions() -> None:
    """A refreshed credential must pass the route's permissions again, or the socket closes with 4403."""
    communicator = await open_socket(live_app(guard(RecordingApp(), permissions=[NotOnAlice2()])))
    await communicator.send_to(text_data='{"type": "warden.refresh", "token": "alice-2"}')
    assert (await closing(communicator))[1]["code"] == 4403
    await communicator.disconnect()


class PassingAuthenticator(BaseAuthenticator):
    """Claims bearer tokens and never recognises one."""

    name = "passing"
    default_schemes = ("bearer",)

    async def authenticate(self, credential: Credential, scope: Any) -> Any:
        return None


async def test_refresh_asks_only_the_admitting_authenticator() -> None:
    """A refresh is judged by the authenticator that admitted the socket, not the first in the list."""
    app = live_app(RecordingApp(), AUTHENTICATORS=[PassingAuthenticator(), KeyAuthenticator()])
    communicator = WardenCommunicator(app, "/ws/", headers=[(b"authorization", b"Bearer alice-1")])
    await handshake(communicator)
    await communicator.send_to(text_data='{"type": "warden.refresh", "token": "alice-2"}')
    refreshed = json.loads(await communicator.receive_from())
    await communicator.disconnect()
    assert refreshed["type"] == "warden.refreshed"


async def test_first_message_not_recognised_is_refused() -> None:
    """A warden.auth token every authenticator passes on is a 4401, not an anonymous socket."""
    app = live_app(guard(RecordingApp(), first_message=True), AUTHENTICATORS=[PassingAuthenticator()])
    communicator = WardenCommunicator(app, "/ws/")
    await communicator.send_input({"type": "websocket.connect"})
    await communicator.receive_output()
    await communicator.send_to(text_data='{"type": "warden.auth", "token": "alice-1"}')
    assert (await closing(communicator))[1]["code"] == 4401


# -- signals -------------------------------------------------------------------------------------------


async def refreshed_then_revoked() -> WardenCommunicator:
    """A socket admitted, refreshed in-band, then closed by a logout revocation (frames read)."""
    communicator = await open_socket(live_app(RecordingApp()))
    await communicator.send_to(text_data='{"type": "warden.refresh", "token": "alice-2"}')
    await communicator.receive_from()
    await asyncio.wait_for(listener.joined.wait(), timeout=5)
    await disconnect(user=ALICE, reason="logout")
    await closing(communicator)
    return communicator


async def test_lifecycle_signals_are_sent() -> None:
    """admitted, refreshed, revoked and closed are sent for a live socket, with its identity."""
    received: list[tuple[str, Any]] = []

    def receiver(signal_name: str) -> Any:
        def record(sender: Any, **kwargs: Any) -> None:
            received.append((signal_name, kwargs.get("reason", kwargs.get("code"))))

        return record

    receivers = {
        signal: receiver(name)
        for name, signal in (
            ("admitted", connection_admitted),
            ("refreshed", connection_refreshed),
            ("revoked", connection_revoked),
            ("closed", connection_closed),
        )
    }
    for signal, function in receivers.items():
        signal.connect(function, weak=False)
    try:
        communicator = await refreshed_then_revoked()
        # Revocation signals follow the close frames (so that no socket waits for receivers).
        for _ in range(100):
            if ("revoked", "logout") in received and ("closed", 4499) in received:
                break
            await asyncio.sleep(0.01)
        await communicator.disconnect()
    finally:
        for signal, function in receivers.items():
            signal.disconnect(function)
    assert sorted(received, key=lambda item: item[0]) == [
        ("admitted", None),
        ("closed", 4499),
        ("refreshed", None),
        ("revoked", "logout"),
    ]


async def test_rejected_signal_carries_code_reason_and_detail() -> None:
    """connection_rejected tells observers why, without the credential."""
    received: list[dict[str, Any]] = []

    def record(sender: Any, **kwargs: Any) -> None:
        received.append({key: kwargs[key] for key in ("code", "reason", "detail")})

    connection_rejected.connect(record, weak=False)
    try:
        headers = [(b"authorization", b"Bearer nope")]
        communicator = WardenCommunicator(live_app(RecordingApp()), "/ws/", headers=headers)
        await handshake(communicator)
        await communicator.wait()  # the signal follows the close
    finally:
        connection_rejected.disconnect(record)
    assert received == [{"code": 4401, "reason": "unauthenticated", "detail": "unknown key"}]


# -- Prometheus counters ---------------------------------------------------------------------------


def counter(name: str, **labels: str) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value(f"warden_{name}_total", labels) or 0.0


def lifecycle_counters() -> dict[str, float]:
    """The counters one admitted, refreshed, revoked socket and one refused handshake move."""
    return {
        "admitted": counter("connections_admitted", authenticator="key"),
        "refreshed": counter("connections_refreshed", authenticator="key"),
        "revoked": counter("connections_revoked", reason="logout"),
        "closed": counter("connections_closed", code="4499"),
        "rejected": counter("handshakes_rejected", code="4401", reason="unauthenticated"),
    }


async def test_counters_follow_a_socket_through_its_life() -> None:
    """Admitted, refreshed, revoked, closed and rejected are counted without any signal receiver."""
    assert not any(
        signal.has_listeners(Connection)
        for signal in (connection_admitted, connection_refreshed, connection_revoked, connection_closed)
    )
    before = lifecycle_counters()
    communicator = await refreshed_then_revoked()
    await communicator.disconnect()
    refused = WardenCommunicator(
        live_app(RecordingApp()), "/ws/", headers=[(b"authorization", b"Bearer nope")]
    )
    await handshake(refused)
    after = lifecycle_counters()
    assert {name: after[name] - before[name] for name in before} == dict.fromkeys(before, 1.0)


async def test_closing_for_expiry_counts_the_close_code() -> None:
    """A socket closed by its credential's end is counted under 4498."""
    before = counter("connections_closed", code="4498")
    communicator = await open_socket(live_app(RecordingApp(), EXPIRY_WARNING=0), "alice-short")
    await closing(communicator)
    await communicator.disconnect()
    assert counter("connections_closed", code="4498") - before == 1.0


def test_connect_metrics_registers_the_counters_once() -> None:
    """The app config connected them at start-up; connecting again is a no-op, not a duplicate."""
    from channels_warden.metrics import connect_metrics

    assert connect_metrics() is True
    assert connect_metrics() is True


def test_without_prometheus_client_counting_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ``prometheus_client`` nothing is registered and counting costs a ``None`` check."""
    import sys

    from channels_warden import metrics

    monkeypatch.setattr(metrics, "_counters", None)
    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    assert metrics.connect_metrics() is False
    metrics.count_admitted(None)
    metrics.count_rejected(4401, "unauthenticated")
    metrics.count_closed(1000)
    metrics.count_revoked("logout")
    metrics.count_refreshed(None)
    assert metrics._counters is None


async def test_closed_signal_follows_expiry_and_client_disconnects() -> None:
    """connection_closed carries 4498 for an expired socket and the client's code when it leaves."""
    codes: list[int] = []

    def record(sender: Any, code: int = 0, **kwargs: Any) -> None:
        codes.append(code)

    connection_closed.connect(record, weak=False)
    try:
        expired = await open_socket(live_app(RecordingApp(), EXPIRY_WARNING=0), "alice-short")
        await closing(expired)
        await expired.disconnect()
        left = await open_socket(live_app(RecordingApp()))
        await left.send_input({"type": "websocket.disconnect", "code": 1001})
        await left.wait()
        for _ in range(100):  # the client-side close is signalled from a task
            if 1001 in codes:
                break
            await asyncio.sleep(0.01)
    finally:
        connection_closed.disconnect(record)
    assert codes == [4498, 1001]


async def test_revoke_without_prepared_frames_builds_its_own() -> None:
    """A single revocation (no listener batch) still sends the frame and the close."""
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    connection = Connection({"type": "websocket", "path": "/ws/"}, receive, send, WardenSettings())
    first = connection.revoke(CloseCode.REVOKED, "logout")
    again = connection.revoke(CloseCode.REVOKED, "again")  # already closed: nothing more
    assert (first, again) == (True, False)
    await asyncio.gather(*(connection._tasks or ()))
    assert [message["type"] for message in sent] == ["websocket.send", "websocket.close"]
    assert sent[1] == {"type": "websocket.close", "code": 4499, "reason": "logout"}


async def test_an_infinite_credential_end_arms_no_timer() -> None:
    """An authenticator's ``expires_at`` of infinity means no end: no timer, the socket stays open."""
    connection = bare_connection(EXPIRY_WARNING=0)
    connection.auth = AuthInfo(user=object(), expires_at=float("inf"))
    connection.go_live()
    assert (connection.live, connection.expires_at(), connection._timer) == (True, float("inf"), None)
    connection.retire()


async def test_a_nan_credential_end_closes_at_once() -> None:
    """A NaN ``expires_at`` cannot be a timer (uvloop raises on it): the socket closes with 4498."""
    sent = SentMessages()
    connection = bare_connection(sent, EXPIRY_WARNING=0)
    connection.auth = AuthInfo(user=object(), expires_at=float("nan"))
    connection.go_live()
    await asyncio.sleep(0.05)
    assert [message.get("code") for message in sent] == [None, 4498]
