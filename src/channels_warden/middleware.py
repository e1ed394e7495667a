"""``WardenMiddleware``: authenticate every WebSocket handshake before the application sees it."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, cast

from ._types import ASGIApp, Receive, Scope, Send
from .admission import accept_subprotocol, authenticate_handshake
from .conf import WardenSettings, warden_settings
from .connection import SCOPE_KEY, Connection, HandshakeRejected
from .exceptions import Rejection, ServiceUnavailable
from .protocols import protocol_socket
from .revocation import listener
from .throttle import check as check_throttle

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
        try:
            adapted = protocol_socket(scope, receive, send, self.settings)
        except Exception:  # a broken PROTOCOL_ADAPTERS entry fails closed like any other setting
            logger.exception("protocol adapter of websocket %s failed", scope.get("path"))
            await Connection(scope, receive, send, self.settings).reject(ServiceUnavailable("adapter raised"))
            return
        if adapted is not None:  # a protocol of its own (GraphQL): its socket speaks for warden
            receive, send = adapted.receive, adapted.send
        connection = Connection(scope, receive, send, self.settings)
        connection.adapter = adapted
        try:
            if adapted is not None:
                # The credential comes in the protocol's first frame: accept first, so that every
                # refusal below is a close code the client acts on, never an HTTP status.
                connection.accept_subprotocol = adapted.adapter.subprotocol
                if not await adapted.open():
                    return
                connection.accepted = True
            else:
                # Inside the try: a custom transport that raises here must fail closed too.
                connection.accept_subprotocol = accept_subprotocol(scope, self.settings)
            throttle = self.settings.handshake_throttle
            if throttle is not None:
                await check_throttle(scope, throttle)
            admission = await authenticate_handshake(scope, self.settings)
            if adapted is not None:
                adapted_admission = await adapted.admit(admission, scope)
                if adapted_admission is None:
                    return  # the client left before its first frame
                admission = adapted_admission
        except Rejection as exc:
            await connection.reject(exc)
            return
        except Exception:  # fail closed: any error refuses the socket
            logger.exception("authentication of websocket %s failed", scope.get("path"))
            await connection.reject(ServiceUnavailable("authentication raised; failing closed"))
            return
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
