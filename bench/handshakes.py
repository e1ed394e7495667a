"""Handshake CPU cost, rate and latency, and queries per handshake, as ratios to the baseline.

Rounds interleave the baseline with every configuration: ``B c1 B c2 B ... cn B``, in a new order
each round, and each configuration's ratio is taken against the mean of the two baseline
measurements around it. A measurement is a rate batch (``concurrency`` handshakes in flight, the
server's core saturated) followed by a latency batch (one handshake at a time, so latency is
service time, not queueing); the server's CPU time (``/proc/<pid>/stat``) is read around both.
Rounds after ``plan.min_rounds`` run on uvicorn only, where the targets are judged.

The judged figure is the **CPU cost** per handshake over the baseline's, inverted (baseline cost /
configuration cost: "this share of no-auth's handshakes per core-second"), as a mean over rounds
with its 95 % interval. CPU time a process spends is hardly touched by what else the machine runs,
unlike its wall-clock rate; rounds go on until every interval on the primary server is narrower
than ``plan.ci_target`` or ``plan.handshake_seconds`` have passed. Rates stay beside it (medians).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .client import Attempt, run_handshakes
from .configs import BASELINE, BY_NAME, Config
from .credentials import Pools, fresh_attempts
from .plan import Plan
from .servers import Process, http
from .stats import Interval, converged, cost_ratio, interval, inverted, median, ms, percentile

Log = Callable[[str], None]
PRIMARY_SERVER = "uvicorn"


@dataclass
class Measurement:
    rate: float
    p50: float
    p99: float
    cpu: float  # server CPU seconds per handshake
    failures: list[str]


class HandshakeBench:
    """Measures handshakes of the configurations in ``plan`` on already running servers."""

    def __init__(self, plan: Plan, pools: Pools, servers: dict[str, Process], log: Log) -> None:
        self.plan = plan
        self.pools = pools
        self.servers = servers
        self.log = log
        self.configs = [BY_NAME[name] for name in plan.handshake_configs]
        #: server -> configuration -> what went wrong; broken configurations are not timed.
        self.broken: dict[str, dict[str, dict[str, Any]]] = {}

    async def attempts(self, config: Config, server: Process, count: int) -> list[Attempt]:
        """``count`` handshakes for ``config``; warm configurations get their tokens verified first."""
        tickets = None
        if config.credential == "ticket":
            user = self.pools.seeded.user_ids[0]
            tickets = (await http(server.port, "POST", f"/bench/tickets/?user={user}&count={count}"))[
                "tickets"
            ]
        if config.cache == "warm":
            # Verify (untimed) each warm token the batch will use, so every timed handshake hits the cache.
            used = min(count, len(self.pools.warm_secrets(config.credential)))
            prime = fresh_attempts(config, server.port, self.pools, used, None)
            await run_handshakes(server.port, prime, self.plan.concurrency)
        return fresh_attempts(config, server.port, self.pools, count, tickets)

    async def measure(self, config: Config, server: Process) -> Measurement:
        plan = self.plan
        attempts = await self.attempts(config, server, plan.handshakes + plan.latency_handshakes)
        cpu_before = await server.settled_cpu_seconds()
        rate_batch = await run_handshakes(server.port, attempts[: plan.handshakes], plan.concurrency)
        latency_batch = await run_handshakes(server.port, attempts[plan.handshakes :], 1)
        cpu = await server.settled_cpu_seconds() - cpu_before
        latencies = latency_batch.latencies or [float("nan")]
        done = rate_batch.count + latency_batch.count - len(rate_batch.failures) - len(latency_batch.failures)
        return Measurement(
            rate=rate_batch.rate,
            p50=percentile(latencies, 0.5),
            p99=percentile(latencies, 0.99),
            # A batch shorter than a clock tick reads 0 s: count it as one tick, never as free.
            cpu=max(cpu, 0.01) / max(done, 1),
            failures=rate_batch.failures + latency_batch.failures,
        )

    async def warm_up(self, server: Process) -> None:
        """Untimed handshakes on every route; a configuration that fails is set aside as broken."""
        for config in [BASELINE, *self.configs]:
            attempts = await self.attempts(config, server, self.plan.warmup)
            batch = await run_handshakes(server.port, attempts, self.plan.concurrency)
            if not batch.failures:
                continue
            if config is BASELINE:
                raise RuntimeError(
                    f"the baseline fails on {server.kind}: {batch.failures[:3]}\n{server.log()[-3000:]}"
                )
            self.broken.setdefault(server.kind, {})[config.name] = {
                "error": f"{len(batch.failures)} of {batch.count} warm-up handshakes failed",
                "failure_samples": sorted(set(batch.failures))[:3],
                "server_log_tail": _error_lines(server.log()),
            }
            self.log(f"  {config.name} on {server.kind} is BROKEN: {sorted(set(batch.failures))[:2]}")

    async def run(self) -> dict[str, Any]:
        """Rounds on every server until the intervals converge; per configuration, rounds and summary."""
        rng = random.Random(self.plan.seed)
        rounds: dict[str, dict[str, list[dict[str, float]]]] = {kind: {} for kind in self.servers}
        baselines: dict[str, list[Measurement]] = {kind: [] for kind in self.servers}
        failures: dict[str, dict[str, list[str]]] = {kind: {} for kind in self.servers}
        for server in self.servers.values():
            await self.warm_up(server)
        started = time.monotonic()
        number = 0
        while self._more_rounds(number, time.monotonic() - started, rounds):
            number += 1
            for kind, server in self.servers.items():
                if (
                    number > self.plan.min_rounds
                    and kind != PRIMARY_SERVER
                    and PRIMARY_SERVER in self.servers
                ):
                    continue  # targets are judged on uvicorn: the extra rounds go where they count
                await self._round(kind, server, rng, rounds[kind], baselines[kind], failures[kind])
                self.log(f"  round {number} on {kind}: {self._round_line(rounds[kind])}")
        return {
            kind: {
                **self._summarise(kind, rounds[kind], baselines[kind], failures[kind]),
                **self.broken.get(kind, {}),
            }
            for kind in self.servers
        }

    def _more_rounds(
        self, done: int, elapsed: float, rounds: dict[str, dict[str, list[dict[str, float]]]]
    ) -> bool:
        """At least ``min_rounds``; then until the primary server's intervals converge or time is up."""
        plan = self.plan
        if done < plan.min_rounds:
            return True
        if done >= plan.max_rounds or elapsed >= plan.handshake_seconds:
            return False
        primary = rounds.get(PRIMARY_SERVER) or next(iter(rounds.values()))
        spans = [interval([run["cpu_rate_ratio"] for run in runs]) for runs in primary.values()]
        return not converged(spans, plan.ci_target)

    async def _round(
        self,
        kind: str,
        server: Process,
        rng: random.Random,
        rounds: dict[str, list[dict[str, float]]],
        baselines: list[Measurement],
        failures: dict[str, list[str]],
    ) -> None:
        order = [config for config in self.configs if config.name not in self.broken.get(kind, {})]
        rng.shuffle(order)
        before = await self.measure(BASELINE, server)
        baselines.append(before)
        for config in order:
            measured = await self.measure(config, server)
            after = await self.measure(BASELINE, server)
            baselines.append(after)
            base_rate = (before.rate + after.rate) / 2
            base_p50 = (before.p50 + after.p50) / 2
            base_p99 = (before.p99 + after.p99) / 2
            cpu_ratio = cost_ratio(measured.cpu, before.cpu, after.cpu)
            rounds.setdefault(config.name, []).append(
                {
                    "rate_per_s": measured.rate,
                    "baseline_rate_per_s": base_rate,
                    "ratio": measured.rate / base_rate if base_rate else 0.0,
                    "cpu_s": measured.cpu,
                    "baseline_cpu_s": (before.cpu + after.cpu) / 2,
                    "cpu_rate_ratio": inverted(cpu_ratio),
                    "p50_s": measured.p50,
                    "p99_s": measured.p99,
                    "p50_ratio": measured.p50 / base_p50 if base_p50 else 0.0,
                    "p99_ratio": measured.p99 / base_p99 if base_p99 else 0.0,
                }
            )
            if measured.failures:
                failures.setdefault(config.name, []).extend(measured.failures)
            before = after

    @staticmethod
    def _round_line(per_config: dict[str, list[dict[str, float]]]) -> str:
        return ", ".join(
            f"{name.removeprefix('warden_')} {_cpu_interval(runs).mean:.2f}"
            f"±{min(_cpu_interval(runs).half_width, 9.99):.2f}"
            for name, runs in per_config.items()
        )

    def _summarise(
        self,
        kind: str,
        per_config: dict[str, list[dict[str, float]]],
        baselines: list[Measurement],
        failures: dict[str, list[str]],
    ) -> dict[str, Any]:
        result: dict[str, Any] = {
            BASELINE.name: {
                "rate_per_s": round(median([m.rate for m in baselines]), 1),
                "p50_ms": ms(median([m.p50 for m in baselines])),
                "p99_ms": ms(median([m.p99 for m in baselines])),
                "cpu_us": round(median([m.cpu for m in baselines]) * 1e6, 1),
                "measurements": len(baselines),
                "failures": sum(len(m.failures) for m in baselines),
            }
        }
        for name, runs in per_config.items():
            result[name] = {
                "cpu_rate_ratio": _cpu_interval(runs).as_json(),
                "cpu_rate_ratios": [round(run["cpu_rate_ratio"], 4) for run in runs],
                "cpu_us": round(median([run["cpu_s"] for run in runs]) * 1e6, 1),
                "baseline_cpu_us": round(median([run["baseline_cpu_s"] for run in runs]) * 1e6, 1),
                "ratio": round(median([run["ratio"] for run in runs]), 4),
                "ratios": [round(run["ratio"], 4) for run in runs],
                "rate_per_s": round(median([run["rate_per_s"] for run in runs]), 1),
                "baseline_rate_per_s": round(median([run["baseline_rate_per_s"] for run in runs]), 1),
                "p50_ms": ms(median([run["p50_s"] for run in runs])),
                "p99_ms": ms(median([run["p99_s"] for run in runs])),
                "p50_ratio": round(median([run["p50_ratio"] for run in runs]), 4),
                "p99_ratio": round(median([run["p99_ratio"] for run in runs]), 4),
                "failures": len(failures.get(name, [])),
                "failure_samples": sorted(set(failures.get(name, [])))[:3],
            }
        return result

    async def queries(self, server: Process) -> dict[str, float | None]:
        """SQL statements per handshake, counted inside ``server`` over sequential handshakes."""
        counts: dict[str, float | None] = {}
        for config in [BASELINE, *self.configs]:
            attempts = await self.attempts(config, server, self.plan.query_handshakes)
            before = (await http(server.port, "GET", "/bench/stats/"))["queries"]
            batch = await run_handshakes(server.port, attempts, 1)
            await asyncio.sleep(0.05)
            after = (await http(server.port, "GET", "/bench/stats/"))["queries"]
            done = batch.count - len(batch.failures)
            counts[config.name] = round((after - before) / done, 3) if done else None
        return counts


def _cpu_interval(runs: list[dict[str, float]]) -> Interval:
    return interval([run["cpu_rate_ratio"] for run in runs])


def _error_lines(log: str, limit: int = 6) -> list[str]:
    """The last distinct exception lines of a server log (``SomeError: ...``), for the report."""
    found: list[str] = []
    for line in reversed(log.splitlines()):
        text = line.strip()
        head = text.split(":", 1)[0]
        if head.endswith(("Error", "Exception")) and " " not in head and text not in found:
            found.append(text[:200])
            if len(found) == limit:
                break
    return found
