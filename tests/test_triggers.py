"""Django events that revoke live sockets: what each one broadcasts."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import logout
from django.contrib.sessions.backends.db import SessionStore
from django.db import transaction
from django.test import RequestFactory
from knox.models import get_token_model
from rest_framework.authtoken.models import Token

from channels_warden import http, triggers
from channels_warden.authenticators.base import token_digest
from channels_warden.http import RequestSession

# Transactional: the triggers broadcast on commit, which a test wrapped in a transaction never reaches
# (tests/test_triggers_commit.py covers the transaction itself).
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broadcasts(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The messages the triggers broadcast, recorded instead of sent."""
    sent: list[dict[str, Any]] = []

    async def record(message: dict[str, Any]) -> None:
        sent.append(message)

    monkeypatch.setattr(triggers, "broadcast", record)
    return sent


def revocation(**fields: Any) -> dict[str, Any]:
    return {
        "type": "warden.revoke",
        "user": None,
        "session_key": None,
        "token_id": None,
        "except_session": None,
        "authenticator": None,
        "code": 4499,
        **fields,
    }


def test_creating_a_user_revokes_nothing(make_user: Any, broadcasts: list[dict[str, Any]]) -> None:
    """A new user has no sockets."""
    make_user()
    assert broadcasts == []


def test_saving_a_user_without_changes_revokes_nothing(
    make_user: Any, broadcasts: list[dict[str, Any]]
) -> None:
    """An ordinary save (profile fields) keeps the sockets: it only purges the user's cached identities."""
    user = make_user()
    user.first_name = "Alice"
    user.save()
    assert broadcasts == [{"type": "warden.purge", "user": str(user.pk)}]


def test_logout_closes_that_sessions_sockets(make_user: Any, broadcasts: list[dict[str, Any]]) -> None:
    """logout() revokes the sockets of the session that logged out."""
    request = RequestFactory().get("/")
    request.session = SessionStore()
    request.session.create()
    request.user = make_user()
    key = request.session.session_key
    logout(request)
    assert broadcasts == [revocation(session_key=key, reason="logout")]


def test_logout_without_a_session_revokes_nothing(broadcasts: list[dict[str, Any]]) -> None:
    """A logout signal without a session key has nothing to name."""
    triggers.on_logged_out(sender=None, request=None, user=None)
    assert broadcasts == []


def test_password_change_closes_the_users_sockets(make_user: Any, broadcasts: list[dict[str, Any]]) -> None:
    """set_password + save revokes every socket of the user."""
    user = make_user()
    user.set_password("a new password")
    user.save()
    assert broadcasts == [revocation(user=str(user.pk), reason="password_changed")]


