"""Blocking cache helpers shared by the limiter and the throttle: a short mutex and a thread hop.

Django's async cache methods run in the *thread-sensitive* executor, the one thread that also runs
every ``database_sync_to_async`` call; these helpers use ordinary worker threads instead so that
cache round trips do not queue behind database queries.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from asgiref.sync import sync_to_async

from .exceptions import ServiceUnavailable

T = TypeVar("T")
LOCK_SECONDS = 5
LOCK_WAIT_SECONDS = 2.0


async def in_thread(function: Callable[..., T], *args: Any) -> T:
    """Run a blocking cache call in a worker thread (not the database thread)."""
    return await sync_to_async(function, thread_sensitive=False)(*args)


@contextmanager
def cache_mutex(cache: Any, key: str) -> Iterator[None]:
    """Hold ``key`` with ``cache.add`` (atomic on locmem and Redis); raise 4500 if it stays taken."""
    token = uuid.uuid4().hex
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while not cache.add(key, token, timeout=LOCK_SECONDS):
        if time.monotonic() > deadline:
            raise ServiceUnavailable(f"cache lock {key} stayed taken for {LOCK_WAIT_SECONDS}s")
        time.sleep(0.005)
    try:
        yield
    finally:
        if cache.get(key) == token:
            cache.delete(key)
