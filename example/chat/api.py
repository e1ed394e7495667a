"""The HTTP API (``docs/chat-api.md``): JSON in, JSON out, errors as ``{"error": <code>, "detail": ...}``.

Every view authenticates with the project's DRF classes (session with CSRF, DRF token, SimpleJWT)
unless it says otherwise. The token, JWT and ticket views are the libraries' own
(``chatsite.urls``); :func:`exception_handler` gives their errors the same shape.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, get_user_model, login, logout
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from django.middleware.csrf import get_token
from rest_framework import exceptions, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny, IsAdminUser, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from .models import Room
from .protocol import message_frame

DEFAULT_PAGE = 50
MAX_PAGE = 100

#: DRF's exception codes -> this API's error codes.
ERROR_CODES = {
    "not_authenticated": "unauthenticated",
    "authentication_failed": "unauthenticated",
    "permission_denied": "forbidden",
    "not_found": "not_found",
    "method_not_allowed": "method_not_allowed",
    "parse_error": "invalid_json",
    "unsupported_media_type": "unsupported_media_type",
    "not_acceptable": "not_acceptable",
    "throttled": "throttled",
    "token_not_valid": "token_not_valid",
}
#: Codes DRF and SimpleJWT use for a wrong username or password, and what every endpoint says then.
CREDENTIAL_CODES = {"authorization", "no_active_account"}
BAD_CREDENTIALS = "that username and password do not match an active user"


def error(status_code: int, code: str, detail: str) -> Response:
    return Response({"error": code, "detail": detail}, status=status_code)


def _codes(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set().union(*(_codes(item) for item in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_codes(item) for item in value)) if value else set()
    return {str(value)}


def _detail(value: Any) -> str:
    if isinstance(value, dict):
        if "detail" in value:
            return _detail(value["detail"])
        return "; ".join(f"{key}: {_detail(item)}" for key, item in value.items())
    if isinstance(value, list):
        return " ".join(_detail(item) for item in value)
    return str(value)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, reshaped: ``{"error": <stable code>, "detail": <sentence>}``.

    Missing or bad credentials answer 401 (DRF says 403 when session authentication comes first),
    a wrong username or password 400 ``invalid_credentials`` (DRF says 400, SimpleJWT 401), a CSRF
    failure 403 ``csrf_failed``.
    """
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    codes = _codes(exc.get_codes())
    detail = _detail(exc.detail)
    if codes & CREDENTIAL_CODES:
        response.status_code, code = status.HTTP_400_BAD_REQUEST, "invalid_credentials"
        detail = BAD_CREDENTIALS
    elif isinstance(exc, exceptions.ValidationError):
        code = "bad_request"
    elif detail.startswith("CSRF Failed"):
        code = "csrf_failed"
    else:
        code = ERROR_CODES.get(exc.default_code, str(exc.default_code))
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed) and (
        code != "invalid_credentials"
    ):
        response.status_code = status.HTTP_401_UNAUTHORIZED
        if "WWW-Authenticate" not in response:
            response["WWW-Authenticate"] = 'Token realm="api"'
    response.data = {"error": code, "detail": detail}
    return response


# Sessions for browsers ----------------------------------------------------------------------------


class SessionLoginView(APIView):
    """``POST {"username", "password"}``: sign in; sets the session and CSRF cookies.

    Only JSON is parsed, so a cross-site form cannot sign a browser in to someone else's account
    (login CSRF): a foreign page cannot send ``Content-Type: application/json`` without CORS.
    """

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser]

    def post(self, request: Request) -> Response:
        data = request.data if isinstance(request.data, dict) else {}
        username, password = data.get("username"), data.get("password")
        user = None
        if isinstance(username, str) and isinstance(password, str):
            user = authenticate(request._request, username=username, password=password)
        if user is None:
            return error(400, "invalid_credentials", BAD_CREDENTIALS)
        login(request._request, user)
        get_token(request._request)  # the page's next POSTs need the CSRF cookie
        return Response({"username": user.get_username()})


