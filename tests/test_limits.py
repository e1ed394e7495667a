"""Per-user connection limits: reject the newest socket, or evict the oldest one anywhere."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from channels_warden import WardenMiddleware, cachelock, guard
from channels_warden.authenticators.base import BaseAuthenticator
from channels_warden.cachelock import cache_mutex
from channels_warden.credentials import Credential
from channels_warden.exceptions import ServiceUnavailable, TooManyConnections
from channels_warden.identity import CredentialInfo
from channels_warden.limits import ConnectionLimiter, LimitConfig, limiter
from channels_warden.revocation import listener
from channels_warden.testing import WardenCommunicator, handshake
from tests.inprocess import RecordingApp

USERS = {"carol-1": User(pk=301, username="carol"), "carol-2": User(pk=301, username="carol")}


class TableAuthenticator(BaseAuthenticator):
    name = "table"
    default_schemes = ("bearer",)

    async def authenticate(self, credential: Credential, scope: Any) -> Any:
        return USERS[credential.secret], CredentialInfo()


@pytest.fixture(autouse=True)
async def clean_state() -> AsyncIterator[None]:
    """Counts live in the shared cache; the revocation listener runs on this test's loop."""
    cache.clear()
    yield
    await listener.stop()
    cache.clear()


def app(policy: str = "reject_newest", **limit: Any) -> WardenMiddleware:
    settings = {
        "TRANSPORTS": ["channels_warden.transports.AuthorizationHeaderTransport"],
        "AUTHENTICATORS": [TableAuthenticator()],
        "CONNECTION_LIMIT": {"MAX": 1, "POLICY": policy, **limit},
    }
    return WardenMiddleware(guard(RecordingApp(), allow_anonymous=True), settings=settings)


async def open_as(application: Any, key: str | None) -> tuple[WardenCommunicator, Any]:
    headers = [] if key is None else [(b"authorization", f"Bearer {key}".encode())]
    communicator = WardenCommunicator(application, "/ws/", headers=headers)
    return communicator, await handshake(communicator)


async def test_reject_newest_refuses_the_socket_over_the_limit() -> None:
    """With MAX 1 the user's second socket gets 4429 with retry_after = the lease."""
    application = app()
    first, _ = await open_as(application, "carol-1")
    _, outcome = await open_as(application, "carol-2")
    await first.disconnect()
    assert outcome.frame == {
        "type": "warden.disconnect",
        "code": 4429,
        "reason": "too_many",
        "reconnect": "backoff",
        "retry_after": 60,
    }


async def test_closing_a_socket_frees_its_slot() -> None:
    """After the first socket closes, the user may open another."""
    application = app()
    first, _ = await open_as(application, "carol-1")
    await first.disconnect()
    second, outcome = await open_as(application, "carol-2")
    await second.disconnect()
    assert outcome.admitted is True


async def test_evict_oldest_closes_the_first_socket_with_4409() -> None:
    """With evict_oldest the new socket opens and the oldest one is closed as replaced."""
    application = app("evict_oldest")
    first, _ = await open_as(application, "carol-1")
    await asyncio.wait_for(listener.joined.wait(), timeout=5)
    second, outcome = await open_as(application, "carol-2")
    frame, close = await first.receive_output(), await first.receive_output()
    await first.disconnect()
    await second.disconnect()
    assert (outcome.admitted, frame["text"], close) == (
        True,
        '{"type": "warden.disconnect", "code": 4409, "reason": "replaced", "reconnect": "never"}',
        {"type": "websocket.close", "code": 4409, "reason": "replaced"},
    )


async def test_anonymous_sockets_are_not_counted() -> None:
    """The limit is per user; anonymous sockets have no user to count."""
    application = app()
    first, one = await open_as(application, None)
    second, two = await open_as(application, None)
    await first.disconnect()
    await second.disconnect()
    assert (one.admitted, two.admitted) == (True, True)


async def test_cache_failure_refuses_with_4500(monkeypatch: pytest.MonkeyPatch) -> None:
    """A limit that cannot be checked refuses the socket instead of letting it in."""

    def cache_down(self: ConnectionLimiter, user: str, conn_id: str, config: LimitConfig) -> None:
        raise ConnectionError("cache down")

    monkeypatch.setattr(ConnectionLimiter, "acquire_sync", cache_down)
    _, outcome = await open_as(app(), "carol-1")
    assert outcome.close_code == 4500


async def test_release_failure_is_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """If a slot cannot be released, the log says it frees itself within the lease."""

    def cache_down(self: ConnectionLimiter, user: str, conn_id: str, config: LimitConfig) -> None:
        raise ConnectionError("cache down")

    monkeypatch.setattr(ConnectionLimiter, "release_sync", cache_down)
    communicator, _ = await open_as(app(), "carol-1")
    await communicator.disconnect()
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR] == [
        "could not release a connection slot; it frees itself within the lease"
    ]


def test_renew_extends_the_leases() -> None:
    """renew_sync pushes each held socket's lease end forward; unknown sockets are not added."""
    config = LimitConfig(max=2, lease=60.0)
    limiter = ConnectionLimiter()
    limiter.acquire_sync("9", "c1", config)
    before = cache.get("warden:conns:9")["c1"][1]
    limiter.renew_sync([("c1", "9", config), ("gone", "9", config)])
    entries = cache.get("warden:conns:9")
    assert (sorted(entries), entries["c1"][1] >= before) == (["c1"], True)


def test_expired_leases_do_not_count() -> None:
    """A socket whose lease ran out (its process died) no longer uses a slot."""
    config = LimitConfig(max=1, lease=60.0)
    cache.set("warden:conns:9", {"dead": [0.0, 1.0]})
    assert ConnectionLimiter().acquire_sync("9", "c1", config) is None


