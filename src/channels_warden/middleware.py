"""``WardenMiddleware``: authenticate every WebSocket handshake before the application sees it."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, cast

from ._types import ASGIApp, Receive, Scope, Send
from .admission import accept_subprotocol, authenticate_handshake, check_origin
from .conf import WardenSettings, warden_settings
from .connection import SCOPE_KEY, Connection, HandshakeRejected
from .deferred import DeferredIdentity
from .exceptions import Rejection, ServiceUnavailable
from .logging import loggable_path
from .protocols import protocol_socket
from .revocation import listener
from .routing import route_not_found
from .subprotocols import check_subprotocols
from .throttle import ThrottleConfig, release, settle
from .throttle import reserve as throttle_reserve

logger = logging.getLogger("channels_warden.auth")


class WardenMiddleware:
    """Pure ASGI middleware for ``websocket`` scopes; every other scope passes through untouched.

    For each handshake it checks the Origin, finds credentials, asks the authenticators who the client
    is, and then either refuses the socket with a documented close code or calls the application with
    ``scope["user"]``, ``scope["auth"]`` and a scope from which the credentials are gone. Nothing
    raised inside warden reaches the server: unexpected errors close with 4500 ("fail closed").

    When the router below finds no route for the path, warden refuses the socket with 4404
    ``not_found`` (an HTTP 404 in deny mode) instead of letting the router's error become a 500.

    Args:
        inner: the application to protect (usually a ``URLRouter``).
        settings: overrides laid over ``settings.WARDEN`` for this middleware only.
        fall_through: when warden itself sits inside a ``URLRouter`` and its own routes end, whether
            to let the outer router try its next routes (``True``) or refuse with 4404 (``False``).
            ``None``, the default, falls through only when there is an outer router.
    """

    def __init__(
        self,
        inner: ASGIApp,
        *,
        settings: Mapping[str, Any] | None = None,
        fall_through: bool | None = None,
    ) -> None:
        self.inner = inner
        self.fall_through = fall_through
        self.settings = WardenSettings(settings) if settings else warden_settings
        # Channels' URLRouter treats ``path("prefix/", app)`` as a prefix only when the app says it
        # routes on paths; say so whenever the wrapped application does.
        self._path_routing = bool(getattr(inner, "_path_routing", False))
        # Whether each connection's scope reaches this middleware as a copy of its own, so that
        # redacting it in place changes nothing anyone else holds (set by WardenMiddlewareStack).
        self._owns_scope = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.inner(scope, receive, send)
            return
        # The handshake runs in a coroutine of its own that has returned before the application
        # starts: this frame, suspended for the socket's whole life, holds only what it needs.
        connection = await self._admit(scope, receive, send)
        if connection is None:
            return
        try:
            await self.inner(connection.scope, connection.receive, connection.send)
        except HandshakeRejected:  # warden refused the socket under the application's feet
            pass
        except Exception as exc:
            not_found = route_not_found(
                exc, started=connection.app_started, fall_through=self._falls_through(scope)
            )
            if not_found is None:
                raise
            await connection.reject(not_found)
        finally:
            await connection.finish()

    async def _admit(self, scope: Scope, receive: Receive, send: Send) -> Connection | None:
        """Decide the handshake: the connection, its ``scope`` the application's; ``None`` once refused."""
        listener.ensure_running()
        try:
            adapted = protocol_socket(scope, receive, send, self.settings)
        except Exception:  # a broken PROTOCOL_ADAPTERS entry fails closed like any other setting
            logger.exception("protocol adapter of websocket %s failed", loggable_path(scope.get("path")))
            await Connection(scope, receive, send, self.settings).reject(ServiceUnavailable("adapter raised"))
            return None
        if adapted is not None:  # a protocol of its own (GraphQL): its socket speaks for warden
            receive, send = adapted.receive, adapted.send
        connection = Connection(scope, receive, send, self.settings)
        connection.adapter = adapted
        throttle = None
        try:
            if adapted is not None:
                # The credential comes in the protocol's first frame: accept first, so that every
                # refusal below is a close code the client acts on, never an HTTP status.
                connection.accept_subprotocol = adapted.adapter.subprotocol
                if not await adapted.open():
                    return None
                connection.accepted = True
            else:
                # Inside the try: a custom transport that raises here must fail closed too.
                connection.accept_subprotocol = accept_subprotocol(scope, self.settings)
            # After choosing what to echo (a refusal a browser can read), before reading credentials.
            check_subprotocols(scope)
            if self.settings.handshake_throttle is not None:
                # A refused Origin never takes a slot, not even for a moment: a foreign page must
                # not be able to crowd the victim's address out with sockets in flight.
                check_origin(scope, self.settings)
                await throttle_reserve(scope, self.settings.handshake_throttle)  # 4429 when spent
                throttle = self.settings.handshake_throttle
            admission = await authenticate_handshake(scope, self.settings, owns_scope=self._owns_scope)
            if adapted is not None:
                adapted_admission = await adapted.admit(admission, scope)
                if adapted_admission is None:
                    await _settle(scope, throttle, None)
                    return None  # the client left before its first frame
                admission = adapted_admission
        except Rejection as exc:
            await _settle(scope, throttle, exc)
            await connection.reject(exc)
            return None
        except Exception:  # fail closed: any error refuses the socket
            logger.exception("authentication of websocket %s failed", loggable_path(scope.get("path")))
            refusal = ServiceUnavailable("authentication raised; failing closed")
            await _settle(scope, throttle, refusal)
            await connection.reject(refusal)
            return None
        if throttle is not None:
            await _settle(scope, throttle, None)
        connection.auth = admission.auth
        app_scope = admission.app_scope
        if self.settings.FIRST_MESSAGE_AUTH and adapted is None and not admission.auth.is_authenticated:
            # A route without guard() may authenticate after URLRouter copied the scope.
            app_scope["user"] = DeferredIdentity(app_scope["user"])
            app_scope["auth"] = DeferredIdentity(app_scope["auth"])
        app_scope[SCOPE_KEY] = connection
        connection.scope = app_scope
        return connection

    def _falls_through(self, scope: Scope) -> bool:
        if self.fall_through is not None:
            return self.fall_through
        return "path_remaining" in scope  # an outer URLRouter may still have a route


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


def WardenMiddlewareStack(
    inner: ASGIApp, *, settings: Mapping[str, Any] | None = None, fall_through: bool | None = None
) -> ASGIApp:
    """``WardenMiddleware`` with ``scope["cookies"]`` and ``scope["session"]``, as Channels' stack gives.

    The application gets ``scope["session"]`` (which ``channels.auth.login`` and ``logout`` use);
    warden's session authenticator reads that same object, so the session is loaded once. Websocket
    scopes get both keys in one copy (:mod:`.session_scope`); other scope types go through Channels'
    ``CookieMiddleware`` and ``SessionMiddleware``.
    """
    from .session_scope import SessionScopeMiddleware

    warden = WardenMiddleware(inner, settings=settings, fall_through=fall_through)
    # SessionScopeMiddleware hands warden a websocket scope that is this connection's own copy
    # (with ``cookies`` and ``session``), so warden redacts it in place instead of copying it again.
    # tests/test_middleware_stack.py holds the server's scope unchanged through the stack.
    warden._owns_scope = True
    stack: Any = SessionScopeMiddleware(warden)
    stack._path_routing = bool(getattr(inner, "_path_routing", False))
    return cast(ASGIApp, stack)
