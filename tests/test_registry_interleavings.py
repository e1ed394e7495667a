"""The registry never holds a closed connection, whatever interleaving of its lifecycle events happens.

A seeded driver (no property-testing library is installed) runs, for each iteration, a dozen
concurrent actors on real :class:`~channels_warden.connection.Connection` objects: handshakes that
go live, in-band refreshes whose authenticator yields a random number of times, revocations by user,
session, token or id (through the listener's :func:`close_matching`), session re-keys, expiries,
client disconnects, applications that finish, and clients that stop reading. A monitor checks the
invariants at every turn of the event loop, and once more when everything settled:

* every connection in the registry (by id and in each index) is live and not closed;
* each is indexed under exactly the keys of its current ``auth``, and nothing else is indexed;
* every live, open, authenticated connection is in the registry (a revocation can find it).

A failure names the seed and the iteration, and the events that led to it, so it can be replayed:
``WARDEN_INTERLEAVING_SEED=<seed> pytest tests/test_registry_interleavings.py``.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from channels_warden import connection_closing, connection_state, inband_auth, live_registration, revocation
from channels_warden.authenticators.base import BaseAuthenticator
from channels_warden.conf import WardenSettings
from channels_warden.connection import Connection
from channels_warden.credentials import Credential
from channels_warden.exceptions import ConnectionExpired
from channels_warden.identity import AuthInfo, CredentialInfo
from channels_warden.journal import RevocationJournal
from channels_warden.registry import ConnectionRegistry, user_key
from channels_warden.revocation import apply_rekey, close_matching

SEED = int(os.environ.get("WARDEN_INTERLEAVING_SEED", "20261204"))
ITERATIONS = int(os.environ.get("WARDEN_INTERLEAVING_ITERATIONS", "400"))
ACTORS = 14
USERS = (1, 2, 3)
SESSIONS = ("s1", "s2", "s3", "s4")
TOKENS = ("t1", "t2", "t3", "t4")

#: The driver's random source, reseeded for every iteration; the authenticator draws from it too.
rng = random.Random(SEED)


async def yields(most: int = 3) -> None:
    """Give the loop away a random number of times: this is where interleavings come from."""
    for _ in range(rng.randint(0, most)):
        await asyncio.sleep(0)


class YieldingAuthenticator(BaseAuthenticator):
    """Accepts ``<user pk>.<token id>``; yields to the loop a random number of times first."""

    name = "yielding"
    default_schemes = ("bearer",)

    async def authenticate(self, credential: Credential, scope: Any) -> Any:
        await yields(4)
        pk, _, token = credential.secret.partition(".")
        return User(pk=int(pk), username=f"user{pk}"), CredentialInfo(token_id=token)


SETTINGS = {
    "AUTHENTICATORS": [f"{__name__}.YieldingAuthenticator"],
    "EXPIRY_WARNING": 0,
    "CLOSE_TIMEOUT": 0.001,
}


class Client:
    """The server side of one socket: what warden sends, and a client that may stop reading."""

    def __init__(self, stalls: bool) -> None:
        self.stalls = stalls
        self.sent: list[dict[str, Any]] = []

    async def send(self, message: dict[str, Any]) -> None:
        if self.stalls and message["type"] == "websocket.close":
            await asyncio.Event().wait()  # a full buffer that never drains
        self.sent.append(message)

    async def receive(self) -> dict[str, Any]:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


def violations(registry: ConnectionRegistry, sockets: list[Connection]) -> list[str]:
    """Every way the registry disagrees with the sockets' state right now."""
    found = []
    held = dict(registry._by_id)
    for conn_id, conn in held.items():
        if conn.closed or not conn.live:
            found.append(f"{conn_id} in the registry but closed={conn.closed} live={conn.live}")
    expected: dict[str, dict[str, set[str]]] = {"user": {}, "session": {}, "token": {}}
    for conn in held.values():
        auth = conn.auth
        assert auth is not None
        for index, key in (
            ("user", user_key(auth.user)),
            ("session", auth.session_key),
            ("token", auth.token_id),
        ):
            if key is not None:
                expected[index].setdefault(key, set()).add(conn.id)
    for index, table in (
        ("user", registry._by_user),
        ("session", registry._by_session),
        ("token", registry._by_token),
    ):
        actual = {
            key: {member.id for member in (value if isinstance(value, set) else {value})}
            for key, value in table.items()
        }
        if actual != expected[index]:
            found.append(f"{index} index {actual} != {expected[index]}")
    for conn in sockets:
        authenticated = conn.auth is not None and conn.auth.is_authenticated
        if conn.live and not conn.closed and authenticated and conn.id not in held:
            found.append(f"{conn.id} is live and open but not in the registry")
    return found


