"""Coalesced credential lookups: handshakes that need the database at once share one thread hop.

After a deploy or a network blip every client reconnects at once with a credential the new process
has never seen, and each database-backed lookup would pay a thread hop and a query of its own. A
:class:`BatchLoader` turns that storm into a few hops:

* the first lookup is dispatched at once, alone (a lone handshake waits for nothing and makes the
  same single query as before);
* lookups that arrive while a hop is in flight wait for it to return and then go together, as the
  next batch, in **one** ``database_sync_to_async`` call that makes one query for all of them
  (``filter(key__in=...)``, ``select_related``);
* each member gets exactly what a lookup of its own would have returned (a result or its own
  rejection): the batch function answers per key;
* if the batch itself fails (the database is down, a bug), every member fails with a copy of that
  error, which the middleware logs with the member's path and turns into a 4500: fail closed.

A loader belongs to one authenticator instance and keeps its state per event loop, so a test suite
that runs each test in a new loop, or a server with several loops, never mixes futures of two loops.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from channels.db import database_sync_to_async
from django.db.models import Model

logger = logging.getLogger("channels_warden.batching")

K = TypeVar("K")
V = TypeVar("V")

#: Runs in a worker thread: the outcome of every key, in the order given (duplicates allowed): the
#: value a lone lookup returns, or the exception (usually a rejection) it raises.
BatchFunction = Callable[[Sequence[K]], Sequence["V | Exception"]]

#: A storm of thousands does not become one query with thousands of parameters (SQLite allows 32766,
#: Oracle 1000 in an IN list): larger batches go in slices, in the same hop.
MAX_BATCH = 500


@dataclass
class _LoopState(Generic[K, V]):
    in_flight: bool = False
    waiting: list[tuple[K, asyncio.Future[V]]] = field(default_factory=list)
    #: The running drain task (the loop keeps only a weak reference to tasks).
    task: asyncio.Task[None] | None = None


def own_copies(values: Sequence[object]) -> list[object]:
    """``values``, with every model instance that occurs twice copied, so no two members share one.

    One-by-one lookups give every socket its own user; a batch that names one user twice must too,
    or a consumer that changes ``scope["user"]`` would change another socket's.
    """
    seen: set[int] = set()
    result = []
    for value in values:
        if isinstance(value, tuple) and value and isinstance(value[0], Model) and id(value[0]) in seen:
            value = (copy.copy(value[0]), *value[1:])
        elif isinstance(value, Model) and id(value) in seen:
            value = copy.copy(value)
        if isinstance(value, tuple) and value and isinstance(value[0], Model):
            seen.add(id(value[0]))
        elif isinstance(value, Model):
            seen.add(id(value))
        result.append(value)
    return result


def each_in_one_hop(function: Callable[..., V]) -> BatchFunction[tuple[object, ...], V]:
    """A batch function that calls ``function(*key)`` for every member, in the same worker thread.

    For lookups that cannot be merged into one query (a session backend, knox's digest compare), the
    members still share the thread hop. A member's rejection or error is its own and is raised in
    that member's task, exactly as it would have been alone (an error: 4500, logged with its path).
    """

    def run(keys: Sequence[tuple[object, ...]]) -> list[V | Exception]:
        outcomes: list[V | Exception] = []
        for key in keys:
            try:
                outcomes.append(function(*key))
            except Exception as exc:  # noqa: BLE001 - raised again in the member's own task
                outcomes.append(exc)
        return outcomes

    return run


_LOADERS: weakref.WeakKeyDictionary[object, dict[str, BatchLoader[object, object]]] = (
    weakref.WeakKeyDictionary()
)


def loader_for(owner: object, name: str, fetch: BatchFunction[K, V]) -> BatchLoader[K, V]:
    """The loader ``name`` of ``owner`` (an authenticator), made on first use.

    Kept outside the instance: an authenticator's attributes are its options, and the identity
    cache's fingerprint reads them (``identity_cache.config_fingerprint``).
    """
    loaders = _LOADERS.setdefault(owner, {})
    found = loaders.get(name)
    if found is None:
        found = loaders[name] = BatchLoader(fetch)  # type: ignore[arg-type]
    return found  # type: ignore[return-value]


class BatchLoader(Generic[K, V]):
    """Loads values by key through ``fetch``, coalescing the lookups that overlap a hop in flight.

    Args:
        fetch: the blocking batch function (runs in a worker thread, through
            ``database_sync_to_async``); it must return one outcome per key, in order.
    """

    def __init__(self, fetch: BatchFunction[K, V]) -> None:
        self.fetch = fetch
        self._states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState[K, V]] = (
            weakref.WeakKeyDictionary()
        )
        #: Sizes of the batches dispatched so far (the last few), for tests and metrics.
        self.batch_sizes: list[int] = []

    def _state(self) -> _LoopState[K, V]:
        loop = asyncio.get_running_loop()
        state = self._states.get(loop)
        if state is None:
            state = self._states[loop] = _LoopState()
        return state

    async def load(self, key: K) -> V:
        """The value for ``key``, or the rejection a lone lookup of ``key`` raises."""
        state = self._state()
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        state.waiting.append((key, future))
        if not state.in_flight:
            # Dispatch at once; a task of its own, so that a cancelled caller (a client that went
            # away) does not cancel the batch its neighbours wait for.
            state.in_flight = True
            state.task = asyncio.get_running_loop().create_task(self._drain(state))
        return await future

    async def _drain(self, state: _LoopState[K, V]) -> None:
        """Run batches until nobody waits: each batch takes everyone who queued during the last."""
        try:
            while state.waiting:
                batch, state.waiting = state.waiting[:MAX_BATCH], state.waiting[MAX_BATCH:]
                await self._run(batch)
        finally:
            state.in_flight = False
            state.task = None

    async def _run(self, batch: list[tuple[K, asyncio.Future[V]]]) -> None:
        keys = [key for key, _ in batch]
        self.batch_sizes = [*self.batch_sizes[-31:], len(keys)]
        try:
            outcomes = await database_sync_to_async(self.fetch)(keys)
            if len(outcomes) != len(keys):
                raise RuntimeError(f"batch function returned {len(outcomes)} outcomes for {len(keys)} keys")
        except Exception as exc:  # noqa: BLE001 - every member fails closed with a copy of it
            logger.warning("a batch of %d credential lookups failed: %r", len(keys), exc)
            for _, future in batch:
                if not future.done():
                    future.set_exception(_own_exception(exc))
            return
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():  # the caller was cancelled
                continue
            if isinstance(outcome, Exception):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)


def _own_exception(exc: Exception) -> Exception:
    """A copy of ``exc`` caused by it, so that members raising it in their tasks do not share one
    traceback; the middleware logs each member's failure with its path and refuses it with 4500."""
    try:
        member = copy.copy(exc)
    except Exception:  # noqa: BLE001 - an exception that cannot be copied is shared as it is
        return exc
    member.__cause__ = exc
    return member
