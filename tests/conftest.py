"""Shared fixtures: users and credentials minted the way the libraries mint them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from asgiref.sync import SyncToAsync
from django.db import connections


@pytest.fixture
def make_user(django_user_model: Any) -> Any:
    """Create a user; keyword arguments become model fields (``is_active``, ``is_staff``...)."""

    def make(username: str = "alice", password: str = "correct horse battery", **fields: Any) -> Any:
        return django_user_model.objects.create_user(username=username, password=password, **fields)

    return make


@pytest.fixture(autouse=True)
def close_database_thread_connections() -> Iterator[None]:
    """Close the connections of the thread ``database_sync_to_async`` runs in, after every test.

    Channels' test communicator turns ``close_old_connections`` into a no-op while it waits, so a
    connection opened by a database test can outlive it in that thread; the next test without the
    database would then trip pytest-django's blocker in Channels' own ``close_old_connections``.
    """
    yield
    SyncToAsync.single_thread_executor.submit(connections.close_all).result()


@pytest.fixture
def alice(transactional_db: None, make_user: Any) -> Any:
    """A user committed to the database, visible to the worker threads warden queries from."""
    return make_user("alice")


@pytest.fixture
async def stop_revocation_listener() -> AsyncIterator[None]:
    """Admitted sockets start the per-process revocation listener on this test's loop; stop it."""
    yield
    from channels_warden.revocation import listener

    await listener.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser suite last: sync Playwright keeps an event loop running while its session
    fixture lives, and pytest-asyncio cannot start a test's loop inside it."""
    items.sort(key=lambda item: "tests/browser/" in str(item.path))
