"""The DRF ticket view: a ticket for whoever DRF authenticated, carrying that credential's identity."""

from __future__ import annotations

import json
import types
from datetime import UTC, datetime
from typing import Any

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework_simplejwt.tokens import AccessToken

from channels_warden.authenticators.base import token_digest
from channels_warden.drf import TicketAPIView, source_of
from channels_warden.tickets import redeem_ticket

END = datetime(2030, 1, 1, tzinfo=UTC)


def _json(response: Any) -> Any:
    return json.loads(response.content)


def request_with(auth: Any, session: Any = None) -> Any:
    return types.SimpleNamespace(auth=auth, _request=types.SimpleNamespace(session=session))


def test_source_of_a_session_request() -> None:
    """A session-authenticated request names the session and its end."""
    session = types.SimpleNamespace(session_key="sess-1", get_expiry_date=lambda: END)
    assert source_of(request_with(None, session)) == {
        "session_key": "sess-1",
        "source_expires_at": END.timestamp(),
    }


def test_source_of_a_simplejwt_request() -> None:
    """A JWT-authenticated request names the token's exp and jti."""
    token = types.SimpleNamespace(payload={"exp": 1900000000, "jti": "j1"})
    assert source_of(request_with(token)) == {"source_expires_at": 1900000000.0, "token_id": "jwt:j1"}


def test_source_of_a_jwt_without_exp_or_jti() -> None:
    """Missing claims become None."""
    assert source_of(request_with(types.SimpleNamespace(payload={}))) == {
        "source_expires_at": None,
        "token_id": None,
    }


def test_source_of_a_knox_request() -> None:
    """A knox-authenticated request names the token's expiry and digest prefix."""
    token = types.SimpleNamespace(digest="d" * 128, expiry=END)
    assert source_of(request_with(token)) == {
        "source_expires_at": END.timestamp(),
        "token_id": "knox:" + "d" * 32,
    }


def test_source_of_a_knox_token_without_expiry() -> None:
    """A knox token that never expires gives the ticket no end."""
    token = types.SimpleNamespace(digest="d" * 128, expiry=None)
    assert source_of(request_with(token))["source_expires_at"] is None


def test_source_of_a_drf_token_request() -> None:
    """A DRF-token request names the token by digest."""
    assert source_of(request_with(types.SimpleNamespace(key="abc"))) == {
        "token_id": token_digest("abc", "drf")
    }


def test_source_of_an_unknown_auth_is_empty() -> None:
    """An authentication scheme warden does not know contributes nothing."""
    assert source_of(request_with(object())) == {}


@pytest.mark.django_db
def test_api_view_issues_a_ticket_for_a_drf_token_user(make_user: Any) -> None:
    """A DRF-token request gets a ticket tied to that token."""
    user = make_user()
    token = Token.objects.create(user=user)
    request = APIRequestFactory().post("/api/ticket/", {}, format="json", HTTP_ORIGIN="http://testserver")
    force_authenticate(request, user=user, token=token)
    response = TicketAPIView.as_view()(request)
    grant = redeem_ticket(_json(response)["ticket"])
    assert grant is not None
    assert (response.status_code, grant.user_id, grant.origin, grant.token_id) == (
        200,
        str(user.pk),
        "http://testserver",
        token_digest(token.key, "drf"),
    )


@pytest.mark.django_db
def test_api_view_for_a_jwt_user(make_user: Any) -> None:
    """A JWT request gets a ticket that ends with the JWT."""
    user = make_user()
    token = AccessToken.for_user(user)
    request = APIRequestFactory().post("/api/ticket/", {}, format="json")
    force_authenticate(request, user=user, token=token)
    grant = redeem_ticket(_json(TicketAPIView.as_view()(request))["ticket"])
    assert grant is not None
    assert (grant.source_expires_at, grant.token_id) == (float(token["exp"]), f"jwt:{token['jti']}")


def test_api_view_refuses_anonymous_requests() -> None:
    """DRF's IsAuthenticated refuses requests without credentials (403: SessionAuthentication comes first)."""
    request = APIRequestFactory().post("/api/ticket/", {}, format="json")
    assert TicketAPIView.as_view()(request).status_code == 403
