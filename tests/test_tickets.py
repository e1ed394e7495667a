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
    EPOCH_PREFIX,
    TicketAuthenticator,
    TicketGrant,
    TicketTransport,
    issue_ticket,
    redeem_ticket,
    void_user_tickets,
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


def session_and_token_of(user: Any) -> tuple[str, str]:
    """A logged-in session and the id of a DRF token of ``user``: valid ticket sources."""
    from rest_framework.authtoken.models import Token

    from channels_warden.authenticators.base import token_digest
    from channels_warden.testing import session_key_for

    return session_key_for(user), token_digest(Token.objects.create(user=user).key, "drf")


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
            "epoch": cache.get(EPOCH_PREFIX + str(user.pk)),
        },
    )


@pytest.mark.django_db
def test_ticket_is_single_use(make_user: Any) -> None:
    """The first redemption returns the grant; the second finds nothing."""
    user = make_user()
    ticket = issue_ticket(user, token_id="jwt:j1")
    assert (redeem_ticket(ticket), redeem_ticket(ticket)) == (
        TicketGrant(str(user.pk), None, None, None, None, "jwt:j1", cache.get(EPOCH_PREFIX + str(user.pk))),
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
    session_key, token_id = await database_sync_to_async(session_and_token_of)(alice)
    ticket = await database_sync_to_async(issue_ticket)(
        alice, origin="http://testserver", path="/ws/", session_key=session_key, token_id=token_id
    )
    inner = RecordingApp()
    communicator, outcome = await open_with(ticket, inner=inner)
    await communicator.disconnect()
    auth = inner.scope["auth"]
    assert (outcome.admitted, auth.user.pk, auth.transport, auth.session_key, auth.token_id) == (
        True,
        alice.pk,
        "ticket",
        session_key,
        token_id,
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
    """A ticket whose user was deactivated since, even without a signal (QuerySet.update), is a 4403."""
    user = make_user()
    ticket = issue_ticket(user)
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    with pytest.raises(PermissionDenied) as exc_info:
        TicketAuthenticator().redeem_sync(ticket)
    assert exc_info.value.detail == "ticket user is inactive"


@pytest.mark.django_db
def test_ticket_of_a_deleted_user_is_refused(make_user: Any, django_capture_on_commit_callbacks: Any) -> None:
    """A ticket whose user was deleted since is a 4401 (the deletion's revocation voided it on commit)."""
    user = make_user()
    ticket = issue_ticket(user)
    with django_capture_on_commit_callbacks(execute=True):
        user.delete()
    with pytest.raises(AuthenticationFailed) as exc_info:
        TicketAuthenticator().redeem_sync(ticket)
    assert exc_info.value.detail == "ticket unknown, already used, expired or voided"


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


# -- the source dies, the ticket dies ----------------------------------------------------------------------


@pytest.mark.django_db
def test_ticket_of_a_flushed_session_is_refused(make_user: Any) -> None:
    """A session ticket whose session has been logged out (flushed) since is a 4401."""
    from django.contrib.sessions.backends.db import SessionStore

    user = make_user()
    session_key, _ = session_and_token_of(user)
    ticket = issue_ticket(user, session_key=session_key)
    SessionStore(session_key).flush()
    with pytest.raises(AuthenticationFailed) as exc_info:
        TicketAuthenticator().redeem_sync(ticket)
    assert exc_info.value.detail == (
        "the session the ticket was issued from has ended (session does not exist or has expired)"
    )


@pytest.mark.django_db
def test_ticket_of_a_session_after_a_password_change_is_refused(make_user: Any) -> None:
    """A session ticket whose user's password changed since, even without a signal, is a 4401."""
    from django.contrib.auth.hashers import make_password

    user = make_user()
    session_key, _ = session_and_token_of(user)
    ticket = issue_ticket(user, session_key=session_key)
    type(user).objects.filter(pk=user.pk).update(password=make_password("a new password"))
    with pytest.raises(AuthenticationFailed) as exc_info:
        TicketAuthenticator().redeem_sync(ticket)
    assert exc_info.value.detail == (
        "the session the ticket was issued from has ended (session auth hash mismatch (password changed))"
    )


@pytest.mark.django_db
def test_ticket_of_another_users_session_is_refused(make_user: Any) -> None:
    """A ticket whose recorded session belongs to someone else is a 4401."""
    alice, bob = make_user(), make_user("bob")
    session_key, _ = session_and_token_of(bob)
    ticket = issue_ticket(alice, session_key=session_key)
    with pytest.raises(AuthenticationFailed) as exc_info:
        TicketAuthenticator().redeem_sync(ticket)
    assert exc_info.value.detail == "the session the ticket was issued from is no longer this user's"


@pytest.mark.django_db
def test_ticket_of_a_deleted_drf_token_is_refused(make_user: Any) -> None:
    """A ticket bought with a DRF token that has been deleted since is a 4401."""
    from rest_framework.authtoken.models import Token

    user = make_user()
    _, token_id = session_and_token_of(user)
    ticket = issue_ticket(user, token_id=token_id)
    Token.objects.filter(user=user).delete()
    with pytest.raises(AuthenticationFailed) as exc_info:
        TicketAuthenticator().redeem_sync(ticket)
    assert exc_info.value.detail == "the token the ticket was issued with has been deleted or has expired"


@pytest.mark.django_db
def test_ticket_of_a_deleted_knox_token_is_refused(make_user: Any) -> None:
    """A ticket bought with a knox token that has been deleted since is a 4401; a live one passes."""
    from knox.models import get_token_model

    user = make_user()
    instance, _ = get_token_model().objects.create(user=user)
    live = issue_ticket(user, token_id=f"knox:{instance.digest[:32]}")
    gone = issue_ticket(user, token_id=f"knox:{instance.digest[:32]}")
    TicketAuthenticator().redeem_sync(live)
    instance.delete()
    with pytest.raises(AuthenticationFailed):
        TicketAuthenticator().redeem_sync(gone)


@pytest.mark.django_db
def test_revoking_the_user_voids_their_outstanding_tickets(make_user: Any) -> None:
    """After void_user_tickets (what a user-wide revocation calls) the user's tickets redeem nothing."""
    alice, bob = make_user(), make_user("bob")
    alices, bobs = issue_ticket(alice), issue_ticket(bob)
    void_user_tickets(str(alice.pk))
    fresh = issue_ticket(alice)
    assert (redeem_ticket(alices), redeem_ticket(bobs) is not None, redeem_ticket(fresh) is not None) == (
        None,
        True,
        True,
    )


@pytest.mark.django_db
def test_a_forgotten_epoch_voids_the_tickets_too(make_user: Any) -> None:
    """If the cache loses the user's epoch, their tickets are refused, not let through."""
    user = make_user()
    ticket = issue_ticket(user)
    cache.delete(EPOCH_PREFIX + str(user.pk))
    assert redeem_ticket(ticket) is None


async def test_user_wide_revocation_voids_tickets_in_the_broadcast(alice: Any) -> None:
    """disconnect(user=...) voids the user's tickets; a session-only revocation does not."""
    from channels_warden.revocation import disconnect

    kept = await database_sync_to_async(issue_ticket)(alice)
    await disconnect(session_key="some-other-session")
    assert await database_sync_to_async(redeem_ticket)(kept) is not None
    voided = await database_sync_to_async(issue_ticket)(alice)
    await disconnect(user=alice)
    assert await database_sync_to_async(redeem_ticket)(voided) is None


async def test_a_cache_failure_while_voiding_does_not_stop_the_revocation(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """If the ticket cache is down, the revocation is still broadcast and the log says why."""
    from channels_warden import tickets
    from channels_warden.revocation import MESSAGE_TYPE, revocation_message

    sent: list[dict[str, Any]] = []

    def cache_down(user_id: str) -> None:
        raise ConnectionError("cache down")

    class Layer:
        async def group_send(self, group: str, message: dict[str, Any]) -> None:
            sent.append(message)

    monkeypatch.setattr(tickets, "void_user_tickets", cache_down)
    monkeypatch.setattr("channels_warden.revocation.get_channel_layer", lambda alias: Layer())
    from channels_warden.revocation import broadcast

    await broadcast(revocation_message(user=7))
    assert (
        [m["type"] for m in sent],
        [r.getMessage() for r in caplog.records if r.levelname == "ERROR"],
    ) == (
        [MESSAGE_TYPE],
        ["could not void the outstanding tickets of user 7"],
    )
