"""Users, DRF tokens, sessions and JWTs for the bench database, and the requests that carry them.

The runner seeds the SQLite file before any server starts. Cold configurations take credentials
from :class:`Pools` that are never handed out twice, so a cold handshake always presents a token the
server process has never seen; warm configurations cycle through a small set that the runner
verifies once (untimed) before each timed batch. Sessions cannot be cached by warden, so a pool of
them is cycled. Tickets are single-use and live in one server's cache, so they are minted by that
server (``/bench/tickets/``) right before each batch.
"""

from __future__ import annotations

import binascii
import itertools
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from .client import Attempt, auth_frame, upgrade_request
from .configs import Config

WARM_TOKENS = 32
SESSION_POOL = 500
ORIGIN = "http://bench.local"


@dataclass
class Seeded:
    """What :func:`seed` wrote: user ids with their DRF keys, and session keys."""

    user_ids: list[int]
    drf_keys: list[str]
    session_keys: list[str]
    #: Signed-cookie sessions of users 0..WARM_TOKENS-1 (the cookie holds the session).
    signed_sessions: list[str] = field(default_factory=list)


def seed(users: int) -> Seeded:
    """Create ``users`` users, one DRF token each, and a pool of logged-in sessions (runner only)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.backends.signed_cookies import SessionStore as SignedCookieStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    model = get_user_model()
    password = make_password("bench")
    model.objects.bulk_create(
        (model(username=f"bench{index}", password=password) for index in range(users)), batch_size=2000
    )
    user_list = list(model.objects.order_by("pk"))
    keys = [binascii.hexlify(os.urandom(20)).decode() for _ in user_list]
    Token.objects.bulk_create(
        (Token(key=key, user=user) for key, user in zip(keys, user_list, strict=True)), batch_size=2000
    )
    backend = settings.AUTHENTICATION_BACKENDS[0]
    expire_date = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    store = SessionStore()
    sessions = []
    for user in user_list[:SESSION_POOL]:
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: backend,
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        sessions.append(
            Session(
                session_key=store._get_new_session_key(),
                session_data=store.encode(data),
                expire_date=expire_date,
            )
        )
    Session.objects.bulk_create(sessions, batch_size=2000)
    signed = []
    for user in user_list[:WARM_TOKENS]:
        cookie = SignedCookieStore()
        cookie.update(
            {
                SESSION_KEY: str(user.pk),
                BACKEND_SESSION_KEY: backend,
                HASH_SESSION_KEY: user.get_session_auth_hash(),
            }
        )
        cookie.save()
        signed.append(str(cookie.session_key))
    return Seeded(
        [user.pk for user in user_list], keys, [session.session_key for session in sessions], signed
    )


def jwt_for(user_id: int, *, exp: int | None = None) -> str:
    """A SimpleJWT access token for ``user_id`` (its own ``jti``), optionally with a given ``exp``."""
    from rest_framework_simplejwt.settings import api_settings
    from rest_framework_simplejwt.tokens import AccessToken

    token = AccessToken()
    token[api_settings.USER_ID_CLAIM] = user_id
    if exp is not None:
        token["exp"] = exp
    return str(token)


@dataclass
class Pools:
    """Hands out credentials: fresh ones for cold configurations, a fixed few for warm ones."""

    seeded: Seeded
    _next_user: Iterator[int] = field(init=False)
    _sessions: Iterator[str] = field(init=False)
    _jwt_users: Iterator[int] = field(init=False)
    warm: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._next_user = iter(range(WARM_TOKENS, len(self.seeded.user_ids)))
        self._sessions = itertools.cycle(self.seeded.session_keys)
        self._jwt_users = itertools.cycle(range(WARM_TOKENS, len(self.seeded.user_ids)))

    def fresh_user(self) -> int:
        """The index of a user whose DRF token no handshake has used yet."""
        try:
            return next(self._next_user)
        except StopIteration:
            raise RuntimeError("the bench ran out of seeded users: raise the users estimate") from None

    def warm_secrets(self, credential: str) -> list[str]:
        """The few secrets a warm configuration cycles through (users 0..WARM_TOKENS-1)."""
        if credential not in self.warm:
            users = range(WARM_TOKENS)
            if credential == "drf":
                self.warm[credential] = [self.seeded.drf_keys[index] for index in users]
            elif credential == "session":  # sessions of users 0..WARM_TOKENS-1: their users get cached
                self.warm[credential] = self.seeded.session_keys[:WARM_TOKENS]
            elif credential == "session_signed":
                self.warm[credential] = self.seeded.signed_sessions
            else:
                self.warm[credential] = [jwt_for(self.seeded.user_ids[index]) for index in users]
        return self.warm[credential]

    def secret(self, credential: str, cache: str | None) -> str:
        """One credential of kind ``credential``: fresh unless ``cache`` is ``warm``."""
        if credential == "session" and cache != "warm":
            return next(self._sessions)
        if cache == "warm":
            raise ValueError("warm secrets come from warm_secrets()")
        if credential == "drf":
            return self.seeded.drf_keys[self.fresh_user()]
        # A new JWT is a new credential whoever it names (its own jti and signature).
        return jwt_for(self.seeded.user_ids[next(self._jwt_users)])


def presented(config: Config, secret: str | None) -> tuple[list[tuple[str, str]], str, bytes | None]:
    """How ``config``'s client presents ``secret``: its headers (Origin first), its query string and
    the frame it sends once accepted (first-message auth). The benchmark's sockets and the
    in-process tools (``bench.memory_sites``, ``bench.handshake_parts``) both read it from here."""
    headers = [("Origin", ORIGIN)]
    query, frame = "", None
    match config.credential:
        case "session" | "session_signed":
            headers.append(("Cookie", f"sessionid={secret}"))
        case "drf":
            headers.append(("Authorization", f"Token {secret}"))
        case "jwt_db" | "jwt_stateless":
            headers.append(("Authorization", f"Bearer {secret}"))
        case "ticket":
            query = f"ticket={secret}"
        case "jwt_query":
            query = f"token={secret}"
        case "first_message":
            headers.append(("Sec-WebSocket-Protocol", "warden"))
            frame = auth_frame(str(secret))
    return headers, query, frame


def attempt(config: Config, port: int, secret: str | None) -> Attempt:
    """The handshake that presents ``secret`` to ``config``'s route on ``port``."""
    headers, query, frame = presented(config, secret)
    path = f"{config.path}?{query}" if query else config.path
    return Attempt(upgrade_request(port, path, headers), frame)


