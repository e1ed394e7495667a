"""Refusing a socket at the handshake and closing it once it is live.

Every way a socket ends on warden's side goes through here: :meth:`ConnectionClosing.reject` before
it is live (in the configured form: close frame or HTTP deny), :meth:`ConnectionClosing.close_live`
for expiry and failed refreshes, :meth:`ConnectionClosing.revoke` for revocations. Each marks the
socket closed first, so that no frame of the application goes out after warden's.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast

from . import metrics
from ._types import Message
from .closing import deliver_close
from .codes import CloseCode
from .connection_state import ConnectionState
from .exceptions import Rejection
from .hints import log_live_close, log_rejection
from .journal import OVERFLOW
from .registry import registry
from .rejection import close_messages, deny_messages
from .signals import connection_closed, connection_rejected, connection_revoked, signal_scope
from .throttle import count_failure

if TYPE_CHECKING:
    from .connection import Connection

logger = logging.getLogger("channels_warden.auth")


class ConnectionClosing(ConnectionState):
    """Refusing and closing one socket, with warden's frames, codes, counters and signals."""

    __slots__ = ()

    async def reject(self, rejection: Rejection) -> None:
        """Refuse a socket that is not live yet, in the configured form (close frame or HTTP deny)."""
        if self.closed:
            return
        self.closed = True
        if not self.accepted and not await self._await_connect():
            return  # the client is gone: nobody to tell
        log_rejection(
            self.scope,
            rejection,
            rejection.transport or (self.auth.transport if self.auth else None),
            self.settings,
        )
        if not self.accepted and self.settings.REJECT_MODE == "deny":
            messages = deny_messages(rejection, scope=self.scope, realm=self.settings.REALM)
        else:
            messages = close_messages(rejection, accepted=self.accepted, subprotocol=self.accept_subprotocol)
        for message in messages:
            await self._send(message)
        throttle = self.settings.handshake_throttle
        if throttle is not None:
            try:
                await count_failure(self.scope, throttle, rejection)
            except Exception:  # the refusal stands; only the count is lost
                logger.exception("could not count a failed handshake")
        metrics.count_rejected(int(rejection.code), rejection.reason)
        if connection_rejected.has_listeners(self.signal_sender):
            await connection_rejected.asend(
                sender=self.signal_sender,
                scope=signal_scope(self.scope, self.settings),
                code=int(rejection.code),
                reason=rejection.reason,
                detail=rejection.detail,
            )

    async def close_live(self, rejection: Rejection) -> None:
        """Close an open socket with warden's frame and code (expiry, revocation, failed refresh)."""
        if self.closed:
            return
        log_live_close(
            self.scope,
            rejection,
            rejection.transport or (self.auth.transport if self.auth else None),
            self.settings,
        )
        self.closed = True
        if self._retire():
            metrics.count_closed(int(rejection.code))
            await self._notify(connection_closed, code=int(rejection.code))
        await self._deliver_close(close_messages(rejection, accepted=True, subprotocol=None))

    async def _deliver_close(self, messages: Iterable[Message]) -> bool:
        """The close frames, within ``CLOSE_TIMEOUT`` seconds; then the connection is dropped."""
        timeout = float(self.settings.CLOSE_TIMEOUT)
        return await deliver_close(self._send, messages, timeout, str(self.scope.get("path")))

    def revoke(self, code: CloseCode, reason: str, messages: Iterable[Message] | None = None) -> bool:
        """Close this socket because a revocation named it; ``False`` if it was closed already.

        Synchronous on purpose: the socket is closed (no frame of the application goes out any
        more) and out of the registry when this returns, and its close frames and signals go out
        in a task of their own, bounded by ``CLOSE_TIMEOUT``. So the listener never waits on a
        client, nor on signal receivers. The listener logs one line per revocation, so there is
        none per socket here, and it builds the close messages once for all the sockets it closes
        (``messages``).
        """
        if self.closed:
            return False
        self.closed = True
        was_live = self._retire()
        if messages is None:
            messages = close_messages(Rejection(reason=reason, code=code), accepted=True, subprotocol=None)
        metrics.count_revoked(reason)
        if was_live:
            metrics.count_closed(int(code))
        self._spawn(self._after_revoke(tuple(messages), int(code), reason, was_live))
        return True

    async def _after_revoke(
        self, messages: tuple[Message, ...], code: int, reason: str, was_live: bool
    ) -> None:
        await self._deliver_close(messages)
        await self._notify(connection_revoked, reason=reason)
        if was_live:
            await self._notify(connection_closed, code=code)

    def _revoke_late(self, message: Mapping[str, Any]) -> None:
        """Close a socket that a revocation named while it was being admitted or refreshed."""
        if message is OVERFLOW:
            logger.warning("revocation journal overflowed during a handshake on %s", self.scope.get("path"))
            self.revoke(CloseCode.INTERNAL, CloseCode.INTERNAL.reason)
            return
        code = CloseCode(message.get("code", CloseCode.REVOKED))
        self.revoke(code, str(message.get("reason") or code.reason))

    def _retire(self) -> bool:
        """Leave the live state (registry, timer); each caller counts and signals in its own way."""
        if not self.live:
            return False
        self.live = False
        registry.discard(cast("Connection", self))
        self._cancel_timer()
        return True
