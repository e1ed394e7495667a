"""Django REST framework integration (install the ``drf`` extra)."""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView

from .authenticators.base import token_digest
from .views import ticket_response


def source_of(request: Request) -> dict[str, Any]:
    """The end, session and token id of the credential a DRF request was authenticated with."""
    auth = request.auth
    if auth is None:  # session authentication
        session = request._request.session
        return {
            "session_key": session.session_key,
            "source_expires_at": session.get_expiry_date().timestamp(),
        }
    payload = getattr(auth, "payload", None)
    if isinstance(payload, dict):  # SimpleJWT token
        exp = payload.get("exp")
        from rest_framework_simplejwt.settings import api_settings

        jti = payload.get(api_settings.JTI_CLAIM) if api_settings.JTI_CLAIM else None
        return {"source_expires_at": float(exp) if exp else None, "token_id": f"jwt:{jti}" if jti else None}
    if hasattr(auth, "digest"):  # knox AuthToken
        expiry = getattr(auth, "expiry", None)
        return {
            "source_expires_at": expiry.timestamp() if expiry else None,
            "token_id": f"knox:{auth.digest[:32]}",
        }
    key = getattr(auth, "key", None)  # DRF Token
    return {"token_id": token_digest(key, "drf")} if isinstance(key, str) else {}


class TicketAPIView(APIView):
    """``POST``: a ticket for the user authenticated by the project's DRF authentication classes.

    DRF's ``SessionAuthentication`` enforces CSRF for cookie-authenticated requests.
    """

    permission_classes = [IsAuthenticated]

    def post(self, request: Request) -> JsonResponse:
        return ticket_response(request, request.user, **source_of(request))
