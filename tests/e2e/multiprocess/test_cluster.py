"""Two server processes and one Redis: revocations, the management command and connection limits
reach across processes, a dead process frees its slots, and a Redis outage fails closed and heals.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from ..client import WsClient
from ..conftest import ROOT, LiveServer
from ..helpers import create_user, mint
from ..lifecycle import (
    Sockets,
    bearer_subprotocols,
    closure,
    disconnect_frame,
    echo,
    jwt_for,
    login,
    post,
    watch,
    whoami,
)
from .conftest import LOST, RECONNECTED, Cluster, wait_for_log

pytestmark = pytest.mark.django_db(transaction=True)

LEASE = 3  # CONNECTION_LIMIT LEASE of the /limit/ profile (tests/project/asgi.py)


@pytest.fixture
async def sockets() -> AsyncIterator[Sockets]:
    pool = Sockets()
    yield pool
    await pool.close_all()


def manage(cluster: Cluster, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a management command in its own process, pointed at the cluster's database and Redis."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")]),
        **cluster.env,
    }
    return subprocess.run(
        [sys.executable, "-m", "django", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )


async def test_logout_on_one_process_closes_the_socket_on_the_other_within_1s(
    cluster: Cluster, sockets: Sockets, make_user: Any, report_figure: Any
) -> None:
    """A logout handled by process A closes that session's socket on process B within a second."""
    await create_user(make_user)
    key = await login(cluster.a)
    socket = await sockets.session(cluster.b, "/ws/echo/", key)
    assert await echo(socket) == "ping"
    watcher = watch(socket)
    reply = await post(cluster.a, "/logout/", cookies={"sessionid": key})
    end = await watcher
    latency = end.at - reply.sent_at
    report_figure(
        f"cross-process logout revocation latency {1000 * latency:.1f} ms from A's request to B's close, "
        f"{1000 * (end.at - reply.received_at):+.1f} ms from A's response"
    )
    assert (end.frame, end.code) == (disconnect_frame(4499, "logout"), 4499)
    assert latency < 1


async def test_management_command_closes_the_users_sockets_on_both_processes(
    cluster: Cluster, sockets: Sockets, make_user: Any
) -> None:
    """``manage.py warden_disconnect --user alice`` closes alice's sockets on A and B, not bob's."""
    alice = await jwt_for(await create_user(make_user))
    bob = await jwt_for(await create_user(make_user, "bob"))
    alices = [await sockets.jwt(server, "/ws/echo/", alice.token) for server in (cluster.a, cluster.b)]
    bobs = [await sockets.jwt(server, "/ws/echo/", bob.token) for server in (cluster.a, cluster.b)]
    watcher = asyncio.ensure_future(asyncio.gather(*(closure(socket, timeout=30) for socket in alices)))
    result = await asyncio.to_thread(manage, cluster, "warden_disconnect", "--user", "alice")
    assert (result.returncode, result.stdout) == (
        0,
        "Asked every process to close alice's sockets (all sessions).\n",
    )
    assert [(end.frame, end.code) for end in await watcher] == [(disconnect_frame(4499, "revoked"), 4499)] * 2
    assert [await echo(socket) for socket in bobs] == ["ping", "ping"]


async def test_connection_limit_holds_across_processes(
    cluster: Cluster, sockets: Sockets, make_user: Any
) -> None:
    """With two sockets on A, alice's third socket on B gets 4429 (MAX 2 counted in Redis)."""
    jwt = await jwt_for(await create_user(make_user))
    for _ in range(2):
        await sockets.jwt(cluster.a, "/limit/ws/echo/", jwt.token)
    outcome = await WsClient(cluster.b).handshake(
        "/limit/ws/echo/", subprotocols=bearer_subprotocols(jwt.token)
    )
    assert (outcome.whoami, outcome.frame, outcome.close_code) == (
        None,
        disconnect_frame(4429, retry_after=LEASE),
        4429,
    )


async def test_killed_process_frees_its_slots_within_the_lease(
    cluster: Cluster, sockets: Sockets, make_user: Any, extra_server: Callable[[], LiveServer]
) -> None:
    """After a process holding a socket is SIGKILLed, a new socket on A is admitted once the lease ends."""
    doomed = extra_server()
    jwt = await jwt_for(await create_user(make_user))
    await sockets.jwt(cluster.a, "/limit/ws/echo/", jwt.token)
    await sockets.jwt(doomed, "/limit/ws/echo/", jwt.token)
    doomed.process.send_signal(signal.SIGKILL)
    killed_at = time.time()
    await asyncio.to_thread(doomed.process.wait)
    client = WsClient(cluster.a)
    full = await client.handshake("/limit/ws/echo/", subprotocols=bearer_subprotocols(jwt.token))
    assert (full.frame, full.close_code) == (disconnect_frame(4429, retry_after=LEASE), 4429)
    await asyncio.sleep(killed_at + LEASE + 0.2 - time.time())
    healed = await client.handshake("/limit/ws/echo/", subprotocols=bearer_subprotocols(jwt.token))
    assert healed.whoami is not None
    assert healed.whoami["user"] == "alice"