def test_password_change_in_a_request_spares_that_session(
    make_user: Any, broadcasts: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With SessionContextMiddleware the changing session keeps its sockets and is marked."""
    state = RequestSession(session_key="sess-changing")
    monkeypatch.setattr(triggers, "current_request_session", lambda: state)
    user = make_user()
    user.set_password("a new password")
    user.save()
    assert (broadcasts, state.password_changed) == (
        [revocation(user=str(user.pk), except_session="sess-changing", reason="password_changed")],
        True,
    )


def test_deactivation_closes_the_users_sockets(make_user: Any, broadcasts: list[dict[str, Any]]) -> None:
    """Saving is_active=False revokes every socket of the user."""
    user = make_user()
    user.is_active = False
    user.save()
    assert broadcasts == [revocation(user=str(user.pk), reason="user_inactive")]


def test_deleting_a_user_closes_the_users_sockets(make_user: Any, broadcasts: list[dict[str, Any]]) -> None:
    """Deleting the user revokes its sockets."""
    user = make_user()
    pk = user.pk
    user.delete()
    assert broadcasts == [revocation(user=str(pk), reason="user_deleted")]


def test_deleting_a_drf_token_closes_its_sockets(make_user: Any, broadcasts: list[dict[str, Any]]) -> None:
    """Deleting a DRF token revokes the sockets opened with it."""
    token = Token.objects.create(user=make_user())
    key = token.key  # the primary key: delete() clears it
    token.delete()
    assert broadcasts == [revocation(token_id=token_digest(key, "drf"), reason="token_deleted")]


def test_deleting_a_knox_token_closes_its_sockets(make_user: Any, broadcasts: list[dict[str, Any]]) -> None:
    """Deleting a knox token (knox's logout) revokes the sockets opened with it."""
    instance, _ = get_token_model().objects.create(user=make_user())
    digest = instance.digest
    instance.delete()
    assert broadcasts == [revocation(token_id=f"knox:{digest[:32]}", reason="token_deleted")]


def test_blacklisting_closes_the_users_simplejwt_sockets(broadcasts: list[dict[str, Any]]) -> None:
    """A blacklisted refresh token closes the user's SimpleJWT sockets (an access token names no refresh)."""

    class Outstanding:
        user_id = 5

    class Blacklisted:
        token = Outstanding()

    triggers.on_token_blacklisted(sender=None, instance=Blacklisted(), created=True)
    triggers.on_token_blacklisted(sender=None, instance=Blacklisted(), created=False)
    assert broadcasts == [revocation(user="5", authenticator="simplejwt", reason="token_blacklisted")]


def test_broadcast_failure_never_fails_the_request(
    make_user: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """If the channel layer is down, the logout still happens and the log explains what stays open."""

    async def layer_down(message: dict[str, Any]) -> None:
        raise ConnectionError("redis down")

    monkeypatch.setattr(triggers, "broadcast", layer_down)
    user = make_user()
    user.delete()
    assert [r.getMessage() for r in caplog.records] == [
        "could not broadcast warden.revoke (user_deleted): matching sockets stay open until they expire"
    ]


def test_optional_apps_are_detected() -> None:
    """Triggers for token apps are connected only when the app is installed."""
    assert (triggers._installed("authtoken"), triggers._installed("token_blacklist")) == (True, False)


# -- SessionContextMiddleware --------------------------------------------------------------------------------


def test_request_session_is_visible_during_the_request() -> None:
    """Inside the middleware the current request's session key is known; outside it is not."""
    seen: list[Any] = []
    request = RequestFactory().get("/")
    request.session = SessionStore()
    request.session.create()

    def view(request: Any) -> Any:
        seen.append(http.current_request_session())
        return "response"

    response = http.SessionContextMiddleware(view)(request)
    assert (response, seen, http.current_request_session()) == (
        "response",
        [RequestSession(session_key=request.session.session_key)],
        None,
    )


def test_password_change_in_a_request_rekeys_that_sessions_sockets(
    make_user: Any, broadcasts: list[dict[str, Any]]
) -> None:
    """update_session_auth_hash cycles the key; the middleware moves the session's sockets to it."""
    from django.contrib.auth import update_session_auth_hash

    user = make_user()
    request = RequestFactory().post("/password/")
    request.session = SessionStore()
    request.session.create()
    request.user = user
    old_key = request.session.session_key

    def change_password(request: Any) -> str:
        user.set_password("a new password")
        user.save()
        update_session_auth_hash(request, user)
        return "ok"

    http.SessionContextMiddleware(change_password)(request)
    assert broadcasts == [
        revocation(user=str(user.pk), except_session=old_key, reason="password_changed"),
        {"type": "warden.rekey", "old": old_key, "new": request.session.session_key},
    ]


def test_request_without_password_change_rekeys_nothing(broadcasts: list[dict[str, Any]]) -> None:
    """A key cycled for another reason (login) is not a password change."""
    request = RequestFactory().get("/")
    request.session = SessionStore()
    request.session.create()

    def cycle(request: Any) -> str:
        request.session.cycle_key()
        return "ok"

    http.SessionContextMiddleware(cycle)(request)
    assert broadcasts == []


def test_saving_a_user_purges_their_cache_entries_on_commit(
    make_user: Any, broadcasts: list[dict[str, Any]], django_capture_on_commit_callbacks: Any
) -> None:
    """Any save (here a demotion from staff) broadcasts warden.purge, and only once it commits."""
    user = make_user(is_staff=True)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        user.is_staff = False
        user.save()
        assert broadcasts == []
    assert broadcasts == [{"type": "warden.purge", "user": str(user.pk)}]


def test_saving_only_last_login_purges_nothing(
    make_user: Any, broadcasts: list[dict[str, Any]], django_capture_on_commit_callbacks: Any
) -> None:
    """update_last_login (every login) changes nothing a permission reads."""
    user = make_user()
    with django_capture_on_commit_callbacks(execute=True):
        user.save(update_fields=["last_login"])
    assert broadcasts == []


def test_creating_a_user_purges_nothing(
    make_user: Any, broadcasts: list[dict[str, Any]], django_capture_on_commit_callbacks: Any
) -> None:
    """A new user has nothing cached."""
    with django_capture_on_commit_callbacks(execute=True):
        make_user()
    assert broadcasts == []
