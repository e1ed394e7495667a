"""HTTP middleware that tells warden which session is changing a password.

Django's ``update_session_auth_hash`` keeps the session that changed the password logged in, but it
*cycles its key*, so warden cannot tell that session's sockets from the others'. With this
middleware, a password change closes the user's sockets **except** those of the session making the
request, and those sockets follow the session to its new key. Without it, a password change closes
all of the user's sockets (the safe default)::

    MIDDLEWARE = [
        ...,
        "django.contrib.sessions.middleware.SessionMiddleware",
        ...,
        "channels_warden.http.SessionContextMiddleware",
    ]
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse


@dataclass
class RequestSession:
    """The session a request started with, and whether a password changed during it."""

    session_key: str | None
    password_changed: bool = False


_current: contextvars.ContextVar[RequestSession | None] = contextvars.ContextVar(
    "warden_session", default=None
)


def current_request_session() -> RequestSession | None:
    """The session of the request being handled, when :class:`SessionContextMiddleware` is on."""
    return _current.get()


class SessionContextMiddleware:
    """Records the request's session key (no query) and re-keys sockets after a key change."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        state = RequestSession(session_key=getattr(session, "session_key", None))
        token = _current.set(state)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        new_key = getattr(session, "session_key", None)
        if state.password_changed and state.session_key and new_key and new_key != state.session_key:
            from .triggers import broadcast_quietly

            broadcast_quietly({"type": "warden.rekey", "old": state.session_key, "new": new_key})
        return response
