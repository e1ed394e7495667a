"""HTTP views that hand out one-time tickets.

``TicketView`` is plain Django: it trusts ``request.user`` (session authentication) and is
CSRF-protected, so a foreign page cannot obtain a ticket with the user's cookie. Projects that
authenticate their API with DRF (tokens, JWT, sessions) use :class:`channels_warden.drf.TicketAPIView`.
Both answer ``{"ticket": "...", "expires_in": 30}`` and bind the ticket to the request's Origin.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_protect

from .tickets import issue_ticket

MAX_PATH_CHARS = 2048


def requested_path(body: bytes, post: Any) -> str | None:
    """The optional ``path`` the client wants the ticket bound to (JSON or form body)."""
    path: Any = post.get("path") if post else None
    if path is None and body and not post:  # a form body (e.g. only a CSRF token) is not JSON
        try:
            payload = json.loads(body)
        except ValueError:
            raise ValueError("body is not JSON") from None
        path = payload.get("path") if isinstance(payload, dict) else None
    if path is None:
        return None
    if not isinstance(path, str) or not path.startswith("/") or len(path) > MAX_PATH_CHARS:
        raise ValueError("path must be an absolute path such as /ws/chat/lobby/")
    return path


def ticket_response(request: Any, user: Any, **source: Any) -> JsonResponse:
    """Issue a ticket for ``user`` bound to the request's Origin and optional path."""
    from .conf import warden_settings

    try:
        path = requested_path(request.body, getattr(request, "POST", None))
        ticket = issue_ticket(user, origin=request.headers.get("Origin"), path=path, **source)
    except ValueError as exc:
        return JsonResponse({"error": "bad_request", "detail": str(exc)}, status=400)
    return JsonResponse({"ticket": ticket, "expires_in": int(warden_settings.TICKET_TTL)})


@method_decorator(csrf_protect, name="dispatch")
class TicketView(View):
    """``POST``: a ticket for the session's user; 401 when not logged in."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> JsonResponse:
        if not request.user.is_authenticated:
            return JsonResponse({"error": "unauthenticated"}, status=401)
        return ticket_response(
            request,
            request.user,
            session_key=request.session.session_key,
            source_expires_at=request.session.get_expiry_date().timestamp(),
        )
