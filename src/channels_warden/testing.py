"""Helpers for testing consumers behind warden.

``WebsocketCommunicator`` talks to the application directly, so it reports a close *before*
``accept`` as a close code. A real server (daphne, uvicorn) turns that into an HTTP 403 and a browser
reports close code 1006 with no reason. :func:`handshake` says what a real client would see, so
tests do not pass on the communicator and fail in production::

    communicator, outcome = await connect_as(application, alice, "/ws/chat/lobby/", credential="jwt")
    assert outcome.admitted

    outcome = await handshake(WardenCommunicator(application, "/ws/chat/lobby/"))
    assert outcome.close_code == CloseCode.UNAUTHENTICATED

Importing this module does not import daphne: :class:`WardenCommunicator` builds on
:class:`channels_warden.communicator.WebsocketCommunicator`, not on ``channels.testing`` (whose
package imports daphne's live server), so a project served by uvicorn alone can use it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import import_module
from typing import Any, Literal

from channels.db import database_sync_to_async
from django.conf import settings

from ._types import ASGIApp, Message
from .communicator import WebsocketCommunicator

#: Close code a browser reports when the server refused the HTTP upgrade.
ABNORMAL_CLOSURE = 1006

CredentialKind = Literal["session", "jwt", "drf", "knox"]
TransportKind = Literal["cookie", "header", "subprotocol", "query"]

_DEFAULT_TRANSPORT: dict[str, TransportKind] = {
    "session": "cookie",
    "jwt": "subprotocol",
    "drf": "header",
    "knox": "header",
}
_SCHEME = {"jwt": ("Bearer", "bearer"), "drf": ("Token", "token"), "knox": ("Token", "token")}


class WardenCommunicator(WebsocketCommunicator):
    """A ``WebsocketCommunicator`` whose scope looks like a real server's.

    It adds ``Host`` and ``Origin`` headers, ``client`` and ``server`` addresses and, optionally, the
    ``websocket.http.response`` extension that uvicorn offers and daphne does not.
    """

    def __init__(
        self,
        application: ASGIApp,
        path: str,
        *,
        headers: Iterable[tuple[bytes, bytes]] = (),
        subprotocols: Sequence[str] = (),
        origin: str | None = "http://testserver",
        host: str = "testserver",
        http_response_extension: bool = False,
    ) -> None:
        all_headers = [(b"host", host.encode())]
        if origin is not None:
            all_headers.append((b"origin", origin.encode()))
        all_headers.extend(headers)
        super().__init__(application, path, headers=all_headers, subprotocols=list(subprotocols))
        self.scope["client"] = ["127.0.0.1", 50000]
        self.scope["server"] = ["127.0.0.1", 8000]
        if http_response_extension:
            self.scope["extensions"] = {"websocket.http.response": {}}
        self._pushed_back: list[Message] = []

    async def receive_output(self, timeout: float = 1) -> Message:
        if self._pushed_back:
            return self._pushed_back.pop(0)
        message: Message = await super().receive_output(timeout)
        return message

    def push_back(self, message: Message) -> None:
        """Return a message to the front of the queue (used by :func:`handshake`)."""
        self._pushed_back.append(message)


@dataclass(frozen=True)
class HandshakeOutcome:
    """What a client of a real ASGI server observes during the handshake.

    Attributes:
        admitted: the socket is open and warden did not close it.
        http_status: status of the HTTP response that refused the upgrade, if it was refused there.
        close_code: the close code the client sees (1006 after an HTTP refusal, as browsers report it).
        frame: the ``warden.disconnect`` frame, when warden sent one.
        subprotocol: the subprotocol the server selected.
    """

    admitted: bool
    http_status: int | None = None
    close_code: int | None = None
    frame: dict[str, Any] | None = None
    subprotocol: str | None = None


async def handshake(communicator: WardenCommunicator, timeout: float = 1.0) -> HandshakeOutcome:
    """Connect and report what a real server would send back."""
    await communicator.send_input({"type": "websocket.connect"})
    first = await communicator.receive_output(timeout)
    if first["type"] == "websocket.close":
        return HandshakeOutcome(admitted=False, http_status=403, close_code=ABNORMAL_CLOSURE)
    if first["type"] == "websocket.http.response.start":
        body = await communicator.receive_output(timeout)
        frame = json.loads(body.get("body", b"") or b"null")
        return HandshakeOutcome(
            admitted=False, http_status=first["status"], close_code=ABNORMAL_CLOSURE, frame=frame
        )
    assert first["type"] == "websocket.accept", first
    subprotocol = first.get("subprotocol")
    if await communicator.receive_nothing(timeout=0.05):  # type: ignore[no-untyped-call]
        return HandshakeOutcome(admitted=True, subprotocol=subprotocol)
    second = await communicator.receive_output(timeout)
    frame = _disconnect_frame(second)
    if frame is None:
        communicator.push_back(second)
        return HandshakeOutcome(admitted=True, subprotocol=subprotocol)
    close = await communicator.receive_output(timeout)
    return HandshakeOutcome(
        admitted=False, close_code=close.get("code"), frame=frame, subprotocol=subprotocol
    )


def _disconnect_frame(message: Message) -> dict[str, Any] | None:
    if message.get("type") != "websocket.send" or not message.get("text"):
        return None
    try:
        payload = json.loads(message["text"])
    except ValueError:
        return None
    if isinstance(payload, dict) and payload.get("type") == "warden.disconnect":
        return payload
    return None


def session_key_for(user: Any) -> str:
    """Create a logged-in session for ``user``, as ``Client.force_login`` does; return its key."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = getattr(user, "backend", None) or settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return str(session.session_key)


