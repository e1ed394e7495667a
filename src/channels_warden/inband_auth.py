"""Credentials that arrive in frames: first-message authentication and in-band refresh.

On a first-message route warden accepts the socket and waits ``AUTH_TIMEOUT`` seconds for
``{"type": "warden.auth", "token": ...}`` before the application sees ``websocket.connect``. On a
live socket, ``{"type": "warden.refresh", "token": ...}`` swaps the identity for a fresh credential
of the same user and re-arms the expiry timer. Neither frame reaches the application; a failure
closes the socket with its own code.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, cast

from . import metrics
from ._types import Scope
from .admission import cached_authenticate
from .control import dumps, event_payload, frame_token, parse_control
from .credentials import Credential, checked_secret
from .deferred import resolve_identity
from .exceptions import (
    AuthenticationFailed,
    AuthTimeout,
    BadRequest,
    PermissionDenied,
    Rejection,
    ServiceUnavailable,
)
from .hints import log_abandoned
from .identity import AuthInfo
from .journal import journal
from .live_registration import LiveRegistration, replace_auth
from .permissions import check_permissions
from .registry import registry, user_key
from .signals import connection_refreshed

if TYPE_CHECKING:
    from .connection import Connection

logger = logging.getLogger("channels_warden.auth")

#: Transport name recorded for credentials that arrived in a control frame.
MESSAGE_TRANSPORT = "message"
#: Scheme of a ``warden.auth`` frame that names none.
DEFAULT_FRAME_SCHEME = "bearer"


class InBandAuthentication(LiveRegistration):
    """``warden.auth`` and ``warden.refresh`` frames: judged like a handshake's credential."""

    __slots__ = ()

    async def _authenticate_first_message(self, scope: Scope) -> bool:
        """Accept, then wait ``AUTH_TIMEOUT`` seconds for ``{"type": "warden.auth", "token": ...}``."""
        if not await self._await_connect():
            self.closed = True
            return False
        await self._send({"type": "websocket.accept", "subprotocol": self.accept_subprotocol})
        self.accepted = True
        try:
            event = await asyncio.wait_for(self._receive(), float(self.settings.AUTH_TIMEOUT))
        except TimeoutError:
            raise AuthTimeout("no warden.auth frame in time") from None
        if event.get("type") == "websocket.disconnect":
            self.closed = True
            log_abandoned(self.scope, self.settings)
            return False
        frame = parse_control(event_payload(event), max_bytes=self._control_limit)
        if frame is None or frame.get("type") != "warden.auth":
            raise BadRequest("first frame on a first-message route was not warden.auth")
        self.auth = await self._authenticate_frame(frame, authenticator_name=None)
        # The routed application may hold a copy of warden's scope: reach it through the proxies.
        resolve_identity((self.scope, scope), self.auth.user, self.auth)
        await self._send(
            {"type": "websocket.send", "text": dumps(self._status_frame("warden.authenticated"))}
        )
        return True

    async def _authenticate_frame(self, frame: dict[str, Any], authenticator_name: str | None) -> AuthInfo:
        """Judge the token of a ``warden.auth`` or ``warden.refresh`` frame."""
        scheme, token = frame_token(frame)
        secret = checked_secret(token, max_bytes=self._control_limit, what=f"{frame['type']} token")
        for authenticator in self.settings.authenticators:
            if authenticator_name is not None and authenticator.name != authenticator_name:
                continue
            # A refresh defaults to the scheme of the authenticator that admitted the socket; a
            # first message to a bearer token, the common case of browsers with a JWT.
            default = min(authenticator.schemes) if authenticator_name else DEFAULT_FRAME_SCHEME
            credential = Credential(scheme or default, secret, MESSAGE_TRANSPORT)
            if not authenticator.handles(credential):
                continue
            result = await cached_authenticate(authenticator, credential, self._policy_scope, self.settings)
            if result is None:
                raise AuthenticationFailed(f"{frame['type']} credential was not accepted")
            user, info = result
            return AuthInfo.from_credential(
                user, info, authenticator=authenticator.name, transport=MESSAGE_TRANSPORT
            )
        raise BadRequest(f"no authenticator accepts the {frame['type']} credential")

    async def _control(self, frame: dict[str, Any]) -> None:
        """Handle one control frame from the client; failures close the socket with their code."""
        try:
            if frame.get("type") != "warden.refresh":
                raise BadRequest(f"unexpected control frame {str(frame.get('type'))[:40]!r}")
            await self._refresh(frame)
        except Rejection as exc:
            await self.close_live(exc)
        except Exception:  # fail closed
            logger.exception("control frame failed on %s", self.scope.get("path"))
            await self.close_live(ServiceUnavailable("control frame raised"))

    async def _refresh(self, frame: dict[str, Any]) -> None:
        current = self.auth
        if current is None or not current.is_authenticated:
            raise AuthenticationFailed("warden.refresh on an anonymous socket")
        epoch = journal.epoch  # as at the handshake: the new credential is checked after this
        fresh = await self._authenticate_frame(frame, authenticator_name=current.authenticator)
        if user_key(fresh.user) != user_key(current.user):
            raise AuthenticationFailed("warden.refresh credential names another user")
        try:
            await check_permissions(self._permissions, self._policy_scope, fresh)
        except AuthenticationFailed as exc:
            raise PermissionDenied(exc.detail) from None
        if self.closed or not self.live:
            return  # revoked, expired or gone while the credential was checked: stay out of the registry
        fresh = replace_auth(fresh, session_key=fresh.session_key or (self.auth or current).session_key)
        replayed, revoked = journal.first_match(epoch, fresh, self.id)
        if revoked is not None:
            self._revoke_late(revoked)
            return
        registry.discard(cast("Connection", self))
        self.auth = replayed
        registry.add(cast("Connection", self))
        self._schedule_expiry()
        if self.memberships is not None and self.membership_hook is not None:
            # Re-check the groups before "refreshed": once the client reads it, they match the token.
            await self.membership_hook.identity_changed(cast("Connection", self))
        await self._send({"type": "websocket.send", "text": dumps(self._status_frame("warden.refreshed"))})
        metrics.count_refreshed(self.auth)
        await self._notify(connection_refreshed)
