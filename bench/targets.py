"""The issue's targets, each judged met or not met from a run's results, with the measured figure.

Handshake targets are judged on uvicorn (the server of the issue's reference figures); the tables
show daphne next to it. A target whose figure the run did not produce (a peer not installed, a
quick run without 10k connections, no redis-server) is reported as not measured (``met: None``).
"""

from __future__ import annotations

import math
from typing import Any

from .stats import Interval, format_interval

PRIMARY_SERVER = "uvicorn"
MEMORY_TARGET_LEVEL = 10_000
MEMORY_EXTRA_BOUND = 2048


def _target(ident: str, goal: str, measured: str | None, met: bool | None, note: str = "") -> dict[str, Any]:
    return {"id": ident, "target": goal, "measured": measured or "not measured", "met": met, "note": note}


class Broken(str):
    """A configuration whose handshakes fail: the target is not met, and this says why."""


def _figures(results: dict[str, Any], name: str) -> Interval | Broken | None:
    """The configuration's inverted CPU-cost ratio on the primary server, with its interval."""
    figures = results.get("handshakes", {}).get(PRIMARY_SERVER, {}).get(name)
    if not figures:
        return None
    if "error" in figures:
        return Broken(f"fails: {'; '.join(figures['failure_samples'][:1])}")
    if figures.get("failures"):
        return Broken(f"{figures['failures']} failed handshakes: {'; '.join(figures['failure_samples'][:1])}")
    cpu = figures["cpu_rate_ratio"]
    half = math.inf if cpu["ci95"] is None else float(cpu["ci95"])
    return Interval(float(cpu["mean"]), half, int(cpu["samples"]))


def _rate(results: dict[str, Any], name: str) -> str:
    """The throughput ratio and the instruction ratio beside a CPU-cost figure, where measured."""
    figures = results.get("handshakes", {}).get(PRIMARY_SERVER, {}).get(name) or {}
    beside = f"; rate {figures['ratio']:.2f}x" if "ratio" in figures else ""
    counted = (results.get("instructions") or {}).get(name)
    if isinstance(counted, dict) and "ratio" in counted:
        beside += f"; instructions {counted['ratio']:.3f}x"
    return beside


def _verdict(value: Interval, bound: float) -> tuple[bool, str]:
    note = "the bound is inside the interval" if value.low <= bound <= value.high else ""
    return value.mean >= bound, note


def _at_least(
    ident: str, goal: str, value: Interval | Broken | None, bound: float, rate: str = ""
) -> dict[str, Any]:
    if value is None:
        return _target(ident, goal, None, None)
    if isinstance(value, Broken):
        return _target(ident, goal, str(value), False)
    met, note = _verdict(value, bound)
    return _target(ident, goal, f"{format_interval(value)}x CPU{rate}", met, note)


def quotient(top: Interval, bottom: Interval) -> Interval:
    """``top / bottom`` with the relative half-widths added in quadrature (independent estimates)."""
    mean = top.mean / bottom.mean
    relative = math.hypot(top.half_width / top.mean, bottom.half_width / bottom.mean)
    return Interval(mean, mean * relative, min(top.samples, bottom.samples))


def _queries(
    results: dict[str, Any], names: list[str], ident: str, goal: str, bound: float
) -> dict[str, Any]:
    counts = results.get("queries", {})
    found = {name: counts[name] for name in names if name in counts}
    if not found:
        return _target(ident, goal, None, None)
    measured = ", ".join(
        f"{'fails' if value is None else format(value, 'g')} ({name.rsplit('_', 1)[-1]})"
        for name, value in found.items()
    )
    return _target(
        ident, goal, measured, all(value is not None and value <= bound for value in found.values())
    )


def _memory(results: dict[str, Any]) -> dict[str, Any]:
    goal = (
        "idle memory per socket below AuthMiddlewareStack's for every warden configuration,"
        " and ≤ +2 KiB over a plain consumer, 10k connections"
    )
    memory = results.get("memory")
    if not memory or not memory.get("levels"):
        return _target("memory", goal, None, None)
    level = str(max(memory["levels"]))
    extras = {
        name: data["levels"][level]["extra_bytes_over_baseline"]
        for name, data in memory["configs"].items()
        if name.startswith("warden_")
    }
    if not extras:
        return _target("memory", goal, None, None)
    worst = max(extras, key=lambda name: extras[name])
    stack = memory["configs"].get("peer_auth_stack", {}).get("levels", {}).get(level)
    measured = f"{extras[worst]:+.0f} B ({worst}, at {int(level):,})"
    if stack is not None:
        measured += f"; AuthMiddlewareStack {stack['extra_bytes_over_baseline']:+.0f} B"
    if int(level) < MEMORY_TARGET_LEVEL or stack is None:
        return _target("memory", goal, measured, None, f"measured at {int(level):,} connections only")
    met = extras[worst] <= MEMORY_EXTRA_BOUND and all(
        extra < stack["extra_bytes_over_baseline"] for extra in extras.values()
    )
    return _target("memory", goal, measured, met)