class Driver:
    """One iteration: sockets, the actors that race on them, and the log of what happened."""

    def __init__(self, registry: ConnectionRegistry) -> None:
        self.registry = registry
        self.settings = WardenSettings(SETTINGS)
        self.sockets: list[Connection] = []
        self.log: list[str] = []

    def random_auth(self) -> AuthInfo:
        pk = rng.choice(USERS)
        return AuthInfo(
            user=User(pk=pk, username=f"user{pk}"),
            authenticator="yielding",
            transport="message",
            session_key=rng.choice((*SESSIONS, None)),
            token_id=rng.choice(TOKENS),
        )

    def some_socket(self) -> Connection | None:
        """Mostly a socket that is still open (that is where races are), sometimes any socket."""
        open_ones = [conn for conn in self.sockets if not conn.closed]
        pool = open_ones if open_ones and rng.random() < 0.8 else self.sockets
        return rng.choice(pool) if pool else None

    async def handshake(self) -> None:
        client = Client(stalls=rng.random() < 0.2)
        conn = Connection({"type": "websocket", "path": "/ws/"}, client.receive, client.send, self.settings)
        self.sockets.append(conn)  # created (epoch read) before its credential is checked
        await yields(4)
        conn.auth = self.random_auth()
        await yields(4)
        conn.go_live()
        self.log.append(f"live {conn.id} {conn.auth.session_key}/{conn.auth.token_id} closed={conn.closed}")

    async def refresh(self) -> None:
        conn = self.some_socket()
        if conn is None or conn.auth is None:
            return
        pk = user_key(conn.auth.user) if rng.random() < 0.85 else "9"  # sometimes another user: refused
        token = rng.choice(TOKENS)
        self.log.append(f"refresh {conn.id} -> {pk}.{token}")
        await conn._control({"type": "warden.refresh", "token": f"{pk}.{token}"})

    async def revoke(self) -> None:
        criteria: dict[str, Any] = rng.choice(
            (
                {"user": str(rng.choice(USERS))},
                {"session_key": rng.choice(SESSIONS)},
                {"token_id": rng.choice(TOKENS)},
                {"user": str(rng.choice(USERS)), "except_session": rng.choice(SESSIONS)},
                {"connection_id": self.some_socket().id if self.sockets else "none", "code": 4409},
            )
        )
        self.log.append(f"revoke {criteria}")
        await close_matching({"type": "warden.revoke", "reason": "revoked", **criteria})

    async def rekey(self) -> None:
        old, new = rng.sample(SESSIONS, 2)
        self.log.append(f"rekey {old}->{new}")
        apply_rekey({"type": "warden.rekey", "old": old, "new": new})

    async def expire(self) -> None:
        conn = self.some_socket()
        if conn is not None:
            self.log.append(f"expire {conn.id}")
            await conn.close_live(ConnectionExpired("credential expired"))

    async def disconnect(self) -> None:
        conn = self.some_socket()
        if conn is not None:
            self.log.append(f"disconnect {conn.id}")
            conn.closed = True  # what Connection.receive does on websocket.disconnect
            conn.retire(code=1006)

    async def finish(self) -> None:
        conn = self.some_socket()
        if conn is not None:
            self.log.append(f"finish {conn.id}")
            await conn.finish()

    async def actor(self) -> None:
        await yields(6)
        action: Callable[[], Awaitable[None]] = rng.choice(
            (
                self.handshake,
                self.handshake,
                self.refresh,
                self.refresh,
                self.revoke,
                self.revoke,
                self.rekey,
                self.expire,
                self.disconnect,
                self.finish,
            )
        )
        await action()


async def run_iteration(registry: ConnectionRegistry, iteration: int) -> None:
    rng.seed(f"{SEED}-{iteration}")
    driver = Driver(registry)
    actors = [asyncio.ensure_future(driver.actor()) for _ in range(ACTORS)]
    done = asyncio.gather(*actors)
    while not done.done():
        problems = violations(registry, driver.sockets)
        assert not problems, (SEED, iteration, problems, driver.log)
        await asyncio.sleep(0)
    await done
    for conn in driver.sockets:  # let close frames time out and signals go out
        await asyncio.gather(*(conn._tasks or ()), return_exceptions=True)
    problems = violations(registry, driver.sockets)
    assert not problems, (SEED, iteration, problems, driver.log)
    for conn in driver.sockets:
        conn.retire()


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> ConnectionRegistry:
    """A registry and a journal of this test's own, in place of the process-wide ones."""
    fresh = ConnectionRegistry()
    for module in (connection_closing, live_registration, inband_auth):
        monkeypatch.setattr(module, "registry", fresh)
    monkeypatch.setattr(revocation, "registry", fresh)
    journal = RevocationJournal()
    for module in (connection_state, live_registration, inband_auth):
        monkeypatch.setattr(module, "journal", journal)
    monkeypatch.setattr(revocation, "journal", journal)
    monkeypatch.setattr(revocation.identity_cache, "purge", lambda **criteria: None)
    return fresh


async def test_registry_never_holds_a_closed_connection(registry: ConnectionRegistry) -> None:
    """Hundreds of seeded interleavings of handshake, refresh, revocation, expiry and disconnect."""
    for iteration in range(ITERATIONS):
        await run_iteration(registry, iteration)
    assert len(registry) == 0


def test_driver_is_deterministic() -> None:
    """The same seed gives the same choices, so a failing iteration can be replayed."""
    rng.seed(f"{SEED}-7")
    first = [rng.random() for _ in range(5)]
    rng.seed(f"{SEED}-7")
    assert [rng.random() for _ in range(5)] == first
