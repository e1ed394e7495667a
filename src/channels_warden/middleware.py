"""``WardenMiddleware``: authenticate every WebSocket handshake before the application sees it."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, cast

from ._types import ASGIApp, Receive, Scope, Send
from .admission import accept_subprotocol, authenticate_handshake, check_origin
from .conf import WardenSettings, warden_settings
from .connection import SCOPE_KEY, Connection, HandshakeRejected
from .exceptions import Rejection, ServiceUnavailable
from .revocation import listener
from .throttle import ThrottleConfig, release, settle
from .throttle import reserve as throttle_reserve

logger = logging.getLogger("channels_warden.auth")


class WardenMiddleware:
    """Pure ASGI middleware for ``websocket`` scopes; every other scope passes through untouched.

    For each handshake it checks the Origin, finds credentials, asks the authenticators who the client
    is, and then either refuses the socket with a documented close code or calls the application with
    ``scope["user"]``, ``scope["auth"]`` and a scope from which the credentials are gone. Nothing
    raised inside warden reaches the server: unexpected errors close with 4500 ("fail closed").

    Args:
        inner: the application to protect (usually a ``URLRouter``).
        settings: overrides laid over ``settings.WARDEN`` for this middleware only.
    """

    def __init__(self, inner: ASGIApp, *, settings: Mapping[str, Any] | None = None) -> None:
        self.inner = inner
        self.settings = WardenSettings(settings) if settings else warden_settings
        # Channels' URLRouter treats ``path("prefix/", app)`` as a prefix only when the app says it
        # routes on paths; say so whenever the wrapped application does.
        self._path_routing = bool(getattr(inner, "_path_routing", False))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.inner(scope, receive, send)
            return
        listener.ensure_running()
        connection = Connection(scope, receive, send, self.settings)
        throttle = None
        try:
            # Inside the try: a custom transport that raises here must fail closed too.
            connection.accept_subprotocol = accept_subprotocol(scope, self.settings)
            if self.settings.handshake_throttle is not None:
                # A refused Origin never takes a slot, not even for a moment: a foreign page must
                # not be able to crowd the victim's address out with sockets in flight.
                check_origin(scope, self.settings)
                await throttle_reserve(scope, self.settings.handshake_throttle)  # 4429 when spent
                throttle = self.settings.handshake_throttle
            admission = await authenticate_handshake(scope, self.settings)
        except Rejection as exc:
            await _settle(scope, throttle, exc)
            await connection.reject(exc)
            return
        except Exception:  # fail closed: any error refuses the socket
            logger.exception("authentication of websocket %s failed", scope.get("path"))
            refusal = ServiceUnavailable("authentication raised; failing closed")
            await _settle(scope, throttle, refusal)
            await connection.reject(refusal)
            return
        if throttle is not None:
            await _settle(scope, throttle, None)
        connection.auth = admission.auth
        app_scope = admission.app_scope
        app_scope[SCOPE_KEY] = connection
        connection.scope = app_scope
        try:
            await self.inner(app_scope, connection.receive, connection.send)
        except HandshakeRejected:  # warden refused the socket under the application's feet
            pass
        finally:
            await connection.finish()


async def _settle(scope: Scope, throttle: ThrottleConfig | None, refusal: Rejection | None) -> None:
    """Settle the throttle's reserved attempt (kept only for a refusal that counts); never raises."""
    if throttle is None:
        return
    try:
        if refusal is None:
            await release(scope, throttle)
        else:
            await settle(scope, throttle, refusal)
    except Exception:  # the verdict stands; only the count is off
        logger.exception("could not settle a throttled handshake")


def WardenMiddlewareStack(inner: ASGIApp, *, settings: Mapping[str, Any] | None = None) -> ASGIApp:
    """``WardenMiddleware`` under Channels' cookie and session middleware.

    The session middleware gives the application ``scope["session"]`` (which ``channels.auth.login``
    and ``logout`` use); warden's session authenticator reads that same object, so the session is
    loaded once.
    """
    from channels.sessions import CookieMiddleware, SessionMiddleware

    stack: Any = CookieMiddleware(SessionMiddleware(WardenMiddleware(inner, settings=settings)))
    stack._path_routing = bool(getattr(inner, "_path_routing", False))
    return cast(ASGIApp, stack)
