"""The failed-handshake throttle: refusals per client address, then 4429 until the window ends."""

from __future__ import annotations

import json
import types
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from channels_warden import WardenMiddleware, guard, throttle
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
        "WARDEN HANDSHAKE_THROTTLE must look like {'FAILURES': 20, 'WINDOW': 60, 'CACHE': 'default'}, "
        f"not {value!r}."
    )