def test_evict_oldest_names_the_oldest() -> None:
    """Over the limit, evict_oldest returns the socket that opened first."""
    config = LimitConfig(max=2, policy="evict_oldest")
    limiter = ConnectionLimiter()
    limiter.acquire_sync("9", "old", config)
    limiter.acquire_sync("9", "new", config)
    assert limiter.acquire_sync("9", "newest", config) == "old"


def test_reject_newest_raises_too_many() -> None:
    """Over the limit, reject_newest raises 4429."""
    config = LimitConfig(max=1)
    ConnectionLimiter().acquire_sync("9", "c1", config)
    with pytest.raises(TooManyConnections) as exc_info:
        ConnectionLimiter().acquire_sync("9", "c2", config)
    assert (exc_info.value.detail, exc_info.value.retry_after) == ("user has 1 sockets, the limit is 1", 60)


async def test_renewer_runs_while_sockets_are_held(monkeypatch: pytest.MonkeyPatch) -> None:
    """The renewer renews what is held and stops once nothing is."""
    limiter = ConnectionLimiter()
    config = LimitConfig(max=1)
    limiter._held["c1"] = ("9", config)
    renewed: list[list[Any]] = []

    def renew(self: ConnectionLimiter, held: list[Any]) -> None:
        renewed.append(held)
        self._held.clear()

    monkeypatch.setattr(ConnectionLimiter, "renew_sync", renew)
    await asyncio.wait_for(limiter._renew_forever(0), timeout=5)
    assert renewed == [[("c1", "9", config)]]


async def test_renewer_keeps_going_after_a_failure(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A failed renewal is logged and retried."""
    limiter = ConnectionLimiter()
    limiter._held["c1"] = ("9", LimitConfig(max=1))
    attempts: list[int] = []

    def renew(self: ConnectionLimiter, held: list[Any]) -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("cache down")
        self._held.clear()

    monkeypatch.setattr(ConnectionLimiter, "renew_sync", renew)
    await asyncio.wait_for(limiter._renew_forever(0), timeout=5)
    assert (len(attempts), [r.getMessage() for r in caplog.records]) == (
        2,
        ["could not renew connection leases"],
    )


async def test_release_of_an_unknown_connection_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    """Releasing a connection that never acquired a slot touches no cache."""
    calls: list[str] = []
    monkeypatch.setattr(ConnectionLimiter, "release_sync", lambda self, *args: calls.append("release"))

    class Unknown:
        id = "never-acquired"

    await limiter.release(Unknown())  # type: ignore[arg-type]
    assert calls == []


# -- configuration -----------------------------------------------------------------------------------------


def test_setting_absent_is_no_limit() -> None:
    """No CONNECTION_LIMIT, no limit."""
    assert LimitConfig.from_setting(None) is None


def test_setting_is_read_with_defaults() -> None:
    """MAX is required; POLICY, CACHE and LEASE have defaults."""
    assert LimitConfig.from_setting({"MAX": 3, "LEASE": 30}) == LimitConfig(
        max=3, policy="reject_newest", cache="default", lease=30.0
    )


@pytest.mark.parametrize("value", [{}, {"MAX": 0}, {"MAX": "3"}, {"MAX": 3, "POLICIES": "x"}])
def test_malformed_setting_shows_the_expected_shape(value: dict[str, Any]) -> None:
    """A malformed CONNECTION_LIMIT says what it must look like."""
    with pytest.raises(ImproperlyConfigured) as exc_info:
        LimitConfig.from_setting(value)
    assert str(exc_info.value) == (
        "WARDEN CONNECTION_LIMIT must look like {'MAX': 5, 'POLICY': 'reject_newest' or 'evict_oldest', "
        f"'CACHE': 'default', 'LEASE': 60}}, not {value!r}."
    )


def test_unknown_policy_is_refused() -> None:
    """POLICY has two values."""
    with pytest.raises(ImproperlyConfigured) as exc_info:
        LimitConfig.from_setting({"MAX": 3, "POLICY": "drop_random"})
    assert (
        str(exc_info.value)
        == "WARDEN CONNECTION_LIMIT POLICY must be one of ('reject_newest', 'evict_oldest')."
    )


def test_bad_limit_setting_fails_on_use(settings: Any) -> None:
    """The settings object validates CONNECTION_LIMIT when it is first needed."""
    from channels_warden.conf import WardenSettings

    with pytest.raises(ImproperlyConfigured):
        WardenSettings({"CONNECTION_LIMIT": {"MAX": 0}}).connection_limit  # noqa: B018


# -- the cache lock ------------------------------------------------------------------------------------------


def test_cache_mutex_is_released_after_use() -> None:
    """The lock key is gone once the block ends."""
    with cache_mutex(cache, "warden:test:lock"):
        held = cache.get("warden:test:lock") is not None
    assert (held, cache.get("warden:test:lock")) == (True, None)


def test_cache_mutex_that_stays_taken_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A lock another holder keeps is a 4500, not a wait forever; its holder's key is left alone."""
    monkeypatch.setattr(cachelock, "LOCK_WAIT_SECONDS", 0.02)
    cache.set("warden:test:lock", "someone-else")
    with pytest.raises(ServiceUnavailable) as exc_info, cache_mutex(cache, "warden:test:lock"):
        pass
    assert (exc_info.value.detail, cache.get("warden:test:lock")) == (
        "cache lock warden:test:lock stayed taken for 0.02s",
        "someone-else",
    )
