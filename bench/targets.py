"""The issue's targets, each judged met or not met from a run's results, with the measured figure.

Handshake targets are judged on uvicorn (the server of the issue's reference figures); the tables
show daphne next to it. A target whose figure the run did not produce (a peer not installed, a
quick run without 10k connections, no redis-server) is reported as not measured (``met: None``).
"""

from __future__ import annotations

from typing import Any

PRIMARY_SERVER = "uvicorn"
MEMORY_TARGET_LEVEL = 10_000


def _target(ident: str, goal: str, measured: str | None, met: bool | None, note: str = "") -> dict[str, Any]:
    return {"id": ident, "target": goal, "measured": measured or "not measured", "met": met, "note": note}


class Broken(str):
    """A configuration whose handshakes fail: the target is not met, and this says why."""


def _ratio(results: dict[str, Any], name: str) -> float | Broken | None:
    figures = results.get("handshakes", {}).get(PRIMARY_SERVER, {}).get(name)
    if not figures:
        return None
    if "error" in figures:
        return Broken(f"fails: {'; '.join(figures['failure_samples'][:1])}")
    if figures.get("failures"):
        return Broken(f"{figures['failures']} failed handshakes: {'; '.join(figures['failure_samples'][:1])}")
    return float(figures["ratio"])


def _at_least(ident: str, goal: str, value: float | Broken | None, bound: float) -> dict[str, Any]:
    if value is None:
        return _target(ident, goal, None, None)
    if isinstance(value, Broken):
        return _target(ident, goal, str(value), False)
    return _target(ident, goal, f"{value:.3f}x", value >= bound)


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
    goal = "≤ 1 KiB extra RSS per idle connection over a plain consumer, 10k connections"
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
    measured = f"{extras[worst]:.0f} B ({worst}, at {int(level):,})"
    if int(level) < MEMORY_TARGET_LEVEL:
        return _target("memory", goal, measured, None, f"measured at {int(level):,} connections only")
    return _target("memory", goal, measured, extras[worst] <= 1024)


def _revocation(results: dict[str, Any], where: str, bound_ms: float) -> dict[str, Any]:
    label = "one process" if where == "one_process" else "two processes over Redis"
    goal = f"revocation p99 < {bound_ms:g} ms, {label}, 1,000 sockets"
    figures = results.get("revocation", {}).get(where, {}).get("1000")
    if not figures:
        return _target(f"revocation_{where}", goal, None, None)
    return _target(f"revocation_{where}", goal, f"{figures['p99_ms']:.1f} ms", figures["p99_ms"] < bound_ms)


def evaluate(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target of the issue, in the issue's order."""
    targets = [
        _at_least(
            "jwt_stateless_cold",
            "SimpleJWT stateless ≥ 0.94× no-auth, cold",
            _ratio(results, "warden_jwt_stateless_cold"),
            0.94,
        ),
        _at_least(
            "jwt_stateless_warm",
            "SimpleJWT stateless ≥ 0.97× no-auth, warm",
            _ratio(results, "warden_jwt_stateless_warm"),
            0.97,
        ),
        _queries(
            results,
            ["warden_jwt_stateless_cold", "warden_jwt_stateless_warm"],
            "jwt_stateless_queries",
            "SimpleJWT stateless: 0 queries, cold and warm",
            0,
        ),
        _at_least("drf_warm", "DRF token ≥ 0.90× no-auth, warm", _ratio(results, "warden_drf_warm"), 0.90),
        _at_least(
            "jwt_db_warm",
            "SimpleJWT database mode ≥ 0.90× no-auth, warm",
            _ratio(results, "warden_jwt_db_warm"),
            0.90,
        ),
        _queries(results, ["warden_drf_cold"], "drf_cold_queries", "DRF token: ≤ 1 query, cold", 1),
        _queries(
            results,
            ["warden_jwt_db_cold"],
            "jwt_db_cold_queries",
            "SimpleJWT database mode: ≤ 1 query, cold",
            1,
        ),
    ]
    stack = _ratio(results, "peer_auth_stack")
    for name, ident, cache in (
        ("warden_session", "session_vs_auth_stack", "cold"),
        ("warden_session_warm", "session_vs_auth_stack_warm", "warm: user cached, session row read"),
    ):
        session = _ratio(results, name)
        session_goal = (
            f"session ≥ 1.5× the rate of Channels' AuthMiddlewareStack (database sessions), {cache}"
        )
        if isinstance(session, Broken) or isinstance(stack, Broken):
            targets.append(_target(ident, session_goal, str(session), False))
        elif session is None or stack is None:
            targets.append(_target(ident, session_goal, None, None, "not measured"))
        else:
            targets.append(_at_least(ident, session_goal, session / stack, 1.5))
    targets.append(_memory(results))
    targets.append(_revocation(results, "one_process", 50))
    targets.append(_revocation(results, "two_processes", 200))
    expiry = results.get("expiry")
    goal = "expiry: close within 1 s of exp"
    if expiry:
        met = expiry["max_ms"] <= 1000 and expiry["early_closes"] == 0
        measured = f"max {expiry['max_ms']:.0f} ms after exp (p50 {expiry['p50_ms']:.0f} ms)"
        targets.append(_target("expiry", goal, measured, met))
    else:
        targets.append(_target("expiry", goal, None, None))
    echo = results.get("echo", {}).get(PRIMARY_SERVER, {}).get("warden_jwt_stateless_cold")
    goal = "per-frame overhead ≤ 3 % of echo throughput"
    if echo:
        targets.append(
            _target("per_frame", goal, f"{echo['overhead_percent']:.1f} %", echo["overhead_percent"] <= 3)
        )
    else:
        targets.append(_target("per_frame", goal, None, None))
    return targets
