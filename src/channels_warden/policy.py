"""Per-route policy: who may open a socket on a route.

Routes inherit ``ALLOW_ANONYMOUS`` and ``DEFAULT_PERMISSIONS``; wrap a route's application in
:func:`guard` to say otherwise::

    URLRouter([
        path("ws/chat/<slug:room>/", guard(ChatConsumer.as_asgi(), permissions=[IsRoomMember()])),
        path("ws/public/", guard(TickerConsumer.as_asgi(), allow_anonymous=True)),
    ])

The guard runs inside the router, so permissions see ``scope["url_route"]``. A route without a guard
gets the defaults, applied before the application receives ``websocket.connect``.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ImproperlyConfigured

from ._types import ASGIApp, Receive, Scope, Send
from .connection import SCOPE_KEY, Connection
from .permissions import BasePermission


class RouteGuard:
    """ASGI wrapper that applies a route's policy before its application runs."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        allow_anonymous: bool | None = None,
        permissions: Iterable[BasePermission] | None = None,
        first_message: bool | None = None,
    ) -> None:
        self.app = app
        self.allow_anonymous = allow_anonymous
        self.permissions = None if permissions is None else tuple(permissions)
        self.first_message = first_message

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        connection = scope.get(SCOPE_KEY)
        if not isinstance(connection, Connection):
            raise ImproperlyConfigured(
                "guard() found no warden connection in the scope: WardenMiddleware (or "
                "WardenMiddlewareStack) must be above the URLRouter that contains this route."
            )
        allowed = await connection.enforce(
            scope,
            allow_anonymous=self.allow_anonymous,
            permissions=self.permissions,
            first_message=self.first_message,
        )
        if allowed:
            await self.app(scope, receive, send)


def guard(
    app: ASGIApp,
    *,
    allow_anonymous: bool | None = None,
    permissions: Iterable[BasePermission] | None = None,
    first_message: bool | None = None,
) -> RouteGuard:
    """Give one route its own policy.

    Args:
        app: the route's ASGI application, e.g. ``MyConsumer.as_asgi()``.
        allow_anonymous: admit clients that sent no credentials (``None``: the ``ALLOW_ANONYMOUS``
            setting). Invalid credentials are refused either way.
        permissions: permission instances, all of which must allow the user (``None``: the
            ``DEFAULT_PERMISSIONS`` setting).
        first_message: when the handshake carried no credential, accept and wait ``AUTH_TIMEOUT``
            seconds for ``{"type": "warden.auth", "token": ...}`` before the application runs
            (``None``: the ``FIRST_MESSAGE_AUTH`` setting).
    """
    return RouteGuard(
        app, allow_anonymous=allow_anonymous, permissions=permissions, first_message=first_message
    )
