"""``python -m bench.groups``: what group policies cost, measured in one process.

    python -m bench.groups            # about a minute on a 2-core machine
    python -m bench.groups --redis    # the same over channels_redis and a redis-server of its own
    python -m bench.groups --smoke    # seconds: the harness's own test (tests/test_bench_groups.py)

Two figures, each against a baseline measured in the same run:

* **join**: ``warden_join`` with a sync policy that makes one query, against a bare ``group_add``
  plus that same query in one ``database_sync_to_async`` hop (what a hand-written check costs).
  Rounds alternate between the two; the figure is the ratio of the medians of per-join times.
* **revocation**: ``revoke_membership(None, group)`` through the process's revocation listener on
  the in-memory channel layer, to the moment each of N live sockets has written its ``warden.left``
  frame (1, 100 and 1,000 sockets). Latencies are per socket, from the call.

Everything runs in this process on ``tests.settings`` with a SQLite file of its own, and with
``--redis`` a ``redis-server`` it starts on a free local port (channel layer and cache); no ASGI
server, no client sockets: latencies end when warden hands the frame to the server's ``send``.
Cross-process latency over Redis is measured by the end-to-end suite
(tests/e2e/multiprocess/test_groups.py), which reports it with its figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SOCKET_COUNTS = (1, 100, 1000)


def setup_django(db_path: str) -> None:
    """Configure ``tests.settings`` on a fresh SQLite file and create the tables."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    os.environ["WARDEN_TEST_DB"] = db_path
    for path in (str(ROOT), str(ROOT / "src")):
        if path not in sys.path:
            sys.path.insert(0, path)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    logging.getLogger("channels_warden").setLevel(logging.WARNING)  # one INFO line per revocation


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class Arrivals:
    """Counts ``warden.left`` frames and wakes the waiter once ``expected`` have been written."""

    def __init__(self) -> None:
        self.expected = 0
        self.count = 0
        self.done = asyncio.Event()

    def arrived(self) -> None:
        self.count += 1
        if self.count >= self.expected:
            self.done.set()


async def live_socket(user: Any, arrivals: Arrivals | None = None) -> tuple[Any, list[float]]:
    """A live warden connection whose every ``warden.left`` frame records the time it was written."""
    from channels_warden.conf import warden_settings
    from channels_warden.connection import SCOPE_KEY, Connection
    from channels_warden.identity import AuthInfo

    left_at: list[float] = []

    async def send(message: dict[str, Any]) -> None:
        if '"warden.left"' in message.get("text", ""):
            left_at.append(time.perf_counter())
            if arrivals is not None:
                arrivals.arrived()

    async def receive() -> dict[str, Any]:
        raise RuntimeError("not read in the benchmark")

    scope: dict[str, Any] = {"type": "websocket", "path": "/bench/"}
    connection = Connection(scope, receive, send, warden_settings)
    connection.auth = AuthInfo(user=user, authenticator="bench")
    scope.update({SCOPE_KEY: connection, "user": user, "auth": connection.auth})
    connection.accepted = connection.policy_decided = True
    connection.go_live()
    return connection, left_at


class Consumer:
    def __init__(self, scope: dict[str, Any], layer: Any, channel_name: str) -> None:
        self.scope, self.channel_layer, self.channel_name = scope, layer, channel_name


async def join_ratio(rounds: int, joins: int) -> dict[str, Any]:
    """Median µs per join: policy-checked ``warden_join`` vs bare ``group_add`` plus the query."""
    from channels.db import database_sync_to_async
    from channels.layers import InMemoryChannelLayer
    from django.contrib.auth.models import User

    from channels_warden import groups
    from channels_warden.groups.memberships import leave_all

    user = await database_sync_to_async(User.objects.create_user)("bench-join")

    def one_query(user: Any, scope: Any = None, **parts: Any) -> bool:
        return User.objects.filter(pk=user.pk, is_active=True).exists()

    groups.registry.register("benchjoin.{n:int}", one_query)
    layer = InMemoryChannelLayer(capacity=10 * joins)
    bare_times: list[float] = []
    checked_times: list[float] = []
    try:
        for round_ in range(rounds):
            channel = await layer.new_channel()
            started = time.perf_counter()
            for n in range(joins):
                await database_sync_to_async(one_query)(user)
                await layer.group_add(f"benchjoin.{n}", channel)
            bare_times.append((time.perf_counter() - started) / joins)
            for n in range(joins):
                await layer.group_discard(f"benchjoin.{n}", channel)

            connection, _ = await live_socket(user)
            consumer = Consumer(connection.scope, layer, await layer.new_channel())
            started = time.perf_counter()
            for n in range(joins):
                await groups.warden_join(consumer, f"benchjoin.{n}")
            checked_times.append((time.perf_counter() - started) / joins)
            await leave_all(connection)
            connection.retire()
            del round_
    finally:
        groups.registry.unregister("benchjoin.{n:int}")
    bare, checked = statistics.median(bare_times), statistics.median(checked_times)
    return {
        "rounds": rounds,
        "joins_per_round": joins,
        "bare_us": round(bare * 1e6, 1),
        "checked_us": round(checked * 1e6, 1),
        "ratio": round(checked / bare, 3),
        "target_ratio": 1.2,
    }


