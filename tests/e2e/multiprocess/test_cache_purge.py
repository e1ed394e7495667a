"""Two server processes and one Redis: a user save on one process purges the identity cache of both."""

from __future__ import annotations

import time
from typing import Any

import pytest

from ..client import WsClient
from ..helpers import create_user, mint
from ..lifecycle import post
from .conftest import Cluster

pytestmark = pytest.mark.django_db(transaction=True)

#: How long a purge may take to reach the other process over Redis (measured: milliseconds).
BOUND = 2.0


async def test_demotion_on_one_process_purges_the_cached_staff_user_on_the_other(
    cluster: Cluster, make_user: Any, report_figure: Any
) -> None:
    """Staff removed through A: B's warm cache stops admitting the user to IsStaff routes (4403)."""
    user = await create_user(make_user, is_staff=True)
    headers = [("Authorization", f"Token {await mint(user, 'drf')}")]
    for _ in range(2):  # the second handshake is served from B's cache
        assert (await WsClient(cluster.b).handshake("/cached/ws/staff/", headers=headers)).whoami is not None
    reply = await post(cluster.a, f"/test/users/{user.username}/demote/")
    assert reply.status == 200, reply.body
    started = time.monotonic()
    while True:
        outcome = await WsClient(cluster.b).handshake("/cached/ws/staff/", headers=headers)
        if outcome.whoami is None or time.monotonic() - started > BOUND:
            break
    elapsed = time.monotonic() - started
    report_figure(f"demotion on A refused on B's warm cache after {elapsed * 1000:.0f} ms")
    assert (outcome.whoami, outcome.close_code) == (None, 4403)
