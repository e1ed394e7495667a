"""Two server processes and one Redis: the handshake throttle's budget is shared and atomic."""

from __future__ import annotations

import asyncio
import re
import secrets
from typing import Any

import pytest

from ..client import WsClient
from .conftest import Cluster

pytestmark = pytest.mark.django_db(transaction=True)

#: /proxied/ trusts 127.0.0.1 as a proxy: 5 failures per 60 s per X-Forwarded-For client.
PATH = "/proxied/ws/echo/"


def judged_in(log: str) -> int:
    return len(re.findall(r"^refused websocket .*\bunknown DRF token\b", log, flags=re.MULTILINE))


async def test_a_burst_split_over_two_processes_is_judged_five_times_in_all(
    cluster: Cluster, report_figure: Any
) -> None:
    """50 wrong tokens at A and 50 at B, at once, from one client: 5 reach an authenticator in all."""
    forwarded = ("X-Forwarded-For", f"2001:db8:{secrets.token_hex(2)}::1")
    servers = (cluster.a, cluster.b)
    before = sum(judged_in(server.log()) for server in servers)
    outcomes = await asyncio.gather(
        *(
            WsClient(servers[i % 2]).handshake(
                PATH, headers=[("Authorization", f"Token {secrets.token_hex(20)}"), forwarded]
            )
            for i in range(100)
        )
    )
    codes = [outcome.close_code for outcome in outcomes]
    judged = sum(judged_in(server.log()) for server in servers) - before
    report_figure(f"burst of 100 over two processes on Redis, limit 5: {judged} judged")
    assert (codes.count(4401), codes.count(4429), judged) == (5, 95, 5)
