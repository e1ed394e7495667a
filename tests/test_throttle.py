"""The failed-handshake throttle: refusals per client address, then 4429 until the window ends."""

from __future__ import annotations

import asyncio
import json
import types
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from channels_warden import WardenMiddleware, guard, throttle
from channels_warden.authenticators import BaseAuthenticator
from channels_warden.exceptions import AuthenticationFailed
from channels_warden.testing import WardenCommunicator, handshake
from channels_warden.throttle import ThrottleConfig
from tests.inprocess import ExplodingAuthenticator, RecordingApp

THROTTLE = {"FAILURES": 2, "WINDOW": 60}


@pytest.fixture(autouse=True)
def clean_cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Failure counts live in the shared cache; start and end empty, with a frozen clock."""
    monkeypatch.setattr(throttle, "time", types.SimpleNamespace(time=lambda: 1_000_000.0))
    cache.clear()
    yield
    cache.clear()


def app(**overrides: Any) -> WardenMiddleware:
    return WardenMiddleware(RecordingApp(), settings={"HANDSHAKE_THROTTLE": THROTTLE, **overrides})


async def refuse(application: Any, client: str = "10.0.0.1", **kwargs: Any) -> Any:
    communicator = WardenCommunicator(application, "/ws/", **kwargs)
    communicator.scope["client"] = [client, 50000]
    outcome = await handshake(communicator)
    await communicator.wait()  # the failure is counted after the close is sent
    return outcome


async def test_over_budget_address_gets_4429_with_retry_after() -> None:
    """After FAILURES refusals the next handshake is refused with too_many and when to retry."""
    application = app()
    await refuse(application)
    await refuse(application)
    outcome = await refuse(application)
    assert (outcome.close_code, outcome.frame) == (
        4429,
        {
            "type": "warden.disconnect",
            "code": 4429,
            "reason": "too_many",
            "reconnect": "backoff",
            "retry_after": 61,
        },
    )


async def test_other_addresses_are_not_throttled() -> None:
    """The budget is per client address."""
    application = app()
    await refuse(application)
    await refuse(application)
    assert (await refuse(application, client="10.0.0.2")).close_code == 4401


async def test_server_side_failures_do_not_count() -> None:
    """A 4500 is not the client's fault and does not use its budget."""
    application = app(AUTHENTICATORS=[ExplodingAuthenticator()])
    headers = [(b"authorization", b"Bearer abcdef")]
    outcomes = [await refuse(application, headers=headers) for _ in range(3)]
    assert [outcome.close_code for outcome in outcomes] == [4500, 4500, 4500]


async def test_admitted_handshakes_pass_under_budget() -> None:
    """An address within its budget is admitted normally."""
    application = WardenMiddleware(
        guard(RecordingApp(), allow_anonymous=True), settings={"HANDSHAKE_THROTTLE": THROTTLE}
    )
    communicator = WardenCommunicator(application, "/ws/")
    assert (await handshake(communicator)).admitted is True
    await communicator.disconnect()


async def test_deny_mode_sends_retry_after() -> None:
    """In deny mode the 429 carries a Retry-After header."""
    application = app(REJECT_MODE="deny")
    for _ in range(2):
        await refuse(application, client="127.0.0.1", http_response_extension=True)
    communicator = WardenCommunicator(application, "/ws/", http_response_extension=True)
    await communicator.send_input({"type": "websocket.connect"})
    start = await communicator.receive_output()
    body = json.loads((await communicator.receive_output())["body"])
    assert (start["status"], dict(start["headers"])[b"retry-after"], body["retry_after"]) == (429, b"61", 61)