def credential_for(user: Any, kind: CredentialKind) -> str:
    """Mint a credential of ``kind`` for ``user`` (blocking: call through ``database_sync_to_async``)."""
    if kind == "session":
        return session_key_for(user)
    if kind == "jwt":
        from rest_framework_simplejwt.tokens import AccessToken

        return str(AccessToken.for_user(user))
    if kind == "drf":
        from rest_framework.authtoken.models import Token

        return str(Token.objects.get_or_create(user=user)[0].key)
    if kind == "knox":
        from knox.models import get_token_model

        return str(get_token_model().objects.create(user=user)[1])
    raise ValueError(f"unknown credential kind {kind!r}; use session, jwt, drf or knox")


def credential_request(
    kind: CredentialKind, secret: str, transport: TransportKind, *, cookie_name: str = "access_token"
) -> tuple[list[tuple[bytes, bytes]], list[str], str]:
    """Headers, subprotocols and query string that carry ``secret`` over ``transport``."""
    if kind == "session":
        if transport != "cookie":
            raise ValueError("session credentials travel in the session cookie only")
        return [(b"cookie", f"{settings.SESSION_COOKIE_NAME}={secret}".encode())], [], ""
    keyword, scheme = _SCHEME[kind]
    if transport == "header":
        return [(b"authorization", f"{keyword} {secret}".encode())], [], ""
    if transport == "subprotocol":
        from .conf import warden_settings

        return [], [str(warden_settings.SUBPROTOCOL), f"{scheme}.{secret}"], ""
    if transport == "query":
        return [], [], f"token={secret}"
    return [(b"cookie", f"{cookie_name}={secret}".encode())], [], ""


async def connect_as(
    application: ASGIApp,
    user: Any,
    path: str = "/ws/",
    *,
    credential: CredentialKind = "session",
    transport: TransportKind | None = None,
    origin: str | None = "http://testserver",
) -> tuple[WardenCommunicator, HandshakeOutcome]:
    """Open a socket as ``user`` with a freshly minted credential, in one line.

    Args:
        application: the ASGI application (your ``application`` or a ``WardenMiddlewareStack``).
        user: the user to connect as.
        path: the WebSocket path, optionally with a query string.
        credential: ``session``, ``jwt`` (SimpleJWT access token), ``drf`` or ``knox``.
        transport: ``cookie``, ``header``, ``subprotocol`` or ``query``; a sensible default per kind.
        origin: the Origin header to send, ``None`` for none.
    """
    secret = await database_sync_to_async(credential_for)(user, credential)
    headers, subprotocols, query = credential_request(
        credential, secret, transport or _DEFAULT_TRANSPORT[credential]
    )
    if query:
        path = f"{path}{'&' if '?' in path else '?'}{query}"
    communicator = WardenCommunicator(
        application, path, headers=headers, subprotocols=subprotocols, origin=origin
    )
    return communicator, await handshake(communicator)
