"""The triggers broadcast when the change commits: never before, never for a rollback.

A revocation that goes out before its transaction commits reaches the listeners while new
handshakes still read the old row (an active user, a live token), and those sockets outlive it. So
every trigger defers its broadcast with ``transaction.on_commit``. Proven twice: with Django's
``captureOnCommitCallbacks`` inside a test transaction, and with real transactions on PostgreSQL
read from another connection at the moment the broadcast goes out.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.contrib.auth import get_user_model, logout
from django.contrib.sessions.backends.db import SessionStore
from django.db import transaction
from django.test import RequestFactory, TestCase
from rest_framework.authtoken.models import Token

from channels_warden import triggers
from channels_warden.authenticators.base import token_digest

PG = "postgres"


@pytest.fixture
def broadcasts(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The messages the triggers broadcast, recorded instead of sent."""
    sent: list[dict[str, Any]] = []

    async def record(message: dict[str, Any]) -> None:
        sent.append(message)

    monkeypatch.setattr(triggers, "broadcast", record)
    return sent


def failed_admin_action(user: Any, using: str = "default") -> None:
    """Deactivate ``user`` in a transaction that then fails and rolls back."""
    try:
        with transaction.atomic(using=using):
            user.is_active = False
            user.save(using=using)
            raise RuntimeError("the admin action failed")
    except RuntimeError:
        user.is_active = True


def reasons(sent: list[dict[str, Any]]) -> list[str]:
    return [message["reason"] for message in sent]


# -- captureOnCommitCallbacks -------------------------------------------------------------------------


@pytest.mark.django_db
def test_deactivation_is_broadcast_by_the_commit_callback(
    make_user: Any, broadcasts: list[dict[str, Any]]
) -> None:
    """Saving is_active=False registers a commit callback and broadcasts nothing before it runs."""
    user = make_user()
    with TestCase.captureOnCommitCallbacks() as callbacks:
        user.is_active = False
        user.save()
    before = list(broadcasts)
    for callback in callbacks:
        callback()
    assert (before, len(callbacks), reasons(broadcasts)) == ([], 1, ["user_inactive"])


@pytest.mark.django_db
def test_token_deletion_is_broadcast_by_the_commit_callback(
    make_user: Any, broadcasts: list[dict[str, Any]]
) -> None:
    """Deleting a DRF token broadcasts from its commit callback, not from post_delete."""
    token = Token.objects.create(user=make_user())
    key = token.key
    with TestCase.captureOnCommitCallbacks(execute=True) as callbacks:
        token.delete()
        assert broadcasts == []
    assert (len(callbacks), [m["token_id"] for m in broadcasts]) == (1, [token_digest(key, "drf")])


@pytest.mark.django_db
def test_a_rolled_back_deactivation_is_never_broadcast(
    make_user: Any, broadcasts: list[dict[str, Any]]
) -> None:
    """A deactivation inside a savepoint that rolls back leaves no commit callback behind."""
    user = make_user()
    with TestCase.captureOnCommitCallbacks(execute=True) as callbacks:
        failed_admin_action(user)
    assert (callbacks, broadcasts) == ([], [])


@pytest.mark.django_db(transaction=True)
def test_logout_deletes_the_session_before_it_broadcasts(
    make_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the logout broadcast goes out, a handshake with the cookie can no longer load the session."""
    from channels.db import database_sync_to_async

    seen: list[tuple[str, bool]] = []

    async def record(message: dict[str, Any]) -> None:
        key = message["session_key"]
        seen.append((message["reason"], await database_sync_to_async(SessionStore().exists)(key)))

    monkeypatch.setattr(triggers, "broadcast", record)
    request = RequestFactory().get("/")
    request.session = SessionStore()
    request.session.create()
    request.user = make_user()
    logout(request)
    assert seen == [("logout", False)]


# -- real transactions on PostgreSQL ---------------------------------------------------------------------


def _read_is_active(pk: int) -> bool:
    """What another connection (a concurrent handshake) reads: the committed row."""
    from django.db import connections

    try:
        return bool(get_user_model().objects.using(PG).get(pk=pk).is_active)
    finally:
        connections[PG].close()


def elsewhere(function: Any, *args: Any) -> Any:
    """Run ``function`` in another thread, hence on another database connection."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args).result()


@pytest.fixture
def pg_broadcasts(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """Each broadcast's reason and whether another connection still read the user as active then."""
    seen: list[tuple[str, bool]] = []

    async def record(message: dict[str, Any]) -> None:
        active = await asyncio.to_thread(_read_is_active, int(message["user"]))
        seen.append((message["reason"], active))

    monkeypatch.setattr(triggers, "broadcast", record)
    return seen


@pytest.mark.django_db(transaction=True, databases=["default", PG])
def test_postgres_deactivation_is_broadcast_after_the_commit(pg_broadcasts: list[tuple[str, bool]]) -> None:
    """Inside the transaction nothing goes out; at the broadcast other connections see the change."""
    user = get_user_model().objects.db_manager(PG).create_user(username="alice", password="pw")
    with transaction.atomic(using=PG):
        user.is_active = False
        user.save(using=PG)
        inside = (list(pg_broadcasts), elsewhere(_read_is_active, user.pk))
    assert (inside, pg_broadcasts) == (([], True), [("user_inactive", False)])


@pytest.mark.django_db(transaction=True, databases=["default", PG])
def test_postgres_rolled_back_deactivation_is_never_broadcast(pg_broadcasts: list[tuple[str, bool]]) -> None:
    """A deactivation whose transaction rolls back revokes nothing: the user is still active."""
    user = get_user_model().objects.db_manager(PG).create_user(username="alice", password="pw")
    failed_admin_action(user, using=PG)
    assert (pg_broadcasts, elsewhere(_read_is_active, user.pk)) == ([], True)


@pytest.mark.django_db(transaction=True, databases=["default", PG])
def test_postgres_user_deletion_is_broadcast_after_the_commit(pg_broadcasts: list[tuple[str, bool]]) -> None:
    """Deleting a user in a transaction broadcasts once the row is gone for everyone."""
    user = get_user_model().objects.db_manager(PG).create_user(username="alice", password="pw")
    pk = user.pk
    gone: list[bool] = []

    async def record(message: dict[str, Any]) -> None:
        exists = await asyncio.to_thread(_exists, pk)
        gone.append(not exists)

    triggers.broadcast = record  # type: ignore[assignment]  (restored by pg_broadcasts' monkeypatch)
    with transaction.atomic(using=PG):
        user.delete()
        assert gone == []
    assert gone == [True]


def _exists(pk: int) -> bool:
    from django.db import connections

    try:
        return bool(get_user_model().objects.using(PG).filter(pk=pk).exists())
    finally:
        connections[PG].close()
