"""``python -m bench.group_cluster``: revocation latency seen by the CLIENT, one and two uvicorn processes.

    python -m bench.group_cluster            # 1, 100 and 1,000 sockets; under 3 minutes on 2 cores
    python -m bench.group_cluster --quick    # 1 and 100 sockets, one round: under 30 s
    python -m bench.group_cluster --quick --sockets 1 10   # the smoke test's run
    python -m bench.group_cluster --sockets 1000 --rounds 1 --wait 8 --logs /tmp/gc   # keep the logs

``bench.groups`` stops the clock when warden hands ``warden.left`` to the server's ``send`` in one
process; this adds the ASGI server, the network and the client. It starts its own ``redis-server``
on a free port and uvicorn processes serving ``tests.project.asgi:application`` exactly as
tests/e2e/multiprocess/conftest.py does (same helpers), on a fresh SQLite file. Both topologies use
the Redis channel layer, so the only difference is the process count:

* **one process**: N sockets on A, the revoke POSTed to A;
* **two processes**: N sockets split evenly (socket i on B if i is even, else A; one socket is on B),
  the revoke POSTed to A, so half the frames (the single one for N = 1) cross Redis to B's listener.

Every socket (one JWT user) joins ``open.<fresh name>``; then ``POST /test/groups/revoke/`` with
``username: null`` (everyone in the group) goes to A, alternately with ``wait: null`` and ``wait: 2``.
Per socket the figure is perf_counter at the client's reading of ``warden.left`` minus perf_counter
just before the request; the HTTP round trip is reported alongside. The one client process reads all
N sockets, so its own event-loop time is part of the figure (as it would be for N real users, less so).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .group_sockets import Counter, GroupClient, open_clients, post

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
FULL_COUNTS = (1, 100, 1000)
QUICK_COUNTS = (1, 100)
WAIT_SECONDS = 2.0
ARRIVAL_TIMEOUT = 15.0
# Joins in flight at once: in a first run, 100 joins sent at once to one process with 1,000 sockets
# open went unanswered for 10 s (not diagnosed); real users do not all join in the same millisecond.
JOIN_CONCURRENCY = 20


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float | int]:
    """p50, p99 and max in milliseconds (``values`` in seconds)."""
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50_ms": round(1000 * statistics.median(values), 2),
        "p99_ms": round(1000 * percentile(values, 0.99), 2),
        "max_ms": round(1000 * max(values), 2),
    }


def raise_open_file_limit() -> int:
    """Lift the soft limit to the hard one: 1,000 client sockets plus the servers' (they inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def setup_django(db_path: str) -> None:
    """``tests.settings`` on a fresh SQLite file, migrated here; the servers open the same file."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    os.environ["WARDEN_TEST_DB"] = db_path
    for path in (str(ROOT), str(ROOT / "src")):
        if path not in sys.path:
            sys.path.insert(0, path)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def bench_token() -> str:
    """A SimpleJWT access token for a fresh user ``bench`` (every socket is that user)."""
    from django.contrib.auth.models import User
    from rest_framework_simplejwt.tokens import AccessToken

    user = User.objects.create_user("bench")
    return str(AccessToken.for_user(user))


async def one_revocation(
    clients: list[GroupClient], port_a: int, group: str, wait: float | None, arrived: dict[str, Any]
) -> dict[str, Any]:
    """Join all ``clients`` to ``group``, revoke it on A, and collect every socket's latency."""
    gate = asyncio.Semaphore(JOIN_CONCURRENCY)

    async def join(client: GroupClient) -> None:
        async with gate:
            await client.join(group)

    await asyncio.gather(*(join(client) for client in clients))
    counter = arrived[group] = Counter(len(clients))
    started = time.perf_counter()
    status, body = await asyncio.to_thread(
        post, port_a, "/test/groups/revoke/", {"username": None, "group": group, "wait": wait}
    )
    returned = time.perf_counter()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(counter.done.wait(), ARRIVAL_TIMEOUT)
    del arrived[group]
    latencies: dict[str, list[float]] = {"A": [], "B": []}
    missing = 0
    for client in clients:
        at = client.left_at.pop(group, None)
        if at is None:
            missing += 1
        else:
            latencies[client.process].append(at - started)
    if status != 200:
        raise RuntimeError(f"revoke answered {status}: {body}")
    return {
        "wait": wait,
        "http_ms": round(1000 * (returned - started), 2),
        "confirmation": body.get("confirmation"),
        "latencies": latencies,
        "missing": missing,
    }


