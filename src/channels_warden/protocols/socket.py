"""The I/O around a :class:`~channels_warden.protocols.base.ProtocolAdapter`, for one socket.

A :class:`ProtocolSocket` sits between the server and warden's
:class:`~channels_warden.connection.Connection`:

* it accepts the socket with the adapter's subprotocol *before* authentication (:meth:`open`), since
  the credential only arrives in the first frame, and so every refusal is a close code the client
  reads, never an HTTP status (which a GraphQL client sees as 1006 and retries);
* it reads that first frame (:meth:`admit`), has the configured authenticators judge its credential,
  and replays ``websocket.connect`` and the frame, without the credential, to the application;
* on the way out (:meth:`send`) it drops warden's own frames (or replaces a ``warden.disconnect``
  with the protocol's frame) and sends each close with the code the protocol's clients understand.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from typing import Any

from .._types import Message, Receive, Scope, Send
from ..admission import Admission
from ..admission import _authenticate as authenticate_credential
from ..conf import WardenSettings
from ..exceptions import AuthenticationFailed, AuthTimeout, ConflictingCredentials, Rejection
from ..identity import AuthInfo
from .base import INIT_TRANSPORT, ProtocolAdapter

logger = logging.getLogger("channels_warden.auth")


class ProtocolSocket:
    """One socket of a protocol adapter: the server's ``receive``/``send`` as warden must use them."""

    __slots__ = ("_pending", "_receive", "_send", "accepted", "adapter", "settings")

    def __init__(
        self, adapter: ProtocolAdapter, receive: Receive, send: Send, settings: WardenSettings
    ) -> None:
        self.adapter = adapter
        self.settings = settings
        self.accepted = False
        self._receive = receive
        self._send = send
        self._pending: deque[Message] = deque()  # events read ahead, replayed to the application

    async def receive(self) -> Message:
        """The server's next event, after the ones read ahead during the handshake."""
        if self._pending:
            return self._pending.popleft()
        return await self._receive()

    async def send(self, message: Message) -> None:
        """The server's ``send``, minus warden's frames, with the protocol's close codes."""
        kind = message.get("type")
        if kind == "websocket.send":
            text = message.get("text")
            if self.adapter.is_warden_frame(text):
                replacement = self._replacement(text)
                if replacement is None:
                    return
                message = {"type": "websocket.send", "text": replacement}
        elif kind == "websocket.close" and "code" in message:
            wire = self.adapter.wire_close(int(message["code"]), str(message.get("reason", "")))
            message = {**message, "code": wire}
        elif kind == "websocket.accept":
            if self.accepted:
                return  # accepted by open() already; only Connection's own accept could follow
            self.accepted = True
        await self._send(message)

    def _replacement(self, text: Any) -> str | None:
        try:
            frame = json.loads(text)
        except ValueError:
            return None
        if not isinstance(frame, dict) or frame.get("type") != "warden.disconnect":
            return None
        return self.adapter.refusal_frame(frame)

    async def open(self) -> bool:
        """Accept with the adapter's subprotocol; ``False`` when the client left before connecting."""
        event = await self._receive()
        self._pending.append(event)
        if event.get("type") != "websocket.connect":
            return False
        await self.send({"type": "websocket.accept", "subprotocol": self.adapter.subprotocol})
        return True

    async def admit(self, admission: Admission, scope: Scope) -> Admission | None:
        """Read the first frame and authenticate its credential; ``None`` when the client left.

        The handshake's identity (cookie, header, ticket) stands when the frame carries no
        credential; a credential in the frame must name the same user, and wins (it is the explicit
        one, with its own expiry). ``scope`` is the original scope, for the authenticators.
        """
        timeout = self.adapter.init_timeout
        try:
            event = await asyncio.wait_for(
                self._receive(), float(self.settings.AUTH_TIMEOUT if timeout is None else timeout)
            )
        except TimeoutError:
            raise AuthTimeout(f"no {self.adapter.init_type} frame in time") from None
        if event.get("type") == "websocket.disconnect":
            return None
        try:
            info = await self._authenticate(event, scope)
        except Rejection as exc:
            exc.transport = exc.transport or INIT_TRANSPORT
            raise
        if info is None:
            return admission
        current = admission.auth
        if current.is_authenticated and _pk(current.user) != _pk(info.user):
            raise ConflictingCredentials(
                f"{self.adapter.init_type} and {current.transport} name different users"
            )
        app_scope = admission.app_scope
        app_scope["user"], app_scope["auth"] = info.user, info
        return Admission(auth=info, app_scope=app_scope)

    async def _authenticate(self, event: Message, scope: Scope) -> AuthInfo | None:
        credential, replay = self.adapter.parse_init(
            event, max_credential_bytes=int(self.settings.MAX_CREDENTIAL_BYTES)
        )
        self._pending.append(replay)
        if credential is None:
            return None
        info = await authenticate_credential(credential, scope, self.settings)
        if info is None:
            raise AuthenticationFailed(f"{self.adapter.init_type} credential was not accepted")
        return info


def _pk(user: Any) -> str:
    return str(getattr(user, "pk", None))
