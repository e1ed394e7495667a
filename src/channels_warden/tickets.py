"""One-time tickets: the only credential that belongs in a URL.

A client that is already authenticated over HTTP (session, DRF token, JWT) asks for a ticket, then
opens ``wss://.../?ticket=<ticket>`` within ``TICKET_TTL`` seconds. The ticket is random (256 bits),
stored only as its SHA-256 in the Django cache, bound to the user and optionally to the Origin and
path it may be used from, and consumed atomically: of two concurrent uses, exactly one wins, because
``cache.delete`` reports whether *this* call removed the key (locmem under its lock, Redis ``DEL``).
With several server processes the cache must be shared (Redis), or tickets work on one process only.

Sockets opened with a ticket inherit the end, session and token id of the credential the ticket was
issued with, so they expire and are revoked like that credential. A ticket also dies with that
credential before it is used: redemption checks that the session or token is still valid
(:mod:`~channels_warden.ticket_sources`), and a revocation of the whole user (deactivation, password
change, ``disconnect(user=...)``) voids every ticket the user holds, in every process, by moving the
user's *ticket epoch* (a random value in the ticket cache that each ticket records when issued).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import caches

from ._types import Scope
from .authenticators.base import AuthResult, BaseAuthenticator
from .batching import each_in_one_hop, loader_for
from .cachelock import in_thread
from .credentials import Credential
from .exceptions import AuthenticationFailed, PermissionDenied
from .identity import CredentialInfo
from .origins import parse_origin, read_origin
from .ticket_sources import check_token_source, session_user
from .transports import QueryStringTransport

logger = logging.getLogger("channels_warden.revocation")

TICKET_BYTES = 32
CACHE_PREFIX = "warden:ticket:"
EPOCH_PREFIX = "warden:ticket-epoch:"
#: How long a user's ticket epoch is kept after the last ticket issued to them (longer than any ticket).
EPOCH_SECONDS = 86_400


def _settings() -> Any:
    from .conf import warden_settings

    return warden_settings


def _cache_key(ticket: str) -> str:
    return CACHE_PREFIX + hashlib.sha256(ticket.encode()).hexdigest()


@dataclass(frozen=True)
class TicketGrant:
    """What a ticket stands for, as stored in the cache (never the ticket itself)."""

    user_id: str
    origin: str | None
    path: str | None
    source_expires_at: float | None
    session_key: str | None
    token_id: str | None
    #: The user's ticket epoch when the ticket was issued; a revocation of the user changes it.
    epoch: str | None = None


def _epoch_key(user_id: str) -> str:
    return f"{EPOCH_PREFIX}{user_id}"


def _current_epoch(cache: Any, user_id: str, lifetime: float) -> str | None:
    """The user's ticket epoch, made if there is none, and kept at least ``lifetime`` more seconds."""
    key = _epoch_key(user_id)
    timeout = max(EPOCH_SECONDS, int(lifetime) * 2)
    cache.add(key, secrets.token_hex(8), timeout=timeout)
    epoch = cache.get(key)
    cache.touch(key, timeout)
    return None if epoch is None else str(epoch)


def void_user_tickets(user_id: str) -> None:
    """Make every outstanding ticket of ``user_id`` unredeemable (blocking: one cache write).

    Called for every revocation that names a whole user; an evicted epoch voids them as well.
    """
    caches[_settings().TICKET_CACHE].set(_epoch_key(user_id), secrets.token_hex(8), timeout=EPOCH_SECONDS)


async def void_revoked_tickets(message: Mapping[str, Any]) -> None:
    """Void the outstanding tickets of the user a revocation names as a whole; never raises.

    Called once, by the process that broadcasts the revocation (tickets live in a shared cache).
    A revocation of one session, token or connection leaves the user's other tickets alone: the
    source check at redemption catches tickets of that session or token.
    """
    user = message.get("user")
    if user is None or any(message.get(key) for key in ("session_key", "token_id", "connection_id")):
        return
    try:
        await in_thread(void_user_tickets, str(user))
    except Exception:  # the revocation still goes out; the tickets end with their TTL
        logger.exception("could not void the outstanding tickets of user %s", user)