class SessionLogoutView(APIView):
    """``POST``: end the session (CSRF-protected). Warden closes the session's sockets everywhere."""

    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    def post(self, request: Request) -> Response:
        logout(request._request)
        return Response({"ok": True})


def unknown_endpoint(request: HttpRequest, rest: str) -> JsonResponse:
    """Any other ``/api/`` path: a JSON 404 rather than Django's HTML page."""
    return JsonResponse({"error": "not_found", "detail": "no such API endpoint"}, status=404)


# Rooms ------------------------------------------------------------------------------------------


def _bounded_int(request: Request, name: str, default: int | None, low: int, high: int | None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise exceptions.ValidationError({name: f"must be a whole number, not {raw[:20]!r}"}) from None
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise exceptions.ValidationError({name: f"must be {bounds}"})
    return value


def room_or_404(slug: str) -> Room:
    room = Room.objects.filter(slug=slug).first()
    if room is None:
        raise exceptions.NotFound("no such room")
    return room


def visible_room_or_404(user: Any, slug: str) -> Room:
    """The room if ``user`` may read it; otherwise the same 404 whether it exists or not.

    A private room answers like an unknown one, as the WebSocket side does (4403 for both), so that
    nobody learns which private rooms exist.
    """
    room = Room.objects.visible_to(user).filter(slug=slug).first()
    if room is None:
        raise exceptions.NotFound("no such room")
    return room


class RoomListView(APIView):
    """``GET``: the rooms the user may open (public ones, private ones it belongs to; all for staff)."""

    def get(self, request: Request) -> Response:
        member_of = set(request.user.chat_rooms.values_list("pk", flat=True))
        rooms = [
            {"slug": room.slug, "title": room.title, "private": room.private, "member": room.pk in member_of}
            for room in Room.objects.visible_to(request.user).order_by("slug")
        ]
        return Response({"rooms": rooms})


class RoomMessagesView(APIView):
    """``GET ?before=<id>&limit=<n>``: a page of history, oldest first, and whether older ones exist."""

    def get(self, request: Request, slug: str) -> Response:
        room = visible_room_or_404(request.user, slug)
        before = _bounded_int(request, "before", None, 1, None)
        limit = _bounded_int(request, "limit", DEFAULT_PAGE, 1, MAX_PAGE)
        assert limit is not None
        newest_first = room.messages.select_related("author").order_by("-id")
        if before is not None:
            newest_first = newest_first.filter(id__lt=before)
        page = list(newest_first[: limit + 1])
        messages = [
            message_frame(
                room=room.slug,
                user=message.author.get_username(),
                text=message.text,
                message_id=message.pk,
                created=message.created,
            )
            for message in reversed(page[:limit])
        ]
        return Response({"messages": messages, "has_more": len(page) > limit})


class RoomDetailView(APIView):
    """``PATCH {"private": true|false}`` (staff): open or close a room.

    Making a room private takes every socket of a non-member out of it, in every process
    (``chat.signals``); the admin and the shell do the same.
    """

    permission_classes = [IsAdminUser]
    parser_classes = [JSONParser]

    def patch(self, request: Request, slug: str) -> Response:
        room = room_or_404(slug)
        data = request.data if isinstance(request.data, dict) else {}
        private = data.get("private")
        if set(data) != {"private"} or not isinstance(private, bool):
            raise exceptions.ValidationError({"private": "must be true or false, and the only field"})
        room.private = private
        room.save(update_fields=["private"])
        return Response({"slug": room.slug, "title": room.title, "private": room.private})


class RemoveMemberView(APIView):
    """``POST`` (staff): take a user out of a room; their sockets for that room close in every process.

    The closing is done by ``chat.signals`` on the membership change, so the admin and the shell
    close sockets too.
    """

    permission_classes = [IsAdminUser]

    def post(self, request: Request, slug: str, username: str) -> Response:
        room = room_or_404(slug)
        user = get_user_model()._default_manager.filter(username=username).first()
        if user is None:
            raise exceptions.NotFound("no such user")
        room.members.remove(user)
        return Response({"ok": True})
