"""TicketView: a ticket for the session's user, CSRF-protected, bound to the request's Origin."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import path

from channels_warden.tickets import redeem_ticket
from channels_warden.views import TicketView, requested_path

urlpatterns = [path("ticket/", TicketView.as_view())]

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]

END = datetime(2030, 1, 1, tzinfo=UTC)
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]


@pytest.fixture(autouse=True)
def http_stack(settings: Any) -> None:
    settings.MIDDLEWARE = MIDDLEWARE


@pytest.fixture
def logged_in(client: Client, make_user: Any) -> Any:
    user = make_user()
    client.force_login(user)
    return user


def test_anonymous_request_is_401(client: Client) -> None:
    """No session user, no ticket."""
    response = client.post("/ticket/")
    assert (response.status_code, response.json()) == (401, {"error": "unauthenticated"})


def test_logged_in_user_gets_a_ticket_bound_to_origin_and_session(client: Client, logged_in: Any) -> None:
    """The ticket stands for the user, from the request's Origin, tied to the session and its end."""
    session = client.session
    session.set_expiry(END)
    session.save()
    response = client.post(
        "/ticket/",
        json.dumps({"path": "/ws/chat/"}),
        content_type="application/json",
        HTTP_ORIGIN="http://testserver",
    )
    body = response.json()
    grant = redeem_ticket(body["ticket"])
    assert grant is not None
    assert (
        response.status_code,
        body["expires_in"],
        grant.user_id,
        grant.origin,
        grant.path,
        grant.session_key,
    ) == (
        200,
        30,
        str(logged_in.pk),
        "http://testserver",
        "/ws/chat/",
        client.session.session_key,
    )
    assert grant.source_expires_at == END.timestamp()


def test_path_may_come_from_a_form(client: Client, logged_in: Any) -> None:
    """A form-encoded body names the path too."""
    response = client.post("/ticket/", {"path": "/ws/room/1/"})
    grant = redeem_ticket(response.json()["ticket"])
    assert grant is not None
    assert grant.path == "/ws/room/1/"


def test_ticket_without_origin_or_path(client: Client, logged_in: Any) -> None:
    """Without Origin and path the ticket is bound to neither."""
    grant = redeem_ticket(client.post("/ticket/", content_type="application/json").json()["ticket"])
    assert grant is not None
    assert (grant.origin, grant.path) == (None, None)


def test_form_post_without_a_path(client: Client, logged_in: Any) -> None:
    """A form that carries other fields (a CSRF token) but no path gets an unbound ticket, not a 400."""
    response = client.post("/ticket/", {"csrfmiddlewaretoken": "x" * 64})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"not json", "body is not JSON"),
        (b'{"path": "ws/no-leading-slash/"}', "path must be an absolute path such as /ws/chat/lobby/"),
        (b'{"path": 5}', "path must be an absolute path such as /ws/chat/lobby/"),
    ],
)
def test_bad_body_is_400(client: Client, logged_in: Any, body: bytes, detail: str) -> None:
    """A body that is not JSON, or a path that is not absolute, is refused with a reason."""
    response = client.post("/ticket/", body, content_type="application/json")
    assert (response.status_code, response.json()) == (400, {"error": "bad_request", "detail": detail})


def test_bad_origin_is_400(client: Client, logged_in: Any) -> None:
    """An Origin header that is not an origin cannot be bound to."""
    response = client.post("/ticket/", HTTP_ORIGIN="null")
    assert (response.status_code, response.json()["error"]) == (400, "bad_request")


def test_csrf_is_enforced(make_user: Any) -> None:
    """A foreign page cannot get a ticket with the user's cookie: the view is CSRF-protected."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user())
    assert client.post("/ticket/").status_code == 403


def test_only_post_is_allowed(client: Client, logged_in: Any) -> None:
    """GET does not hand out tickets."""
    assert client.get("/ticket/").status_code == 405


def test_requested_path_ignores_json_that_is_not_an_object() -> None:
    """A JSON array body names no path."""
    assert requested_path(b"[1]", None) is None


def test_requested_path_refuses_very_long_paths() -> None:
    """Paths are capped so a ticket grant stays small."""
    with pytest.raises(ValueError, match=r"^path must be an absolute path such as /ws/chat/lobby/$"):
        requested_path(json.dumps({"path": "/" + "a" * 2048}).encode(), None)