async def topology(
    servers: list[Any], counts: list[int], rounds: int, token: str, wait: float
) -> list[dict[str, Any]]:
    """Every count on these servers: the largest set of sockets is opened once, the first N join."""
    arrived: dict[str, Any] = {}
    clients = await open_clients(servers, max(counts), token, arrived)
    rows = []
    try:
        # Unmeasured: the first request and revocation in a process pay for lazy imports (~0.7 s).
        await one_revocation(clients[:2], servers[0].port, "open.warmup", None, arrived)
        for count in counts:
            # With two processes the first N sockets alternate B, A: N is split evenly, N = 1 is on B.
            chosen = clients[:count]
            for mode in (None, wait):
                runs = []
                for round_ in range(rounds):
                    group = f"open.n{count}-w{0 if mode is None else 1}-r{round_}"
                    runs.append(await one_revocation(chosen, servers[0].port, group, mode, arrived))
                rows.append(result_row(len(servers), count, mode, runs))
                print(format_row(rows[-1]), flush=True)
    finally:
        for client in clients:
            with contextlib.suppress(Exception):
                await client.socket.close()
            if client.reader is not None:
                client.reader.cancel()
    return rows


def result_row(processes: int, count: int, wait: float | None, runs: list[dict[str, Any]]) -> dict[str, Any]:
    every = [x for run in runs for side in ("A", "B") for x in run["latencies"][side]]
    by_process = {
        side: summary([x for run in runs for x in run["latencies"][side]]) for side in ("A", "B")[:processes]
    }
    return {
        "processes": processes,
        "sockets": count,
        "wait": wait,
        "rounds": len(runs),
        "arrived": [len(run["latencies"]["A"]) + len(run["latencies"]["B"]) for run in runs],
        "missing": [run["missing"] for run in runs],
        "client_ms": summary(every),
        "client_ms_by_process": by_process,
        "http_ms": [run["http_ms"] for run in runs],
        "confirmations": [run["confirmation"] for run in runs],
    }


def format_row(row: dict[str, Any]) -> str:
    c = row["client_ms"]
    wait = "none" if row["wait"] is None else f"{row['wait']:g}s"
    http_ms = statistics.median(row["http_ms"])
    missing = sum(row["missing"])
    return (
        f"{row['sockets']:>6} {row['processes']:>5} {wait:>5} {c.get('p50_ms', '-'):>9} "
        f"{c.get('p99_ms', '-'):>9} {c.get('max_ms', '-'):>9} {http_ms:>9.1f} {missing:>7}"
    )


HEADER = (
    f"{'socks':>6} {'procs':>5} {'wait':>5} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9} {'http ms':>9} "
    f"{'missing':>7}"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.group_cluster", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 and 100 sockets, one round (< 30 s)")
    parser.add_argument("--sockets", type=int, nargs="+", help="socket counts (default 1 100 1000)")
    parser.add_argument("--rounds", type=int, help="revocations per count and wait mode (default 3)")
    parser.add_argument("--wait", type=float, default=WAIT_SECONDS, help="the waiting mode's wait (2 s)")
    parser.add_argument("--logs", type=Path, help="keep the database and the server and Redis logs here")
    parser.add_argument("--json", type=Path, help="where to write the JSON (default bench/results/)")
    parser.add_argument("--note", default="", help="a sentence stored with the figures")
    args = parser.parse_args(argv)
    counts = sorted(args.sockets or (QUICK_COUNTS if args.quick else FULL_COUNTS))
    rounds = args.rounds or (1 if args.quick else 3)
    limit = raise_open_file_limit()
    if limit < max(counts) + 200:
        parser.error(f"the open-file limit is {limit}: too low for {max(counts)} sockets")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out = args.json or RESULTS / f"{stamp}-group-cluster{'-quick' if args.quick else ''}.json"
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="warden-group-cluster-") as scratch:
        workdir = args.logs or scratch
        Path(workdir).mkdir(parents=True, exist_ok=True)
        setup_django(str(Path(workdir) / "db.sqlite3"))
        token = bench_token()
        rows = asyncio.run(run_all(Path(workdir), counts, rounds, token, args.wait))
    result = {
        "bench": "group_cluster",
        "started_utc": stamp,
        "note": args.note,
        "counts": counts,
        "rounds": rounds,
        "cpus": os.cpu_count(),
        "seconds": round(time.monotonic() - started, 1),
        "rows": rows,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out} in {result['seconds']} s")
    return 0


async def run_all(
    workdir: Path, counts: list[int], rounds: int, token: str, wait: float
) -> list[dict[str, Any]]:
    """Redis and uvicorn started as tests/e2e/multiprocess/conftest.py starts them, then both topologies."""
    from tests.e2e.conftest import free_port, start_server
    from tests.e2e.multiprocess.conftest import RedisServer

    redis = RedisServer(free_port(), workdir / "redis.log")
    redis.start()
    servers: list[Any] = []
    rows: list[dict[str, Any]] = []
    try:
        env = {"WARDEN_TEST_DB": os.environ["WARDEN_TEST_DB"], "WARDEN_TEST_REDIS_URL": redis.url}
        for name in ("a", "b"):
            servers.append(start_server("uvicorn", workdir / f"process-{name}.log", env))
        print(HEADER, flush=True)
        rows += await topology(servers[:1], counts, rounds, token, wait)
        rows += await topology(servers, counts, rounds, token, wait)
    finally:
        for server in servers:
            server.stop()
        redis.stop()
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