async def test_failure_to_count_does_not_change_the_refusal(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """If the cache cannot count a failure, the refusal stands and the log says why."""

    def cache_down(key: str, config: ThrottleConfig) -> None:
        raise ConnectionError("cache down")

    monkeypatch.setattr(throttle, "_count_sync", cache_down)
    outcome = await refuse(app())
    assert (outcome.close_code, [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]) == (
        4401,
        ["could not count a failed handshake"],
    )


def test_setting_absent_is_no_throttle() -> None:
    """No HANDSHAKE_THROTTLE, no throttle."""
    assert ThrottleConfig.from_setting(None) is None


def test_setting_with_cache_alias() -> None:
    """CACHE names the cache alias; the default is 'default'."""
    assert ThrottleConfig.from_setting({"FAILURES": 5, "WINDOW": 10, "CACHE": "throttle"}) == ThrottleConfig(
        failures=5, window=10, cache="throttle"
    )


@pytest.mark.parametrize(
    "value",
    [
        {"FAILURES": 5},
        {"FAILURES": 0, "WINDOW": 10},
        {"FAILURES": "5", "WINDOW": 10},
        {"FAILURES": 5, "WINDOW": 10, "X": 1},
    ],
)
def test_malformed_setting_shows_the_expected_shape(value: dict[str, Any]) -> None:
    """A malformed HANDSHAKE_THROTTLE says what it must look like."""
    with pytest.raises(ImproperlyConfigured) as exc_info:
        ThrottleConfig.from_setting(value)
    assert str(exc_info.value) == (
        "WARDEN HANDSHAKE_THROTTLE must look like {'FAILURES': 20, 'WINDOW': 60, 'CACHE': 'default', "
        f"'TRUSTED_PROXIES': ['10.0.0.0/8']}}, not {value!r}."
    )


# Origin refusals, atomic counting ----------------------------------------------------------------


async def test_origin_refusals_do_not_count() -> None:
    """Sockets a foreign page opens (4403 for the Origin) leave the address's budget untouched."""
    application = app()
    foreign = [await refuse(application, origin="http://evil.example") for _ in range(5)]
    assert [outcome.close_code for outcome in foreign] == [4403] * 5
    assert (await refuse(application)).close_code == 4401


async def test_a_refused_origin_never_takes_a_slot(monkeypatch: pytest.MonkeyPatch) -> None:
    """A foreign Origin is refused before the throttle reserves anything, not reserved and given back."""
    reserved: list[str] = []
    monkeypatch.setattr(throttle, "_reserve_sync", lambda key, config: reserved.append(key))
    outcome = await refuse(app(), origin="http://evil.example")
    assert (outcome.close_code, reserved) == (4403, [])


async def test_admitted_handshakes_give_their_attempt_back() -> None:
    """Admissions use no budget: more of them than FAILURES all pass."""
    application = WardenMiddleware(
        guard(RecordingApp(), allow_anonymous=True), settings={"HANDSHAKE_THROTTLE": THROTTLE}
    )
    admitted = []
    for _ in range(5):
        communicator = WardenCommunicator(application, "/ws/")
        admitted.append((await handshake(communicator)).admitted)
        await communicator.disconnect()
    assert admitted == [True] * 5


class GateAuthenticator(BaseAuthenticator):
    """Claims bearer tokens, counts the calls, and refuses each once the gate opens."""

    name = "gate"
    default_schemes = ("bearer",)

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.gate = asyncio.Event()

    async def authenticate(self, credential: Any, scope: Any) -> Any:
        self.calls += 1
        await self.gate.wait()
        raise AuthenticationFailed("wrong guess")


async def test_concurrent_guesses_reach_the_authenticator_at_most_failures_times(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """20 guesses in flight at once with FAILURES 2: two are judged (4401), the rest get 4429."""
    loop, settled, reservations = asyncio.get_running_loop(), asyncio.Event(), [0]
    reserve = throttle._reserve_sync

    def counted_reserve(key: str, config: ThrottleConfig) -> None:
        try:
            reserve(key, config)
        finally:
            loop.call_soon_threadsafe(note)

    def note() -> None:
        reservations[0] += 1
        if reservations[0] == 20:
            settled.set()

    monkeypatch.setattr(throttle, "_reserve_sync", counted_reserve)
    gate = GateAuthenticator()
    application = app(AUTHENTICATORS=[gate])
    communicators = []
    for _ in range(20):
        communicator = WardenCommunicator(application, "/ws/", headers=[(b"authorization", b"Bearer guess")])
        await communicator.send_input({"type": "websocket.connect"})
        communicators.append(communicator)
    await asyncio.wait_for(
        settled.wait(), 10
    )  # every handshake has taken its slot or been refused one; none is judged yet
    gate.gate.set()
    outcomes = [await handshake_outcome(communicator) for communicator in communicators]
    assert (gate.calls, sorted(outcomes)) == (2, [4401] * 2 + [4429] * 18)


async def handshake_outcome(communicator: WardenCommunicator) -> int:
    """The close code of a handshake already sent (accept, frame, close)."""
    while True:
        message = await communicator.receive_output(2)
        if message["type"] == "websocket.close":
            return int(message["code"])


def test_a_window_that_ends_between_add_and_incr_starts_the_next() -> None:
    """If the count expires between cache.add and cache.incr, the next window begins at 1."""

    class ExpiringCache:
        def __init__(self) -> None:
            self.values: dict[str, Any] = {}
            self.lost = False
            self.touched: list[tuple[str, int]] = []

        def add(self, key: str, value: Any, timeout: int) -> bool:
            return self.values.setdefault(key, value) is value

        def set(self, key: str, value: Any, timeout: int) -> None:
            self.values[key] = value

        def incr(self, key: str) -> int:
            if not self.lost:
                self.lost = True
                self.values.clear()
                raise ValueError(key)
            self.values[key] += 1
            return int(self.values[key])

        def touch(self, key: str, timeout: int) -> bool:
            self.touched.append((key, timeout))
            return True

    fake = ExpiringCache()
    assert (throttle._increment(fake, "k", 60), fake.touched) == (1, [("k", 60)])


# The client address behind proxies -----------------------------------------------------------------


PROXIES = ThrottleConfig.from_setting(
    {"FAILURES": 1, "WINDOW": 1, "TRUSTED_PROXIES": ["10.0.0.0/8", "2001:db8::1"]}
).trusted_proxies  # type: ignore[union-attr]


def scope_from(peer: str, *forwarded: str) -> dict[str, Any]:
    return {"client": [peer, 5000], "headers": [(b"x-forwarded-for", value.encode()) for value in forwarded]}


@pytest.mark.parametrize(
    ("scope", "address"),
    [
        (scope_from("203.0.113.9", "198.51.100.1"), "203.0.113.9"),
        (scope_from("10.0.0.2", "198.51.100.1"), "198.51.100.1"),
        (scope_from("10.0.0.2", "1.1.1.1, 198.51.100.1, 10.0.0.7"), "198.51.100.1"),
        (scope_from("10.0.0.2", "1.1.1.1", "198.51.100.1"), "198.51.100.1"),
        (scope_from("10.0.0.2", "10.0.0.9, 10.0.0.8"), "10.0.0.9"),
        (scope_from("10.0.0.2", "not-an-ip, 10.0.0.8"), "10.0.0.8"),
        (scope_from("10.0.0.2", "198.51.100.1:4321"), "198.51.100.1"),
        (scope_from("10.0.0.2"), "10.0.0.2"),
        (scope_from("2001:db8::1", "[2001:db8:5:6:7::1]:443"), "2001:db8:5:6::/64"),
        (scope_from("::ffff:10.0.0.2", "198.51.100.1"), "198.51.100.1"),
    ],
)
def test_client_address_reads_x_forwarded_for_only_from_trusted_proxies(
    scope: dict[str, Any], address: str
) -> None:
    """X-Forwarded-For counts only when the peer is a trusted proxy, read from the right past proxies."""
    assert throttle.client_address(scope, PROXIES) == address


def test_client_address_ignores_x_forwarded_for_without_trusted_proxies() -> None:
    """With no TRUSTED_PROXIES a client cannot pick its bucket with the header."""
    assert throttle.client_address(scope_from("10.0.0.2", "198.51.100.1")) == "10.0.0.2"


def test_trusted_proxies_must_be_addresses_or_networks() -> None:
    """A TRUSTED_PROXIES entry that is no address or network is refused with the reason."""
    with pytest.raises(ImproperlyConfigured, match=r"TRUSTED_PROXIES: 'proxy\.local' does not appear"):
        ThrottleConfig.from_setting({"FAILURES": 1, "WINDOW": 1, "TRUSTED_PROXIES": ["proxy.local"]})
