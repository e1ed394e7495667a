"""One-time tickets: random, hashed in the cache, bound to user, Origin and path, single use."""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache

from channels_warden import WardenMiddleware, guard
from channels_warden.exceptions import AuthenticationFailed, PermissionDenied
from channels_warden.revocation import listener
from channels_warden.testing import WardenCommunicator, handshake
from channels_warden.tickets import (
    CACHE_PREFIX,
    TicketAuthenticator,
    TicketGrant,
    TicketTransport,
    issue_ticket,
    redeem_ticket,
)
from tests.inprocess import RecordingApp


@pytest.fixture(autouse=True)
async def clean_state() -> AsyncIterator[None]:
    cache.clear()
    yield
    await listener.stop()
    cache.clear()


@pytest.fixture
def alice(transactional_db: None, make_user: Any) -> Any:
    return make_user("alice")


def ticket_app(inner: Any) -> WardenMiddleware:
    settings = {
        "TRANSPORTS": ["channels_warden.tickets.TicketTransport"],
        "AUTHENTICATORS": ["channels_warden.tickets.TicketAuthenticator"],
    }
    return WardenMiddleware(inner, settings=settings)


async def open_with(ticket: str, path: str = "/ws/", inner: Any = None, **kwargs: Any) -> tuple[Any, Any]:
    communicator = WardenCommunicator(
        ticket_app(inner or RecordingApp()), f"{path}?room=1&ticket={ticket}", **kwargs
    )
    return communicator, await handshake(communicator)


# -- issuing and redeeming -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_ticket_is_stored_hashed_never_in_clear(make_user: Any) -> None:
    """The cache holds the SHA-256 of the ticket and what it grants, not the ticket."""
    user = make_user()
    ticket = issue_ticket(user, origin="HTTP://Testserver:80", path="/ws/chat/")
    stored = cache.get(CACHE_PREFIX + hashlib.sha256(ticket.encode()).hexdigest())
    assert (len(ticket), cache.get(CACHE_PREFIX + ticket), stored) == (
        43,
        None,
        {
            "user_id": str(user.pk),
            "origin": "http://testserver",
            "path": "/ws/chat/",
            "source_expires_at": None,
            "session_key": None,
            "token_id": None,
        },
    )


@pytest.mark.django_db
def test_ticket_is_single_use(make_user: Any) -> None:
    """The first redemption returns the grant; the second finds nothing."""
    user = make_user()
    ticket = issue_ticket(user, token_id="jwt:j1")
    assert (redeem_ticket(ticket), redeem_ticket(ticket)) == (
        TicketGrant(str(user.pk), None, None, None, None, "jwt:j1"),
        None,
    )


def test_unknown_ticket_redeems_nothing() -> None:
    """A ticket that was never issued is None."""
    assert redeem_ticket("never-issued") is None


@pytest.mark.django_db
def test_ticket_lives_ttl_seconds(make_user: Any) -> None:
    """A ticket issued with a zero lifetime is already gone."""
    assert redeem_ticket(issue_ticket(make_user(), ttl=0)) is None


def test_anonymous_users_get_no_ticket() -> None:
    """Tickets stand for authenticated users only."""
    with pytest.raises(ValueError, match=r"^tickets are issued to authenticated users only$"):
        issue_ticket(AnonymousUser())


def test_ticket_origin_must_be_an_origin() -> None:
    """A malformed Origin to bind to is refused at issue time."""
    from django.contrib.auth.models import User

    with pytest.raises(ValueError, match=r"^not a scheme://host\[:port\] origin$"):
        issue_ticket(User(pk=1), origin="null")


def test_ticket_transport_reads_the_ticket_parameter() -> None:
    """TicketTransport is the query string transport for 'ticket', with its own scheme."""
    transport = TicketTransport()
    assert (transport.name, transport.parameter, transport.scheme) == ("ticket", "ticket", "ticket")


# -- redeeming in a handshake -------------------------------------------------------------------------------


