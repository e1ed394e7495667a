"""Cookies and the session for a websocket, in one copy of the scope (``WardenMiddlewareStack``).

Channels' ``CookieMiddleware(SessionMiddleware(app))`` copies a scope twice per connection (once to
add ``cookies``, once more for ``session``) and wraps ``send`` to save a modified session, which it
only ever does on ``http.response.start``. For a websocket that is two dicts and one frame per
socket for nothing warden needs: :class:`SessionScopeMiddleware` makes one copy holding both keys,
built exactly as Channels builds them (the first ``Cookie`` header through Django's
``parse_cookie``; a ``LazyObject`` around ``SESSION_ENGINE``'s store; an outer session left as it
is), and hands ``send`` through. Every other scope type goes through Channels' own middleware.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from channels.sessions import CookieMiddleware, SessionMiddleware
from django.conf import settings
from django.http import parse_cookie
from django.utils.functional import LazyObject

from ._types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from django.contrib.sessions.backends.base import SessionBase


class SessionScopeMiddleware:
    """``scope["cookies"]`` and ``scope["session"]`` in a copy of the scope of the connection's own."""

    def __init__(self, inner: ASGIApp) -> None:
        self.inner = inner
        self._channels = CookieMiddleware(SessionMiddleware(inner))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self._channels(scope, receive, send)
            return
        if "headers" not in scope:
            raise ValueError("a websocket scope without headers (WardenMiddlewareStack reads cookies)")
        own = dict(scope)
        own["cookies"] = _first_cookie_header(scope)
        if "session" not in scope:  # an outer session middleware's session is passed through
            session: LazyObject[SessionBase] = LazyObject()
            session._wrapped = import_module(settings.SESSION_ENGINE).SessionStore(
                own["cookies"].get(settings.SESSION_COOKIE_NAME)
            )
            own["session"] = session
        await self.inner(own, receive, send)


def _first_cookie_header(scope: Scope) -> dict[str, str]:
    """Django's ``request.COOKIES`` of the first ``Cookie`` header, as Channels' middleware reads it."""
    for name, value in scope["headers"]:
        if name == b"cookie":
            return parse_cookie(value.decode("latin1"))
    return {}
