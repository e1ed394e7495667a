"""One socket's authentication lifecycle, between the server and the application.

The middleware hands the application :meth:`Connection.receive` and :meth:`Connection.send` in place
of the server's. That is how warden protects any consumer, sync or async, with no base class:

* the application does not see ``websocket.connect`` until the route's policy allowed it;
* its ``websocket.accept`` gets the subprotocol the client needs;
* once accepted, the socket is *live*: registered for revocation, closed with 4498 when its
  credential ends (one ``loop.call_at`` handle per socket at a time, no task), refreshed in-band by
  ``warden.refresh`` frames, which never reach the application.

Every socket pays for what is here, so it is kept lean: ``__slots__``, no task per socket, the
Prometheus counters counted inline and the signals sent only when someone listens.

:class:`Connection` is the top of a stack of layers, one concept per module, each adding methods
and no slots (see :mod:`channels_warden.connection_state`); this module adds the application's
``receive`` and ``send``. The names other modules import stay importable from here.
"""

from __future__ import annotations

from typing import Any

from ._types import Message, Scope
from .connection_state import MembershipHook
from .control import event_payload, parse_control
from .exceptions import BadRequest
from .handshake_gate import HandshakeGate, HandshakeRejected
from .hints import log_rejection
from .inband_auth import DEFAULT_FRAME_SCHEME, MESSAGE_TRANSPORT

#: Where the application's scope holds the :class:`Connection` (read by :func:`~channels_warden.guard`).
SCOPE_KEY = "warden"


class Connection(HandshakeGate):
    """The auth lifecycle of one socket. Lives in ``scope["warden"]`` of the application's scope.

    ``auth`` is always the *current* identity: after an in-band refresh it differs from the
    ``scope["auth"]`` the application got at connect time.
    """

    __slots__ = ()

    async def receive(self) -> Message:
        """The server's ``receive``: replays ``websocket.connect`` once allowed, keeps control frames."""
        if not self._connect_delivered:
            if not await self._await_connect():
                # The client left mid-handshake: stop the application before it sees anything,
                # since its disconnect handler may rely on state its connect handler never set.
                self.closed = True
                raise HandshakeRejected
            await self._ensure_policy()
            self._connect_delivered = True
            assert self._connect_event is not None
            return self._connect_event
        while True:
            event = await self._receive()
            kind = event.get("type")
            if kind == "websocket.receive" and self.closed:
                continue  # warden closed this socket (revoked, expired): nothing more reaches the app
            if kind == "websocket.receive" and self.live and self.adapter is None:
                try:
                    frame = parse_control(event_payload(event), max_bytes=self._control_limit)
                except BadRequest as exc:  # a warden.* frame too large or deep to be one: 4400
                    await self.close_live(exc)
                    continue
                if frame is not None:
                    await self._control(frame)
                    continue
            elif kind == "websocket.disconnect":
                self.closed = True
                self.retire(code=int(event.get("code", 1005)))
            return event

    async def send(self, message: Message) -> None:
        """The server's ``send``: fills in the subprotocol, drops what follows a close."""
        kind = message.get("type")
        if self.closed:
            if kind in ("websocket.send", "websocket.close"):
                return
            raise HandshakeRejected
        await self._ensure_policy()
        if kind == "websocket.accept":
            if self.accepted:  # warden accepted already (first-message auth)
                self.go_live()
                return
            if message.get("subprotocol") is None and self.accept_subprotocol is not None:
                message = {**message, "subprotocol": self.accept_subprotocol}
            self.accepted = True
            await self._send(message)
            self.go_live()
            return
        if kind == "websocket.close":
            self.closed = True
            self.retire(code=int(message.get("code", 1000)))
        await self._send(message)


Connection.signal_sender = Connection


def connection_of(scope: Scope) -> Any:
    """The :class:`Connection` behind an application scope, or ``None`` outside warden."""
    return scope.get(SCOPE_KEY)


__all__ = [
    "DEFAULT_FRAME_SCHEME",
    "MESSAGE_TRANSPORT",
    "SCOPE_KEY",
    "Connection",
    "HandshakeRejected",
    "MembershipHook",
    "connection_of",
    "log_rejection",
]
