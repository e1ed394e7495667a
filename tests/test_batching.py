"""BatchLoader: lookups that overlap a thread hop in flight share the next one; each keeps its verdict."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any

import pytest

from channels_warden.batching import BatchLoader, each_in_one_hop, loader_for, own_copies
from channels_warden.exceptions import AuthenticationFailed, PermissionDenied


class GatedFetch:
    """A batch function that records its batches and holds each hop until the test releases it."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.gate = threading.Event()
        self.entered = threading.Event()

    def __call__(self, keys: Sequence[str]) -> list[str | Exception]:
        self.batches.append(list(keys))
        self.entered.set()
        self.gate.wait(5)
        return [AuthenticationFailed(f"bad {key}") if key.startswith("bad") else key.upper() for key in keys]


async def _until(event: threading.Event) -> None:
    """Wait on the loop until the worker thread is inside the hop."""
    await asyncio.get_running_loop().run_in_executor(None, event.wait, 5)


async def test_a_lone_lookup_is_dispatched_at_once_in_a_batch_of_one() -> None:
    """One lookup makes one hop with one key, without waiting for company."""
    fetch = GatedFetch()
    fetch.gate.set()
    loader: BatchLoader[str, str] = BatchLoader(fetch)
    assert await loader.load("alice") == "ALICE"
    assert fetch.batches == [["alice"]]


async def test_lookups_arriving_during_a_hop_join_the_next_batch() -> None:
    """The first key goes alone; the four that arrive while it is in flight share the second hop."""
    fetch = GatedFetch()
    loader: BatchLoader[str, str] = BatchLoader(fetch)
    first = asyncio.ensure_future(loader.load("a"))
    await _until(fetch.entered)
    rest = [asyncio.ensure_future(loader.load(key)) for key in ("b", "c", "bad-d", "e")]
    await asyncio.sleep(0)
    fetch.gate.set()
    assert await first == "A"
    outcomes = await asyncio.gather(*rest, return_exceptions=True)
    assert fetch.batches == [["a"], ["b", "c", "bad-d", "e"]]
    assert outcomes[:2] == ["B", "C"]
    assert outcomes[3] == "E"
    assert isinstance(outcomes[2], AuthenticationFailed)
    assert outcomes[2].detail == "bad bad-d"


async def test_a_failed_batch_fails_every_member() -> None:
    """A database error in the hop reaches each member as an exception of its own, caused by it."""

    def broken(keys: Sequence[str]) -> list[str]:
        raise ConnectionError("database is down")

    loader: BatchLoader[str, str] = BatchLoader(broken)
    outcomes = await asyncio.gather(loader.load("a"), loader.load("b"), return_exceptions=True)
    assert [type(outcome) for outcome in outcomes] == [ConnectionError, ConnectionError]
    assert outcomes[0] is not outcomes[1]
    assert outcomes[0].__cause__ is outcomes[1].__cause__
    assert str(outcomes[0]) == "database is down"


async def test_a_batch_with_the_wrong_number_of_outcomes_fails() -> None:
    """A batch function that drops a key is a bug: every member gets the error, none a wrong answer."""
    loader: BatchLoader[str, str] = BatchLoader(lambda keys: ["only one"])
    first = asyncio.ensure_future(loader.load("a"))
    second = asyncio.ensure_future(loader.load("b"))
    outcomes = await asyncio.gather(first, second, return_exceptions=True)
    assert [type(outcome) for outcome in outcomes] == [RuntimeError, RuntimeError]


async def test_a_cancelled_member_does_not_cancel_its_batch() -> None:
    """A client that goes away mid-lookup leaves the others' answers intact."""
    fetch = GatedFetch()
    loader: BatchLoader[str, str] = BatchLoader(fetch)
    first = asyncio.ensure_future(loader.load("a"))
    await _until(fetch.entered)
    leaving = asyncio.ensure_future(loader.load("b"))
    staying = asyncio.ensure_future(loader.load("c"))
    await asyncio.sleep(0)
    leaving.cancel()
    fetch.gate.set()
    assert (await first, await staying) == ("A", "C")
    assert leaving.cancelled()


async def test_the_loader_keeps_no_state_between_quiet_periods() -> None:
    """After a storm, the next lone lookup is again dispatched alone."""
    fetch = GatedFetch()
    fetch.gate.set()
    loader: BatchLoader[str, str] = BatchLoader(fetch)
    await asyncio.gather(*(loader.load(key) for key in "xyz"))
    await loader.load("w")
    assert fetch.batches[-1] == ["w"]
    assert sum(len(batch) for batch in fetch.batches) == 4


def test_each_in_one_hop_keeps_each_members_verdict() -> None:
    """A member's rejection or error is its own; the others keep their answers."""

    def judge(name: str) -> str:
        if name == "inactive":
            raise PermissionDenied("inactive")
        if name == "bug":
            raise KeyError(name)
        return name

    outcomes = each_in_one_hop(judge)([("alice",), ("inactive",), ("bug",)])
    assert outcomes[0] == "alice"
    assert isinstance(outcomes[1], PermissionDenied)
    assert outcomes[1].code == 4403
    assert isinstance(outcomes[2], KeyError)


@pytest.mark.django_db
def test_own_copies_gives_every_member_its_own_user(make_user: Any) -> None:
    """A user named twice in a batch comes back as two instances with the same row."""
    user = make_user()
    info = object()
    first, second, third = own_copies([(user, info), (user, info), user])
    assert first[0] is user
    assert second[0] is not user
    assert third is not user
    assert second[0].pk == third.pk == user.pk
    assert second[1] is info


def test_loader_for_keeps_one_loader_per_owner_and_name_outside_the_instance() -> None:
    """The loader is not an attribute of the authenticator (its attributes are its options)."""

    class Owner:
        pass

    owner = Owner()
    first = loader_for(owner, "tokens", lambda keys: list(keys))
    assert loader_for(owner, "tokens", lambda keys: []) is first
    assert loader_for(owner, "users", lambda keys: []) is not first
    assert vars(owner) == {}
