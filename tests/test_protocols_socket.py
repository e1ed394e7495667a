"""``ProtocolSocket``: the I/O around an adapter, with the server's receive and send as queues."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

import pytest

from channels_warden.admission import Admission
from channels_warden.conf import WardenSettings
from channels_warden.credentials import Credential
from channels_warden.exceptions import AuthenticationFailed, AuthTimeout, ConflictingCredentials
from channels_warden.identity import AuthInfo, CredentialInfo
from channels_warden.protocols import GraphQLTransportWSAdapter, GraphQLWSAdapter, ProtocolSocket

USERS = {
    "alice-token": SimpleNamespace(pk=1, username="alice", is_authenticated=True),
    "bob-token": SimpleNamespace(pk=2, username="bob", is_authenticated=True),
}


class StaticAuthenticator:
    """Knows two bearer tokens; refuses any other."""

    name = "static"
    schemes = frozenset({"bearer"})
    cacheable = False
    caches_users = False

    def handles(self, credential: Credential) -> bool:
        return credential.scheme in self.schemes

    async def authenticate(self, credential: Credential, scope: Any) -> Any:
        if credential.secret == "absent-token":
            return None  # DRF's "not mine": the next authenticator may judge it
        user = USERS.get(credential.secret)
        if user is None:
            raise AuthenticationFailed("unknown token")
        return user, CredentialInfo(expires_at=123.0)


class Server:
    """The server side of one socket: events to hand out, messages sent."""

    def __init__(self, *events: dict[str, Any]) -> None:
        self.events = asyncio.Queue[dict[str, Any]]()
        for event in events:
            self.events.put_nowait(event)
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        return await self.events.get()

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)


def settings() -> WardenSettings:
    return WardenSettings({"AUTHENTICATORS": [StaticAuthenticator()], "AUTH_TIMEOUT": 0.05})


def init(payload: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "websocket.receive", "text": json.dumps({"type": "connection_init", "payload": payload})}


def socket_for(server: Server, adapter: Any = None) -> ProtocolSocket:
    return ProtocolSocket(adapter or GraphQLTransportWSAdapter(), server.receive, server.send, settings())


def anonymous() -> Admission:
    return Admission(auth=AuthInfo.anonymous(), app_scope={"type": "websocket"})


async def test_open_accepts_with_the_subprotocol_and_replays_connect() -> None:
    """``open`` accepts with ``graphql-transport-ws``; the application still gets ``websocket.connect``."""
    server = Server({"type": "websocket.connect"})
    socket = socket_for(server)
    assert await socket.open() is True
    assert server.sent == [{"type": "websocket.accept", "subprotocol": "graphql-transport-ws"}]
    assert await socket.receive() == {"type": "websocket.connect"}


async def test_receive_reads_the_server_once_the_replay_is_over() -> None:
    """After the events read ahead, ``receive`` is the server's own."""
    server = Server({"type": "websocket.connect"})
    socket = socket_for(server)
    await socket.open()
    await socket.receive()
    server.events.put_nowait({"type": "websocket.receive", "text": "{}"})
    assert await socket.receive() == {"type": "websocket.receive", "text": "{}"}


async def test_open_reports_a_client_that_left() -> None:
    """A disconnect before connect: ``open`` is ``False`` and nothing is sent."""
    server = Server({"type": "websocket.disconnect", "code": 1006})
    assert await socket_for(server).open() is False
    assert server.sent == []


async def test_second_accept_is_absorbed() -> None:
    """The application's own ``accept`` after warden's is not sent to the server again."""
    server = Server({"type": "websocket.connect"})
    socket = socket_for(server)
    await socket.open()
    await socket.send({"type": "websocket.accept", "subprotocol": "graphql-transport-ws"})
    assert len(server.sent) == 1


async def test_warden_frames_are_dropped() -> None:
    """``warden.expiring`` and ``warden.disconnect`` never reach a ``graphql-transport-ws`` client."""
    server = Server()
    socket = socket_for(server)
    await socket.send({"type": "websocket.send", "text": '{"type":"warden.expiring","expires_at":1}'})
    await socket.send({"type": "websocket.send", "text": '{"type": "warden.disconnect", "code": 4499}'})
    assert server.sent == []


async def test_application_frames_pass_untouched() -> None:
    """A protocol message goes out as the application sent it."""
    server = Server()
    message = {"type": "websocket.send", "text": '{"type": "next", "id": "1", "payload": {}}'}
    await socket_for(server).send(message)
    assert server.sent == [message]


async def test_revocation_close_is_sent_as_4401() -> None:
    """Warden's 4499 goes out as 4401, the reason kept."""
    server = Server()
    await socket_for(server).send({"type": "websocket.close", "code": 4499, "reason": "revoked"})
    assert server.sent == [{"type": "websocket.close", "code": 4401, "reason": "revoked"}]


