"""The inventory of processes holding memberships, kept in the cache with a heartbeat."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from channels_warden.groups.processes import INDEX_KEY, PROCESS_ID, ProcessInventory, process_key


@pytest.fixture(autouse=True)
def empty_inventory() -> None:
    cache.delete(INDEX_KEY)


def test_register_lists_this_process() -> None:
    """After ``register`` this process is listed and live."""
    ProcessInventory().register()
    assert ProcessInventory().live() == [PROCESS_ID]


def test_register_drops_processes_that_stopped_beating() -> None:
    """A listed process whose entry expired is removed from the index at the next registration."""
    cache.set(INDEX_KEY, ["gone00000000", "alive0000000"], None)
    cache.set(process_key("alive0000000"), 1.0, 60)
    ProcessInventory().register()
    assert cache.get(INDEX_KEY) == ["alive0000000", PROCESS_ID]


def test_live_skips_listed_processes_without_a_heartbeat() -> None:
    """``live`` reports only the listed processes whose entry is still there."""
    cache.set(INDEX_KEY, ["gone00000000", PROCESS_ID], None)
    cache.set(process_key(PROCESS_ID), 1.0, 60)
    assert ProcessInventory().live() == [PROCESS_ID]


def test_beat_lists_the_process_again_after_the_index_was_lost() -> None:
    """A heartbeat after a cache flush puts this process back in the index."""
    inventory = ProcessInventory()
    inventory.register()
    cache.delete(INDEX_KEY)
    inventory.beat()
    assert inventory.live() == [PROCESS_ID]


async def test_ensure_registered_starts_one_heartbeat_per_loop() -> None:
    """Registering twice on one loop keeps one heartbeat task."""
    inventory = ProcessInventory()
    await inventory.ensure_registered()
    first = inventory._task
    await inventory.ensure_registered()
    assert (inventory._task is first, first is not None and not first.done()) == (True, True)
    await inventory.stop()
    assert inventory._task is None