def _revocation(results: dict[str, Any], where: str, bound_ms: float) -> dict[str, Any]:
    label = "one process" if where == "one_process" else "two processes over Redis"
    goal = f"revocation p99 < {bound_ms:g} ms, {label}, 1,000 sockets"
    figures = results.get("revocation", {}).get(where, {}).get("1000")
    if not figures:
        return _target(f"revocation_{where}", goal, None, None)
    return _target(f"revocation_{where}", goal, f"{figures['p99_ms']:.1f} ms", figures["p99_ms"] < bound_ms)


def _stateless_cold(results: dict[str, Any]) -> dict[str, Any]:
    ident, goal = (
        "jwt_stateless_cold",
        "SimpleJWT stateless ≥ 0.90× no-auth, cold, and ahead of django-channels-jwt-stateless",
    )
    value = _figures(results, "warden_jwt_stateless_cold")
    found = _at_least(ident, goal, value, 0.90, _rate(results, "warden_jwt_stateless_cold"))
    peer = _figures(results, "peer_jwt_stateless")
    if isinstance(value, Interval) and isinstance(peer, Interval):
        found["measured"] += f"; peer {format_interval(peer)}x"
        found["met"] = bool(found["met"]) and value.mean > peer.mean
    elif isinstance(value, Interval):
        found["met"], found["note"] = None, "the peer was not measured"
    return found


def _session(results: dict[str, Any], name: str, ident: str, cache: str) -> dict[str, Any]:
    goal = f"session ≥ 1.5× Channels' AuthMiddlewareStack (database sessions, 16 in flight), {cache}"
    session, stack = _figures(results, name), _figures(results, "peer_auth_stack")
    if isinstance(session, Broken) or isinstance(stack, Broken):
        return _target(ident, goal, str(session if isinstance(session, Broken) else stack), False)
    if session is None or stack is None:
        return _target(ident, goal, None, None)
    return _at_least(ident, goal, quotient(session, stack), 1.5)


def evaluate(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target of the issue, in the issue's order, judged on the inverted CPU-cost ratio."""

    def cpu(ident: str, goal: str, name: str, bound: float) -> dict[str, Any]:
        return _at_least(ident, goal, _figures(results, name), bound, _rate(results, name))

    targets = [
        _stateless_cold(results),
        cpu(
            "jwt_stateless_warm",
            "SimpleJWT stateless ≥ 0.97× no-auth, warm",
            "warden_jwt_stateless_warm",
            0.97,
        ),
        _queries(
            results,
            ["warden_jwt_stateless_cold", "warden_jwt_stateless_warm"],
            "jwt_stateless_queries",
            "SimpleJWT stateless: 0 queries, cold and warm",
            0,
        ),
        cpu("drf_cold", "DRF token ≥ 0.80× no-auth, cold, 16 in flight (coalesced)", "warden_drf_cold", 0.80),
        cpu(
            "jwt_db_cold",
            "SimpleJWT database mode ≥ 0.80× no-auth, cold, 16 in flight (coalesced)",
            "warden_jwt_db_cold",
            0.80,
        ),
        cpu("drf_warm", "DRF token ≥ 0.95× no-auth, warm", "warden_drf_warm", 0.95),
        cpu("jwt_db_warm", "SimpleJWT database mode ≥ 0.95× no-auth, warm", "warden_jwt_db_warm", 0.95),
        _queries(
            results,
            ["warden_drf_cold", "warden_jwt_db_cold"],
            "lone_queries",
            "DRF token and SimpleJWT database mode: ≤ 1 query for a lone handshake",
            1,
        ),
        _session(results, "warden_session", "session_vs_auth_stack", "cold"),
        _session(results, "warden_session_warm", "session_vs_auth_stack_warm", "user cached"),
        cpu(
            "session_signed_cookies",
            "session ≥ 0.90× no-auth with signed-cookie sessions and a cached user",
            "warden_session_signed",
            0.90,
        ),
        _memory(results),
        _revocation(results, "one_process", 50),
        _revocation(results, "two_processes", 200),
    ]
    expiry = results.get("expiry")
    goal = "expiry: close within 1 s of exp"
    if expiry:
        met = expiry["max_ms"] <= 1000 and expiry["early_closes"] == 0
        measured = f"max {expiry['max_ms']:.0f} ms after exp (p50 {expiry['p50_ms']:.0f} ms)"
        targets.append(_target("expiry", goal, measured, met))
    else:
        targets.append(_target("expiry", goal, None, None))
    echo = results.get("echo", {}).get(PRIMARY_SERVER, {}).get("warden_jwt_stateless_cold")
    goal = "per-frame overhead ≤ 3 % (server CPU per echoed frame over no-auth's)"
    if echo:
        overhead = echo["cpu_overhead_percent"]
        half = math.inf if overhead["ci95"] is None else float(overhead["ci95"])
        span = Interval(float(overhead["mean"]), half, int(overhead["samples"]))
        measured = f"{format_interval(span, 1)} % CPU; throughput {echo['throughput_overhead_percent']:.1f} %"
        note = "the bound is inside the interval" if span.low <= 3 <= span.high else ""
        targets.append(_target("per_frame", goal, measured, span.mean <= 3, note))
    else:
        targets.append(_target("per_frame", goal, None, None))
    return targets