async def test_ticket_opens_a_socket_and_is_redacted(alice: Any) -> None:
    """?ticket= admits the user it was issued to; the app's query string keeps the other parameters."""
    ticket = await database_sync_to_async(issue_ticket)(
        alice, origin="http://testserver", path="/ws/", session_key="sess-1", token_id="drf:x"
    )
    inner = RecordingApp()
    communicator, outcome = await open_with(ticket, inner=inner)
    await communicator.disconnect()
    auth = inner.scope["auth"]
    assert (outcome.admitted, auth.user.pk, auth.transport, auth.session_key, auth.token_id) == (
        True,
        alice.pk,
        "ticket",
        "sess-1",
        "drf:x",
    )
    assert inner.scope["query_string"] == b"room=1"


async def test_ticket_cannot_be_used_twice(alice: Any) -> None:
    """The second socket with the same ticket is refused with 4401."""
    ticket = await database_sync_to_async(issue_ticket)(alice)
    first, _ = await open_with(ticket)
    await first.disconnect()
    _, outcome = await open_with(ticket)
    assert outcome.close_code == 4401


async def test_ticket_from_another_origin_is_refused(alice: Any) -> None:
    """A ticket bound to one Origin is refused from another."""
    ticket = await database_sync_to_async(issue_ticket)(alice, origin="http://localhost:3000")
    _, outcome = await open_with(ticket)
    assert outcome.close_code == 4401


async def test_ticket_bound_to_an_origin_needs_one(alice: Any) -> None:
    """A ticket bound to an Origin is refused from a client that sends none."""
    ticket = await database_sync_to_async(issue_ticket)(alice, origin="http://testserver")
    _, outcome = await open_with(ticket, origin=None)
    assert outcome.close_code == 4401


async def test_ticket_on_another_path_is_refused(alice: Any) -> None:
    """A ticket bound to one path is refused on another."""
    ticket = await database_sync_to_async(issue_ticket)(alice, path="/ws/chat/lobby/")
    _, outcome = await open_with(ticket, path="/ws/chat/admin/")
    assert outcome.close_code == 4401


async def test_ticket_of_an_expired_credential_is_refused(alice: Any) -> None:
    """A ticket outliving the credential it was issued with is refused."""
    ticket = await database_sync_to_async(issue_ticket)(alice, source_expires_at=time.time() - 1)
    _, outcome = await open_with(ticket)
    assert outcome.close_code == 4401


async def test_socket_inherits_the_source_credentials_end(alice: Any) -> None:
    """The socket expires when the credential behind the ticket does."""
    end = time.time() + 3600
    ticket = await database_sync_to_async(issue_ticket)(alice, source_expires_at=end)
    inner = RecordingApp()
    communicator, _ = await open_with(ticket, inner=inner)
    await communicator.disconnect()
    assert inner.scope["auth"].expires_at == end


@pytest.mark.django_db
def test_ticket_of_an_inactive_user_is_forbidden(make_user: Any) -> None:
    """A ticket whose user was deactivated since is a 4403."""
    user = make_user()
    ticket = issue_ticket(user)
    user.is_active = False
    user.save()
    with pytest.raises(PermissionDenied) as exc_info:
        TicketAuthenticator().redeem_sync(ticket)
    assert exc_info.value.detail == "ticket user is inactive"


@pytest.mark.django_db
def test_ticket_of_a_deleted_user_is_refused(make_user: Any) -> None:
    """A ticket whose user was deleted since is a 4401."""
    user = make_user()
    ticket = issue_ticket(user)
    user.delete()
    with pytest.raises(AuthenticationFailed) as exc_info:
        TicketAuthenticator().redeem_sync(ticket)
    assert exc_info.value.detail == "ticket user no longer exists"


@pytest.mark.django_db
def test_redeeming_costs_one_query(make_user: Any, django_assert_num_queries: Any) -> None:
    """Redemption is a cache read and delete plus one user query."""
    user = make_user()
    ticket = issue_ticket(user)
    with django_assert_num_queries(1):
        _, redeemed_by = TicketAuthenticator().redeem_sync(ticket)
    assert redeemed_by == user


async def test_anonymous_route_still_refuses_a_bad_ticket(transactional_db: None) -> None:
    """An invalid ticket is refused even where anonymous clients are welcome."""
    _, outcome = await open_with("never-issued", inner=guard(RecordingApp(), allow_anonymous=True))
    assert outcome.close_code == 4401