async def test_legacy_disconnect_frame_becomes_connection_error() -> None:
    """On the legacy protocol the ``warden.disconnect`` frame is replaced by ``connection_error``."""
    server = Server()
    text = json.dumps({"type": "warden.disconnect", "code": 4401, "reason": "unauthenticated"})
    await socket_for(server, GraphQLWSAdapter()).send({"type": "websocket.send", "text": text})
    assert [json.loads(message["text"]) for message in server.sent] == [
        {"type": "connection_error", "payload": {"message": "unauthenticated", "code": 4401}}
    ]


async def test_admit_authenticates_the_payload_credential_and_replays_without_it() -> None:
    """A bearer token in ``connection_init`` becomes the identity; the app's frame has no credential."""
    server = Server(init({"Authorization": "Bearer alice-token", "locale": "fr"}))
    socket = socket_for(server)
    admission = await socket.admit(anonymous(), {"type": "websocket"})
    assert admission is not None
    assert (admission.auth.user.username, admission.auth.transport, admission.auth.expires_at) == (
        "alice",
        "connection_init",
        123.0,
    )
    assert admission.app_scope["user"] is admission.auth.user
    replay = await socket.receive()
    assert json.loads(replay["text"]) == {"type": "connection_init", "payload": {"locale": "fr"}}


async def test_admit_without_credential_keeps_the_handshake_identity() -> None:
    """An empty ``connection_init`` leaves the handshake's admission as it was."""
    server = Server(init())
    admission = anonymous()
    assert await socket_for(server).admit(admission, {"type": "websocket"}) is admission


async def test_admit_times_out_with_4408() -> None:
    """No first frame within ``AUTH_TIMEOUT``: ``AuthTimeout``."""
    with pytest.raises(AuthTimeout):
        await socket_for(Server()).admit(anonymous(), {"type": "websocket"})


async def test_admit_reports_a_client_that_left() -> None:
    """A disconnect instead of ``connection_init``: ``None``."""
    server = Server({"type": "websocket.disconnect", "code": 1001})
    assert await socket_for(server).admit(anonymous(), {"type": "websocket"}) is None


async def test_admit_refuses_an_unknown_token_naming_the_transport() -> None:
    """An invalid payload credential raises, marked as coming from ``connection_init`` (for the log)."""
    server = Server(init({"token": "mallory-token"}))
    with pytest.raises(AuthenticationFailed) as caught:
        await socket_for(server).admit(anonymous(), {"type": "websocket"})
    assert caught.value.transport == "connection_init"


async def test_admit_refuses_a_second_user() -> None:
    """A handshake identity of alice and a payload credential of bob: conflicting credentials."""
    server = Server(init({"token": "bob-token"}))
    alice = AuthInfo(user=USERS["alice-token"], authenticator="session", transport="session")
    admission = Admission(auth=alice, app_scope={"type": "websocket"})
    with pytest.raises(ConflictingCredentials):
        await socket_for(server).admit(admission, {"type": "websocket"})


async def test_unmapped_close_goes_out_as_a_plain_int() -> None:
    """A code nobody maps keeps its number, as an ``int`` (daphne's autobahn refuses an ``IntEnum``)."""
    from channels_warden.codes import CloseCode

    server = Server()
    await socket_for(server).send(
        {"type": "websocket.close", "code": CloseCode.FORBIDDEN, "reason": "forbidden"}
    )
    assert [type(message["code"]) for message in server.sent] == [int]
    assert server.sent == [{"type": "websocket.close", "code": 4403, "reason": "forbidden"}]


async def test_close_without_code_passes_untouched() -> None:
    """An application's bare ``websocket.close`` (the server's 1000) is not given a code."""
    server = Server()
    await socket_for(server).send({"type": "websocket.close"})
    assert server.sent == [{"type": "websocket.close"}]


async def test_legacy_drops_warden_frames_other_than_disconnect() -> None:
    """On the legacy protocol ``warden.expiring`` has no equivalent and is dropped."""
    server = Server()
    await socket_for(server, GraphQLWSAdapter()).send(
        {"type": "websocket.send", "text": '{"type":"warden.expiring","expires_at":1}'}
    )
    assert server.sent == []


async def test_unreadable_warden_prefixed_text_is_dropped() -> None:
    """Text that starts like a warden frame but is not JSON is not sent (and does not raise)."""
    server = Server()
    await socket_for(server, GraphQLWSAdapter()).send(
        {"type": "websocket.send", "text": '{"type": "warden.x'}
    )
    assert server.sent == []


async def test_admit_refuses_a_credential_no_authenticator_accepts() -> None:
    """Every authenticator answering "absent" for a present credential is a refusal, never anonymous."""
    server = Server(init({"token": "absent-token"}))
    with pytest.raises(AuthenticationFailed):
        await socket_for(server).admit(anonymous(), {"type": "websocket"})
