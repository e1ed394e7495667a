"""One socket's authentication state, between the server and the application.

The middleware hands the application :meth:`Connection.receive` and :meth:`Connection.send` in place
of the server's. That is how warden protects any consumer, sync or async, with no base class: the
application does not see ``websocket.connect`` until the route's policy allowed it, and its
``websocket.accept`` gets the subprotocol the client needs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from channels.exceptions import StopConsumer

from ._types import Message, Receive, Scope, Send
from .codes import CloseCode
from .conf import WardenSettings
from .exceptions import AuthenticationFailed, Rejection, ServiceUnavailable
from .identity import AuthInfo
from .permissions import BasePermission, check_permissions
from .rejection import close_messages, deny_messages

logger = logging.getLogger("channels_warden.auth")

#: Where the application's scope holds the :class:`Connection` (read by :func:`~channels_warden.guard`).
SCOPE_KEY = "warden"


class HandshakeRejected(StopConsumer):  # type: ignore[misc]
    """Raised into the application when warden refused the socket under its feet.

    It subclasses Channels' ``StopConsumer`` so that a consumer stops quietly, without running its
    ``connect`` or ``disconnect`` handlers; the middleware swallows it for any other application.
    """


def log_rejection(scope: Scope, rejection: Rejection, transport: str | None) -> None:
    """One line per refusal, with the reason and never the credential."""
    client = scope.get("client") or ("-", 0)
    level = logging.INFO if rejection.code == CloseCode.UNAUTHENTICATED else logging.WARNING
    logger.log(
        level,
        "refused websocket %s from %s via %s: %d %s (%s)",
        scope.get("path", "?"),
        client[0],
        transport or "-",
        rejection.code,
        rejection.reason,
        rejection.detail or rejection.reason,
        extra={"warden_code": int(rejection.code), "warden_reason": rejection.reason},
    )


class Connection:
    """The auth lifecycle of one socket. Lives in ``scope["warden"]`` of the application's scope."""

    def __init__(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        settings: WardenSettings,
        connect_event: Message,
        accept_subprotocol: str | None,
    ) -> None:
        self.scope = scope
        self.settings = settings
        self.auth: AuthInfo | None = None
        self.accept_subprotocol = accept_subprotocol
        self.accepted = False
        self.closed = False
        self.policy_decided = False
        self._receive = receive
        self._send = send
        self._connect_event: Message | None = connect_event

    def __repr__(self) -> str:
        return f"<Connection {self.scope.get('path')!r} auth={self.auth!r} accepted={self.accepted}>"

    async def reject(self, rejection: Rejection) -> None:
        """Tell the client why, in the form configured (close code and frame, or HTTP deny)."""
        if self.closed:
            return
        self.closed = True
        log_rejection(self.scope, rejection, self.auth.transport if self.auth else None)
        if not self.accepted and self.settings.REJECT_MODE == "deny":
            messages = deny_messages(rejection, scope=self.scope, realm=self.settings.REALM)
        else:
            messages = close_messages(rejection, accepted=self.accepted, subprotocol=self.accept_subprotocol)
        for message in messages:
            await self._send(message)

    async def enforce(
        self,
        scope: Scope,
        *,
        allow_anonymous: bool | None = None,
        permissions: Iterable[BasePermission] | None = None,
    ) -> bool:
        """Apply a route's policy; reject and return ``False`` if the socket may not open."""
        self.policy_decided = True
        if self.closed:
            return False
        if allow_anonymous is None:
            allow_anonymous = bool(self.settings.ALLOW_ANONYMOUS)
        if permissions is None:
            permissions = self.settings.default_permissions
        auth = self.auth or AuthInfo.anonymous()
        try:
            if not allow_anonymous and not auth.is_authenticated:
                raise AuthenticationFailed("no credentials on a route that requires them")
            await check_permissions(permissions, scope, auth)
        except Rejection as exc:
            await self.reject(exc)
            return False
        except Exception:  # fail closed: any error refuses the socket
            logger.exception("permission check failed on %s", scope.get("path"))
            await self.reject(ServiceUnavailable("permission check raised"))
            return False
        return True

    async def _ensure_policy(self) -> None:
        if not self.policy_decided and not await self.enforce(self.scope):
            raise HandshakeRejected

    async def receive(self) -> Message:
        """The server's ``receive``, replaying ``websocket.connect`` once the policy allows it."""
        if self._connect_event is not None:
            await self._ensure_policy()
            event, self._connect_event = self._connect_event, None
            return event
        return await self._receive()

    async def send(self, message: Message) -> None:
        """The server's ``send``; fills in the subprotocol on accept and drops sends after a rejection."""
        if self.closed:
            if message.get("type") in ("websocket.send", "websocket.close"):
                return
            raise HandshakeRejected
        await self._ensure_policy()
        if message.get("type") == "websocket.accept":
            if message.get("subprotocol") is None and self.accept_subprotocol is not None:
                message = {**message, "subprotocol": self.accept_subprotocol}
            self.accepted = True
        elif message.get("type") == "websocket.close":
            self.closed = True
        await self._send(message)


def connection_of(scope: Scope) -> Any:
    """The :class:`Connection` behind an application scope, or ``None`` outside warden."""
    return scope.get(SCOPE_KEY)