async def test_open_socket_keeps_echoing_while_redis_is_down(
    cluster: Cluster, sockets: Sockets, make_user: Any
) -> None:
    """Warden keeps an open socket through a Redis outage: the bare ASGI app behind it keeps echoing."""
    # /ws/raw/, not a Channels consumer: a consumer subscribes to the channel layer itself and
    # Channels ends it when the layer fails, whatever warden does.
    jwt = await jwt_for(await create_user(make_user))
    socket = await sockets.jwt(cluster.a, "/ws/raw/", jwt.token)
    assert await echo(socket) == "ping"
    cluster.redis.stop()
    assert [await echo(socket, text) for text in ("still", "here")] == ["still", "here"]


async def test_ticket_handshake_fails_closed_while_redis_is_down(cluster: Cluster, make_user: Any) -> None:
    """A ticket issued before Redis stopped cannot be checked while it is down: 4500, not admitted."""
    key = await mint(await create_user(make_user), "drf")
    reply = await post(
        cluster.a, "/api/ticket/", headers={"Authorization": f"Token {key}", "Origin": "http://testserver"}
    )
    assert reply.status == 200, reply.body
    cluster.redis.stop()
    outcome = await WsClient(cluster.b).handshake(f"/live/ws/echo/?ticket={reply.body['ticket']}")
    assert (outcome.whoami, outcome.frame, outcome.close_code) == (None, disconnect_frame(4500), 4500)


async def test_revocations_cross_processes_again_after_redis_returns(
    cluster: Cluster, sockets: Sockets, make_user: Any
) -> None:
    """After a Redis restart both listeners rejoin ("reconnected") and a logout on A closes B's socket."""
    user = await create_user(make_user)
    jwt = await jwt_for(user)
    for server in (cluster.a, cluster.b):  # a live socket on each process starts its listener
        assert (await whoami(await sockets.jwt(server, "/ws/echo/", jwt.token)))["user"] == "alice"
    offsets = [(server, len(server.log())) for server in (cluster.a, cluster.b)]
    cluster.redis.stop()
    for server, since in offsets:
        await asyncio.to_thread(wait_for_log, server, LOST, since)
    cluster.redis.start()
    for server, since in offsets:
        await asyncio.to_thread(wait_for_log, server, RECONNECTED, since)
    key = await login(cluster.a)
    socket = await sockets.session(cluster.b, "/ws/echo/", key)
    watcher = watch(socket)
    reply = await post(cluster.a, "/logout/", cookies={"sessionid": key})
    end = await watcher
    assert (end.frame, end.code) == (disconnect_frame(4499, "logout"), 4499)
    assert end.at - reply.sent_at < 1


async def test_one_ticket_raced_on_both_processes_admits_exactly_one(
    cluster: Cluster, make_user: Any
) -> None:
    """Over Redis, the same ticket presented to both processes at once opens one socket, every round."""
    key = await mint(await create_user(make_user), "drf")
    winners = []
    for _ in range(5):
        reply = await post(
            cluster.a,
            "/api/ticket/",
            headers={"Authorization": f"Token {key}", "Origin": "http://testserver"},
        )
        assert reply.status == 200, reply.body
        path = f"/live/ws/echo/?ticket={reply.body['ticket']}"
        outcomes = await asyncio.gather(
            WsClient(cluster.a).handshake(path), WsClient(cluster.b).handshake(path)
        )
        winners.append(sorted(outcome.close_code or 0 for outcome in outcomes))
    assert winners == [[0, 4401]] * 5


async def refused_everywhere_after(
    cluster: Cluster, sockets: Sockets, headers: list[tuple[str, str]], action: str
) -> tuple[int | None, list[tuple[Any, int | None]]]:
    """Warm both processes' caches with ``headers``, do ``action`` on A's test view, and return
    the close code of a socket that was open on B and the next handshake on B and on A."""
    for server in (cluster.a, cluster.b):  # warm both caches
        assert (await WsClient(server).handshake("/cached/ws/echo/", headers=headers)).whoami is not None
    socket = await sockets.open(cluster.b, "/cached/ws/echo/", headers=headers)
    watcher = watch(socket)
    reply = await post(cluster.a, action)
    assert reply.status == 200, reply.body
    end = await watcher  # B has applied the revocation (its cache purge comes first)
    outcomes = [
        await WsClient(server).handshake("/cached/ws/echo/", headers=headers)
        for server in (cluster.b, cluster.a)
    ]
    return end.code, [(outcome.whoami, outcome.close_code) for outcome in outcomes]


async def test_revoked_token_is_refused_on_the_next_handshake_on_every_process(
    cluster: Cluster, sockets: Sockets, make_user: Any
) -> None:
    """With the identity cache warm on both processes, deleting the token purges it everywhere."""
    user = await create_user(make_user)
    key = await mint(user, "drf")
    header = [("Authorization", f"Token {key}")]
    code, outcomes = await refused_everywhere_after(
        cluster, sockets, header, f"/test/users/{user.username}/delete-tokens/"
    )
    assert code == 4499
    assert outcomes == [(None, 4401), (None, 4401)]


async def test_deactivated_users_cached_session_is_refused_on_the_next_handshake_everywhere(
    cluster: Cluster, sockets: Sockets, make_user: Any
) -> None:
    """With the session's user cached on both processes, deactivating the user purges it everywhere."""
    user = await create_user(make_user)
    key = await login(cluster.a)
    cookie = [("Cookie", f"sessionid={key}")]
    code, outcomes = await refused_everywhere_after(
        cluster, sockets, cookie, f"/test/users/{user.username}/deactivate/"
    )
    assert code == 4499
    assert outcomes == [(None, 4403), (None, 4403)]