def issue_ticket(
    user: Any,
    *,
    origin: str | None = None,
    path: str | None = None,
    source_expires_at: float | None = None,
    session_key: str | None = None,
    token_id: str | None = None,
    ttl: float | None = None,
) -> str:
    """Create a single-use ticket for ``user`` and return it (blocking: it writes to the cache).

    Args:
        user: the authenticated user the ticket stands for.
        origin: if given, the ticket is accepted only from this Origin (``scheme://host[:port]``).
        path: if given, the ticket is accepted only on this WebSocket path.
        source_expires_at: end of the credential the ticket was issued with; the socket closes then.
        session_key: the session the ticket was issued from; its logout closes the socket.
        token_id: id of the token the ticket was issued with; its revocation closes the socket.
        ttl: seconds the ticket stays redeemable; defaults to the ``TICKET_TTL`` setting.
    """
    if not getattr(user, "is_authenticated", False):
        raise ValueError("tickets are issued to authenticated users only")
    normalised_origin = str(parse_origin(origin)) if origin else None
    ticket = secrets.token_urlsafe(TICKET_BYTES)
    lifetime = float(ttl if ttl is not None else _settings().TICKET_TTL)
    cache = caches[_settings().TICKET_CACHE]
    epoch = _current_epoch(cache, str(user.pk), lifetime)
    grant = TicketGrant(
        str(user.pk), normalised_origin, path, source_expires_at, session_key, token_id, epoch
    )
    cache.set(_cache_key(ticket), asdict(grant), timeout=lifetime)
    return ticket


def redeem_ticket(ticket: str) -> TicketGrant | None:
    """Consume ``ticket``; its grant, or ``None`` if it is unknown, used, expired or voided (blocking)."""
    cache = caches[_settings().TICKET_CACHE]
    key = _cache_key(ticket)
    stored = cache.get(key)
    if stored is None or not cache.delete(key):
        return None
    grant = TicketGrant(**stored)
    current = cache.get(_epoch_key(grant.user_id))
    if (None if current is None else str(current)) != grant.epoch:
        return None
    return grant


class TicketTransport(QueryStringTransport):
    """``?ticket=...``: the query string, for one-time tickets only."""

    name = "ticket"

    def __init__(self, parameter: str = "ticket") -> None:
        super().__init__(parameter=parameter, scheme="ticket")


class TicketAuthenticator(BaseAuthenticator):
    """Redeems tickets: one cache read and delete and one user query, in one (shared) thread hop."""

    name = "ticket"
    default_schemes = ("ticket",)

    async def authenticate(self, credential: Credential, scope: Scope) -> AuthResult | None:
        # Redemptions that overlap one in flight share the next thread hop (each is its own atomic
        # cache delete and user query).
        loader = loader_for(self, "tickets", each_in_one_hop(self.redeem_sync))
        grant, user = await loader.load((credential.secret,))
        if grant.origin is not None:
            origin = read_origin(scope.get("headers", []))
            if origin is None or str(origin) != grant.origin:
                raise AuthenticationFailed("ticket used from another Origin than it was issued for")
        if grant.path is not None and scope.get("path") != grant.path:
            raise AuthenticationFailed("ticket used on another path than it was issued for")
        if grant.source_expires_at is not None and grant.source_expires_at <= time.time():
            raise AuthenticationFailed("the credential the ticket was issued with has expired")
        return user, CredentialInfo(
            expires_at=grant.source_expires_at, session_key=grant.session_key, token_id=grant.token_id
        )

    def redeem_sync(self, ticket: str) -> tuple[TicketGrant, Any]:
        """The blocking part; runs in a worker thread.

        One cache read and delete, plus: one user query (no session), or the session and its user
        (a session ticket: two queries), plus one token query for a DRF or knox ticket.
        """
        grant = redeem_ticket(ticket)
        if grant is None:
            raise AuthenticationFailed("ticket unknown, already used, expired or voided")
        if grant.session_key is not None:
            user = session_user(grant.session_key, grant.user_id)
        else:
            user = get_user_model()._default_manager.filter(pk=grant.user_id).first()
            if user is None:
                raise AuthenticationFailed("ticket user no longer exists")
            if not user.is_active:
                raise PermissionDenied("ticket user is inactive")
        if grant.token_id is not None:
            check_token_source(grant.token_id, user)
        return grant, user
