"""The handshake gate: a route's policy decides whether the application sees the socket.

Nothing reaches the application before :meth:`HandshakeGate.enforce` allowed it: credentials
present (or anonymous allowed), first-message authentication done, permissions granted, the user's
connection limit not reached. A refusal is sent to the client in the configured form; any error
refuses the socket too (4500, fail closed).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, cast

from channels.exceptions import StopConsumer

from ._types import Scope
from .exceptions import MissingCredentials, Rejection, ServiceUnavailable
from .identity import AuthInfo
from .inband_auth import InBandAuthentication
from .limits import limiter
from .permissions import BasePermission, check_permissions
from .registry import user_key

if TYPE_CHECKING:
    from .connection import Connection

logger = logging.getLogger("channels_warden.auth")


class HandshakeRejected(StopConsumer):  # type: ignore[misc]
    """Raised into the application when warden refused the socket under its feet.

    It subclasses Channels' ``StopConsumer`` so that a consumer stops quietly, without running its
    ``connect`` or ``disconnect`` handlers; the middleware swallows it for any other application.
    """


class HandshakeGate(InBandAuthentication):
    """Applying a route's policy once, before the application sees ``websocket.connect``."""

    __slots__ = ()

    async def enforce(
        self,
        scope: Scope,
        *,
        allow_anonymous: bool | None = None,
        permissions: Iterable[BasePermission] | None = None,
        first_message: bool | None = None,
    ) -> bool:
        """Apply a route's policy; reject and return ``False`` if the socket may not open."""
        self.policy_decided = True
        if self.closed:
            return False
        if allow_anonymous is None:
            allow_anonymous = bool(self.settings.ALLOW_ANONYMOUS)
        if first_message is None:
            first_message = bool(self.settings.FIRST_MESSAGE_AUTH)
        self._permissions = tuple(self.settings.default_permissions if permissions is None else permissions)
        self._policy_scope = scope
        try:
            needs_message = (
                first_message and self.adapter is None and not (self.auth and self.auth.is_authenticated)
            )
            if needs_message and not await self._authenticate_first_message(scope):
                return False
            auth = self.auth or AuthInfo.anonymous()
            if not allow_anonymous and not auth.is_authenticated:
                raise MissingCredentials("no credentials on a route that requires them")
            await check_permissions(self._permissions, scope, auth)
            limit = self.settings.connection_limit
            if limit is not None and auth.is_authenticated:
                await limiter.acquire(cast("Connection", self), str(user_key(auth.user)), limit)
        except Rejection as exc:
            await self.reject(exc)
            return False
        except Exception:  # fail closed: any error refuses the socket
            logger.exception("policy check failed on %s", scope.get("path"))
            await self.reject(ServiceUnavailable("policy check raised"))
            return False
        return True

    async def _ensure_policy(self) -> None:
        if not self.policy_decided and not await self.enforce(self.scope):
            raise HandshakeRejected