async def revocation_latency(sockets: int, repeats: int) -> dict[str, Any]:
    """Per-socket latency from ``revoke_membership`` to each socket's ``warden.left`` frame."""
    from channels.db import database_sync_to_async
    from channels.layers import get_channel_layer
    from django.contrib.auth.models import User

    from channels_warden import groups
    from channels_warden.revocation import listener

    listener.ensure_running()
    await asyncio.wait_for(listener.joined.wait(), 5)
    layer = get_channel_layer()
    user = await database_sync_to_async(User.objects.get_or_create)(username="bench-revoke")
    user = user[0]
    latencies: list[float] = []
    totals: list[float] = []
    for _ in range(repeats):
        arrivals = Arrivals()
        arrivals.expected = sockets
        opened = [await live_socket(user, arrivals) for _ in range(sockets)]
        for connection, _left in opened:
            consumer = Consumer(connection.scope, layer, await layer.new_channel())
            await groups.warden_join(consumer, "benchrevoke.room")
        started = time.perf_counter()
        await groups.revoke_membership(None, "benchrevoke.room")
        await asyncio.wait_for(arrivals.done.wait(), 30)
        ends = [left[0] - started for _, left in opened]
        latencies.extend(ends)
        totals.append(max(ends))
        for connection, _left in opened:
            connection.retire()
    return {
        "sockets": sockets,
        "repeats": repeats,
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "last_socket_ms_median": round(statistics.median(totals) * 1000, 2),
        "target_p99_ms": 50,
    }


async def run(smoke: bool) -> dict[str, Any]:
    from channels.layers import get_channel_layer

    from channels_warden import groups

    groups.registry.register("benchrevoke.{room}", groups.allow_any)
    result: dict[str, Any] = {
        "join": await join_ratio(rounds=3 if smoke else 21, joins=20 if smoke else 100),
        "revocation": [
            await revocation_latency(count if not smoke else min(count, 10), 2 if smoke else 7)
            for count in SOCKET_COUNTS
        ],
        "layer": type(get_channel_layer()).__name__,
    }
    from channels_warden.revocation import listener

    await listener.stop()
    return result


def start_redis(directory: str) -> tuple[subprocess.Popen[bytes], str]:
    """A throwaway ``redis-server`` on a free 127.0.0.1 port, without persistence."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(command, cwd=directory, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return process, f"redis://127.0.0.1:{port}/0"
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"redis-server did not listen on {port}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.groups", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny counts; checks the harness only")
    parser.add_argument("--json", type=Path, help="also write the result to this file")
    parser.add_argument("--redis", action="store_true", help="use channels_redis and a redis-server")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="warden-bench-groups-") as directory:
        redis = None
        if args.redis:
            redis, os.environ["WARDEN_TEST_REDIS_URL"] = start_redis(directory)
        try:
            setup_django(os.path.join(directory, "bench.sqlite3"))
            result = asyncio.run(run(args.smoke))
        finally:
            if redis is not None:
                redis.kill()
                redis.wait()
    join = result["join"]
    print(
        f"join: warden_join {join['checked_us']} µs vs group_add + query {join['bare_us']} µs "
        f"= {join['ratio']}× (target ≤ {join['target_ratio']}×)"
    )
    for row in result["revocation"]:
        print(
            f"revocation, {row['sockets']} socket(s), one process ({result['layer']}): "
            f"p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms (target p99 < {row['target_p99_ms']} ms)"
        )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
