"""The real clients: Node 20 with the ``graphql-ws`` npm package (and the legacy
``subscriptions-transport-ws``) subscribe through a real server behind warden.

The versions are pinned by tests/node/package-lock.json (installed with ``npm ci``); what each
scenario proves is the client's own behaviour, read from its report, not the server's.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from ..helpers import create_user, unique
from ..lifecycle import ORIGIN, jwt_for, login
from .node import retry_table, run_client

pytestmark = pytest.mark.django_db(transaction=True)

DOCS = Path(__file__).resolve().parents[3] / "docs" / "graphql.md"


async def test_good_token_streams(server: Any, make_user: Any) -> None:
    """graphql-ws with a JWT in ``connectionParams`` connects once and receives the subscription's ticks."""
    jwt = await jwt_for(await create_user(make_user))
    report = await run_client(scenario="stream", url=server.url("/ws/graphql/"), tokens=[jwt.token])
    assert (report["connecting"], report["connected"], report["closes"], report["error"]) == (1, 1, [], None)
    assert [(tick["n"], tick["user"]) for tick in report["ticks"]] == [
        (1, "alice"),
        (2, "alice"),
        (3, "alice"),
    ]


async def test_bad_token_makes_the_client_give_up(server: Any) -> None:
    """A token warden refuses: graphql-ws reports 4401 to the subscriber and never reconnects."""
    report = await run_client(scenario="bad", url=server.url("/ws/graphql/"), tokens=[unique()])
    assert (report["connecting"], report["connected"], report["closes"]) == (1, 0, [4401])
    assert report["error"]["code"] == 4401
    assert report["ticks"] == []


async def test_expiry_reconnects_with_fresh_params_and_resumes(
    server: Any, make_user: Any, report_figure: Any
) -> None:
    """A token ending mid-subscription: 4498, graphql-ws calls connectionParams again and resubscribes."""
    user = await create_user(make_user)
    short, fresh = await jwt_for(user, lifetime=2), await jwt_for(user, lifetime=600)
    report = await run_client(
        scenario="expiry",
        url=server.url("/live/ws/graphql/"),
        tokens=[short.token, fresh.token],
        connections=2,
        ticksPerConnection=2,
    )
    assert (report["connecting"], report["connected"], report["params"], report["error"]) == (2, 2, 2, None)
    assert report["closes"][0] == 4498
    first = {tick["expiresAt"] for tick in report["ticks"] if tick["connection"] == 1}
    second = [tick for tick in report["ticks"] if tick["connection"] == 2]
    assert (first, {tick["expiresAt"] for tick in second}) == ({float(short.exp)}, {float(fresh.exp)})
    assert [tick["n"] for tick in second] == [1, 2]
    closed = next(at for event, at in report["timeline"] if event == "closed")
    reconnected = [at for event, at in report["timeline"] if event == "connected"][1]
    report_figure(
        f"{server.kind}: graphql-ws closed {closed - short.exp:+.3f}s after exp, "
        f"resubscribed {reconnected - closed:.2f}s later (its own backoff: 1.3-4 s)"
    )


async def test_logout_ends_the_subscription_without_retry(server: Any, make_user: Any) -> None:
    """A browser-like client (session cookie) logs out mid-subscription: 4401, and no reconnect."""
    await create_user(make_user)
    key = await login(server)
    report = await run_client(
        scenario="logout",
        url=server.url("/ws/graphql/"),
        headers={"Cookie": f"sessionid={key}", "Origin": ORIGIN},
        logoutUrl=f"http://127.0.0.1:{server.port}/logout/",
        ticksPerConnection=1000,
    )
    assert (report["logoutStatus"], report["connecting"], report["connected"]) == (200, 1, 1)
    assert (report["closes"], report["error"]["code"]) == ([4401], 4401)


async def test_legacy_client_streams(server: Any, make_user: Any) -> None:
    """subscriptions-transport-ws (legacy protocol) with ``connectionParams.authToken`` streams."""
    jwt = await jwt_for(await create_user(make_user))
    report = await run_client(scenario="legacy", url=server.url("/ws/graphql/"), tokens=[jwt.token])
    assert (report["connected"], report["error"]) == (1, None)
    assert [tick["user"] for tick in report["ticks"]] == ["alice", "alice", "alice"]


async def test_legacy_client_hears_connection_error(server: Any) -> None:
    """A refused legacy client gets the reason in its ``connectionCallback``; the close code follows."""
    report = await run_client(scenario="legacy", url=server.url("/ws/graphql/"), tokens=[unique()])
    assert (report["connected"], report["error"]) == (0, {"message": "unauthenticated", "code": 4401})


def documented_codes() -> dict[int, bool]:
    """The code table of docs/graphql.md: code on the wire -> whether graphql-ws retries it."""
    rows = re.findall(r"^\| [^|]+ \| (\d{4}) \| (\d{4}) \| (gives up|retries) \|", DOCS.read_text(), re.M)
    assert len(rows) >= 9, rows
    return {int(wire): verdict == "retries" for _, wire, verdict in rows}


def test_documented_codes_match_the_clients_retry_logic() -> None:
    """Every code in the docs' table is retried, or not, by graphql-ws exactly as the table says."""
    documented = documented_codes()
    assert retry_table(sorted(documented)) == documented


def test_revocation_and_expiry_codes_are_on_the_right_side() -> None:
    """graphql-ws gives up on 4401 (revocation) and retries 4498 (expiry) and 4499 (why 4499 is mapped)."""
    assert retry_table([4401, 4498, 4499]) == {4401: False, 4498: True, 4499: True}
