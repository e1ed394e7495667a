"""The handshake throttle through real servers: it cannot be aimed at a victim, and it cannot be raced.

``/proxied/`` trusts 127.0.0.1 (the test client) as a reverse proxy, so each test names its own
client address in ``X-Forwarded-For`` and gets a budget of its own (5 failures per 60 s).
"""

from __future__ import annotations

import asyncio
import re
import secrets
from typing import Any

import pytest

from .helpers import assert_refused, create_user, mint
from .lifecycle import bearer_subprotocols

pytestmark = pytest.mark.django_db(transaction=True)

PATH = "/proxied/ws/echo/"
FOREIGN_ORIGIN = "https://ads.example"


def client_address() -> str:
    """A documentation-range address nobody else uses in this run."""
    return f"2001:db8:{secrets.token_hex(2)}::1"


def judged_in(log: str) -> int:
    """DRF tokens the authenticator refused, by warden's own log lines (daphne repeats each, stamped)."""
    return len(re.findall(r"^refused websocket .*\bunknown DRF token\b", log, flags=re.MULTILINE))


async def test_sockets_from_a_foreign_origin_do_not_lock_the_victim_out(
    server: Any, ws: Any, make_user: Any
) -> None:
    """Ten refused cross-site sockets (4403) later, the victim behind the same address is admitted."""
    victim = await create_user(make_user)
    session, token = await mint(victim, "session"), await mint(victim, "jwt")
    forwarded = ("X-Forwarded-For", client_address())
    cookie = ("Cookie", f"sessionid={session}")
    foreign = [
        await ws.handshake(PATH, origin=FOREIGN_ORIGIN, headers=[forwarded, cookie]) for _ in range(10)
    ]
    for outcome in foreign:
        assert_refused(outcome, 4403)
    admitted = await ws.handshake(PATH, headers=[forwarded], subprotocols=bearer_subprotocols(token))
    assert admitted.whoami is not None
    assert admitted.whoami["user"] == "alice"


async def test_the_throttle_still_counts_wrong_guesses_after_foreign_sockets(server: Any, ws: Any) -> None:
    """Origin refusals are not counted, but five wrong tokens are: the sixth attempt gets 4429."""
    forwarded = ("X-Forwarded-For", client_address())
    for _ in range(3):
        assert_refused(await ws.handshake(PATH, origin=FOREIGN_ORIGIN, headers=[forwarded]), 4403)
    guesses = [("Authorization", f"Token {secrets.token_hex(20)}"), forwarded]
    codes = [(await ws.handshake(PATH, headers=guesses)).close_code for _ in range(6)]
    assert codes == [4401] * 5 + [4429]


async def test_a_burst_of_concurrent_guesses_reaches_the_authenticator_five_times(
    server: Any, ws: Any, report_figure: Any
) -> None:
    """100 wrong DRF tokens sent at once from one address: 5 are judged (4401), 95 get 4429."""
    forwarded = ("X-Forwarded-For", client_address())
    judged_before = judged_in(server.log())
    outcomes = await asyncio.gather(
        *(
            ws.handshake(PATH, headers=[("Authorization", f"Token {secrets.token_hex(20)}"), forwarded])
            for _ in range(100)
        )
    )
    codes = [outcome.close_code for outcome in outcomes]
    judged = judged_in(server.log()) - judged_before
    report_figure(
        f"{server.kind}: burst of 100 guesses, limit 5: {codes.count(4401)} judged, {judged} logged"
    )
    assert (codes.count(4401), codes.count(4429), judged) == (5, 95, 5)