def fresh_attempts(
    config: Config, port: int, pools: Pools, count: int, tickets: list[str] | None
) -> list[Attempt]:
    """``count`` handshakes for ``config``; warm ones cycle the warm set, tickets come from the server."""
    if config.credential == "none":
        return [attempt(config, port, None)] * count
    if config.credential == "ticket":
        if tickets is None or len(tickets) < count:
            raise ValueError(f"{count} handshakes need {count} tickets")
        return [attempt(config, port, ticket) for ticket in tickets[:count]]
    if config.cache == "warm":
        cycle = itertools.cycle(pools.warm_secrets(config.credential))
        return [attempt(config, port, next(cycle)) for _ in range(count)]
    return [attempt(config, port, pools.secret(config.credential, config.cache)) for _ in range(count)]


def expiring_tokens(user_id: int, count: int, lead: float) -> tuple[int, list[str]]:
    """``count`` JWTs that all expire at the same whole second, at least ``lead`` seconds from now."""
    exp = math.ceil(time.time() + lead)
    return exp, [jwt_for(user_id, exp=exp) for _ in range(count)]


def describe_pools(pools: Pools) -> dict[str, Any]:
    return {
        "users": len(pools.seeded.user_ids),
        "sessions": len(pools.seeded.session_keys),
        "warm_tokens": WARM_TOKENS,
    }
