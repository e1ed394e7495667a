"""Echo round trips on open sockets: server CPU per frame and frames per second, against the baseline.

Sockets are opened before and closed after the timed part, so the CPU read around it is what the
server spends on frames alone (warden's ``receive``/``send`` wrappers and the consumer). Rounds
interleave the baseline like the handshakes and go on until the primary server's interval is
narrower than ``plan.ci_target`` or ``plan.echo_seconds`` have passed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from .client import close_all, echo_load, open_many
from .configs import BASELINE, BY_NAME, Config
from .credentials import Pools, fresh_attempts
from .plan import Plan
from .servers import Process
from .stats import Interval, converged, cost_ratio, format_interval, interval, inverted, median

Log = Callable[[str], None]
PRIMARY_SERVER = "uvicorn"
TICK_SECONDS = 0.01  # /proc/<pid>/stat counts CPU time in clock ticks (USER_HZ = 100)


async def _measure(plan: Plan, pools: Pools, config: Config, server: Process) -> tuple[float, float]:
    """Frames per second and server CPU seconds per frame, for one batch of sockets."""
    attempts = fresh_attempts(config, server.port, pools, plan.echo_sockets, None)
    sockets = await open_many(server.port, attempts, plan.echo_sockets)
    try:
        before = await server.settled_cpu_seconds()
        rate = await echo_load(sockets, plan.echo_frames)
        cpu = await server.settled_cpu_seconds() - before
    finally:
        await close_all(sockets)
    return rate, max(cpu, 0.01) / (plan.echo_sockets * plan.echo_frames)


def _more(plan: Plan, done: int, elapsed: float, spans: list[Interval]) -> bool:
    if done < plan.min_rounds:
        return True
    if done >= plan.max_rounds or elapsed >= plan.echo_seconds:
        return False
    return not converged(spans, plan.ci_target)


async def echo(plan: Plan, pools: Pools, servers: dict[str, Process], log: Log) -> dict[str, Any]:
    """Per server: frames/s (median) and CPU per frame over the baseline's (mean, 95 % interval)."""
    rng = random.Random(plan.seed + 1)
    configs = [BY_NAME[name] for name in plan.echo_configs]
    result: dict[str, Any] = {}
    for kind, server in servers.items():
        cpu_ratios: dict[str, list[float]] = {config.name: [] for config in configs}
        ratios: dict[str, list[float]] = {config.name: [] for config in configs}
        rates: dict[str, list[float]] = {config.name: [] for config in configs}
        base_rates: list[float] = []
        base_cpu: list[float] = []
        await _measure(plan, pools, BASELINE, server)  # warm-up
        started, done = time.monotonic(), 0
        # Only uvicorn's intervals decide the number of rounds; daphne gets the minimum.
        while done < plan.min_rounds or (
            kind == PRIMARY_SERVER
            and _more(
                plan,
                done,
                time.monotonic() - started,
                [interval(v, floor=tick_fraction(plan, base_cpu)) for v in cpu_ratios.values()],
            )
        ):
            done += 1
            order = list(configs)
            rng.shuffle(order)
            before_rate, before_cpu = await _measure(plan, pools, BASELINE, server)
            base_rates.append(before_rate)
            base_cpu.append(before_cpu)
            for config in order:
                rate, cpu = await _measure(plan, pools, config, server)
                after_rate, after_cpu = await _measure(plan, pools, BASELINE, server)
                base_rates.append(after_rate)
                base_cpu.append(after_cpu)
                ratios[config.name].append(rate / ((before_rate + after_rate) / 2))
                cpu_ratios[config.name].append(cost_ratio(cpu, before_cpu, after_cpu))
                rates[config.name].append(rate)
                before_rate, before_cpu = after_rate, after_cpu
        tick = tick_fraction(plan, base_cpu)
        result[kind] = {
            BASELINE.name: {
                "frames_per_s": round(median(base_rates), 1),
                "cpu_us_per_frame": round(median(base_cpu) * 1e6, 2),
            },
            **{name: _summary(rates[name], ratios[name], cpu_ratios[name], tick) for name in ratios},
        }
        log(
            f"  echo on {kind}: "
            + ", ".join(
                f"{name} +{format_interval(_overhead(cpu_ratios[name], tick), 1)} % CPU"
                for name in cpu_ratios
            )
        )
    return result


def tick_fraction(plan: Plan, base_cpu: list[float]) -> float:
    """One clock tick (10 ms) as a fraction of a baseline measurement's server CPU time.

    A batch of frames costs only some 25-40 ticks, so two readings can agree to the tick round
    after round: Student's interval is then 0 while each ratio is only known to about this much.
    """
    seconds = median(base_cpu) * plan.echo_sockets * plan.echo_frames
    return TICK_SECONDS / max(seconds, TICK_SECONDS)


def _overhead(cpu_ratios: list[float], tick: float) -> Interval:
    return interval([(ratio - 1) * 100 for ratio in cpu_ratios], floor=tick * 100)


def _summary(rates: list[float], ratios: list[float], cpu_ratios: list[float], tick: float) -> dict[str, Any]:
    overhead = _overhead(cpu_ratios, tick)
    rate_equivalent = interval([inverted(ratio) for ratio in cpu_ratios], floor=tick)
    return {
        "frames_per_s": round(median(rates), 1),
        "ratio": round(median(ratios), 4),
        "ratios": [round(value, 4) for value in ratios],
        "throughput_overhead_percent": round((1 - median(ratios)) * 100, 2),
        "cpu_rate_ratio": rate_equivalent.as_json(),
        "cpu_overhead_percent": overhead.as_json(),
        "cpu_ratios": [round(value, 4) for value in cpu_ratios],
        "tick_fraction": round(tick, 4),
    }
