"""Open sockets: server memory per idle connection, revocation latency and expiry precision."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .client import Attempt, Socket, close_all, open_many
from .configs import BASELINE, BY_NAME, Config
from .credentials import Pools, attempt, expiring_tokens, jwt_for
from .plan import Plan
from .servers import Process, http, start_server
from .stats import summary_ms

Log = Callable[[str], None]
OPEN_CONCURRENCY = 64
#: The route revocation and expiry are measured on: bare WardenMiddleware, stateless SimpleJWT.
LIVE_ROUTE = BY_NAME["warden_jwt_stateless_cold"]


def _cycled_attempts(config: Config, port: int, pools: Pools, count: int) -> list[Attempt]:
    """``count`` handshakes reusing seeded users in turn (no cache is on, so reuse changes nothing)."""
    users = itertools.cycle(range(len(pools.seeded.user_ids)))
    sessions = itertools.cycle(pools.seeded.session_keys)
    attempts = []
    for _ in range(count):
        index = next(users)
        match config.credential:
            case "none":
                secret = None
            case "session":
                secret = next(sessions)
            case "drf":
                secret = pools.seeded.drf_keys[index]
            case _:
                secret = jwt_for(pools.seeded.user_ids[index])
        attempts.append(attempt(config, port, secret))
    return attempts


async def _memory_of(config: Config, plan: Plan, pools: Pools, workdir: Path) -> dict[str, Any]:
    # A long ping interval: the client does not answer pings while it holds 10k idle sockets.
    server = start_server("uvicorn", workdir, {"WARDEN_BENCH_NO_CHANNEL_LAYER": "1"}, ping_interval=600)
    sockets: list[Socket] = []
    try:
        warm = _cycled_attempts(config, server.port, pools, plan.warmup)
        await close_all(await open_many(server.port, warm, OPEN_CONCURRENCY))
        await asyncio.sleep(plan.settle_seconds)
        idle = server.rss_bytes()
        levels: dict[str, Any] = {}
        attempts = _cycled_attempts(config, server.port, pools, max(plan.memory_levels))
        for level in plan.memory_levels:
            sockets += await open_many(server.port, attempts[len(sockets) : level], OPEN_CONCURRENCY)
            await asyncio.sleep(plan.settle_seconds)
            rss = server.rss_bytes()
            levels[str(level)] = {"rss_bytes": rss, "per_connection_bytes": round((rss - idle) / level, 1)}
        return {"idle_rss_bytes": idle, "levels": levels}
    finally:
        for sock in sockets:
            sock.abort()
        server.stop()


async def memory(plan: Plan, pools: Pools, workdir: Path, log: Log) -> dict[str, Any]:
    """RSS per idle connection on a fresh uvicorn per configuration, and the extra over the baseline."""
    result: dict[str, Any] = {"server": "uvicorn", "levels": list(plan.memory_levels), "configs": {}}
    for config in [BASELINE, *(BY_NAME[name] for name in plan.memory_configs)]:
        result["configs"][config.name] = await _memory_of(config, plan, pools, workdir)
        per = {
            level: data["per_connection_bytes"]
            for level, data in result["configs"][config.name]["levels"].items()
        }
        log(f"  memory {config.name}: bytes per connection {per}")
    base = result["configs"][BASELINE.name]["levels"]
    for name, data in result["configs"].items():
        for level, figures in data["levels"].items():
            figures["extra_bytes_over_baseline"] = round(
                figures["per_connection_bytes"] - base[level]["per_connection_bytes"], 1
            )
        del name
    return result


async def _watch_close(sock: Socket) -> tuple[float, int | None]:
    try:
        return await sock.wait_close()
    finally:
        sock.abort()


async def revocation(
    plan: Plan, pools: Pools, sockets_on: Process, revoke_on: Process, log: Log, label: str
) -> dict[str, Any]:
    """For each size: open that many sockets of one user, revoke the user, time every close.

    The revoking server notes the wall-clock time right before ``disconnect()``; each socket's
    latency is from there to the moment the client read its close frame (same machine, same clock).
    """
    user = pools.seeded.user_ids[1]
    token = jwt_for(user)
    result: dict[str, Any] = {}
    # The first broadcast of a process pays its channel-layer connection; pay it outside the timing.
    await http(revoke_on.port, "POST", f"/bench/revoke/?user={pools.seeded.user_ids[2]}")
    for size, trials in plan.revocation_sizes.items():
        latencies: list[float] = []
        codes: set[int | None] = set()
        for _ in range(trials):
            attempts = [attempt(LIVE_ROUTE, sockets_on.port, token)] * size
            sockets = await open_many(sockets_on.port, attempts, OPEN_CONCURRENCY)
            await asyncio.sleep(plan.settle_seconds / 5)
            watchers = [asyncio.ensure_future(_watch_close(sock)) for sock in sockets]
            called_at = (await http(revoke_on.port, "POST", f"/bench/revoke/?user={user}"))["called_at"]
            closes = await asyncio.wait_for(asyncio.gather(*watchers), 30)
            latencies += [closed_at - called_at for closed_at, _ in closes]
            codes |= {code for _, code in closes}
        result[str(size)] = {
            **summary_ms(latencies),
            "trials": trials,
            "close_codes": sorted(c for c in codes if c),
        }
        log(
            f"  revocation {label}, {size} socket(s): "
            f"p50 {result[str(size)]['p50_ms']} ms, p99 {result[str(size)]['p99_ms']} ms"
        )
    return result


async def expiry(plan: Plan, pools: Pools, server: Process, log: Log) -> dict[str, Any]:
    """Sockets whose JWT expires at one whole second; close time minus ``exp`` for each."""
    lead = plan.expiry_lead + plan.expiry_sockets / 500
    exp, tokens = expiring_tokens(pools.seeded.user_ids[3], plan.expiry_sockets, lead)
    sockets = await open_many(
        server.port, [attempt(LIVE_ROUTE, server.port, token) for token in tokens], OPEN_CONCURRENCY
    )
    opened_by = time.time()
    closes = await asyncio.wait_for(
        asyncio.gather(*(_watch_close(sock) for sock in sockets)), exp - time.time() + 30
    )
    deltas = [closed_at - exp for closed_at, _ in closes]
    result = {
        **summary_ms(deltas),
        "exp_minus_open_s": round(exp - opened_by, 3),
        "close_codes": sorted({code for _, code in closes if code}),
        "early_closes": sum(1 for delta in deltas if delta < 0),
    }
    log(f"  expiry: close - exp p50 {result['p50_ms']} ms, max {result['max_ms']} ms")
    return result
