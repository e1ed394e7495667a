"""``python -m bench``: run the benchmark, write the JSON, the table and the chart.

    python -m bench            # full run, under 10 minutes on a 2-core machine
    python -m bench --quick    # under 2 minutes: fewer rounds, 1k idle connections only
    python -m bench --smoke    # seconds: the harness's own test (tests/test_bench_smoke.py)

Every server runs on 127.0.0.1 and is started and stopped by the run. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import machine
from .configs import BY_NAME, CONFIGS, peer_available
from .credentials import Pools, describe_pools, seed
from .echo import echo
from .handshakes import HandshakeBench
from .instructions import instructions
from .live import expiry, memory, revocation
from .plan import PLANS, Plan, without_peers
from .servers import ROOT, Process, can_pin, pin_client, raise_fd_limit, start_redis, start_server
from .targets import evaluate

RESULTS = ROOT / "bench" / "results"
SECTIONS = ("handshakes", "queries", "echo", "instructions", "memory", "revocation", "expiry")


def log(line: str) -> None:
    print(line, flush=True)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    modes = parser.add_mutually_exclusive_group()
    modes.add_argument("--quick", action="store_const", dest="mode", const="quick", help="the < 2 minute run")
    modes.add_argument(
        "--smoke", action="store_const", dest="mode", const="smoke", help="tiny counts (tests)"
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="directory for the JSON (bench/results)")
    parser.add_argument(
        "--no-docs", action="store_true", help="do not write docs/benchmarks.md and the chart"
    )
    parser.add_argument("--no-peers", action="store_true", help="skip the peers even if they are installed")
    parser.add_argument("--only", help=f"comma-separated sections of {', '.join(SECTIONS)}")
    parser.add_argument("--note", default="", help="a sentence for the docs (e.g. the machine was busy)")
    parser.add_argument(
        "--configs",
        help="comma-separated handshake configurations to measure (default: all); for steering by one",
    )
    parser.add_argument(
        "--servers", help="comma-separated servers of the handshake and echo tables (default: uvicorn,daphne)"
    )
    parser.set_defaults(mode="full")
    return parser.parse_args(argv)


def setup_django(workdir: Path) -> None:
    os.environ["WARDEN_BENCH_DB"] = str(workdir / "bench.sqlite3")
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.project.settings"
    os.environ.pop("WARDEN_BENCH_REDIS_URL", None)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def peer_status(plan: Plan) -> dict[str, Any]:
    """For every peer: installed (with version) or why it was not measured."""
    status = {}
    for config in CONFIGS:
        if config.family != "peer":
            continue
        problem = "skipped (--no-peers or smoke run)" if not plan.peers else peer_available(config)
        status[config.name] = {
            "label": config.label,
            "package": config.package,
            "version": machine.version(config.package or ""),
            "available": problem is None,
            "reason": problem,
        }
    return status


def effective_plan(plan: Plan, peers: dict[str, Any]) -> Plan:
    missing = {name for name, status in peers.items() if not status["available"]}
    if not plan.peers:
        return without_peers(plan)

    def keep(names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(name for name in names if name not in missing)

    return replace(
        plan,
        handshake_configs=keep(plan.handshake_configs),
        echo_configs=keep(plan.echo_configs),
        memory_configs=keep(plan.memory_configs),
        instruction_configs=keep(plan.instruction_configs),
    )


class Sections:
    """Runs the requested sections and notes how long each took."""

    def __init__(self, requested: set[str]) -> None:
        self.requested = requested
        self.results: dict[str, Any] = {"section_seconds": {}}

    def wanted(self, *names: str) -> bool:
        return bool(self.requested & set(names))

    async def run(self, name: str, coroutine: Any) -> Any:
        started = time.monotonic()
        try:
            return await coroutine
        finally:
            seconds = self.results["section_seconds"]
            seconds[name] = round(seconds.get(name, 0) + time.monotonic() - started, 1)


async def measure(plan: Plan, pools: Pools, requested: set[str], workdir: Path) -> dict[str, Any]:
    sections = Sections(requested)
    results = sections.results
    if sections.wanted("handshakes", "queries", "echo"):
        servers = {kind: start_server(kind, workdir, {}) for kind in plan.servers}
        try:
            bench = HandshakeBench(plan, pools, servers, log)
            if sections.wanted("handshakes"):
                log(
                    f"handshakes: {len(bench.configs)} configurations x"
                    f" {plan.min_rounds}-{plan.max_rounds} rounds on {', '.join(servers)}"
                )
                results["handshakes"] = await sections.run("handshakes", bench.run())
            if sections.wanted("queries"):
                log("queries per handshake")
                results["queries"] = await sections.run("queries", bench.queries(servers[plan.servers[0]]))
            if sections.wanted("echo"):
                log("echo throughput")
                results["echo"] = await sections.run("echo", echo(plan, pools, servers, log))
        finally:
            for server in servers.values():
                server.stop()
    if sections.wanted("instructions"):
        log(f"instructions per handshake (callgrind): {len(plan.instruction_configs)} configurations")
        results["instructions"] = await sections.run("instructions", instructions(plan, pools, workdir, log))
    if sections.wanted("memory"):
        log(f"memory per idle connection at {', '.join(map(str, plan.memory_levels))}")
        results["memory"] = await sections.run("memory", memory(plan, pools, workdir, log))
    if sections.wanted("revocation", "expiry"):
        redis = start_redis(workdir) if sections.wanted("revocation") else None
        try:
            await live_sections(plan, pools, workdir, sections, redis)
        finally:
            if redis is not None:
                redis.stop()
    return results


async def live_sections(
    plan: Plan, pools: Pools, workdir: Path, sections: Sections, redis: Process | None
) -> None:
    """Revocation and expiry on open sockets.

    Revocation in one process is judged with the Redis channel layer, as deployed: Channels'
    in-memory layer sweeps every channel on every operation, so 1,000 consumers tearing down at
    once cost it O(n²) whether warden closed them or not. It is still measured, as a row of its own.
    """
    results = sections.results
    if sections.wanted("revocation"):
        if redis is None:
            log("revocation over Redis: redis-server is not installed; not measured")
            results["revocation"] = {
                where: {"unavailable": "redis-server is not installed"}
                for where in ("one_process", "two_processes")
            }
        else:
            env = {"WARDEN_BENCH_REDIS_URL": f"redis://127.0.0.1:{redis.port}/0"}
            results["revocation"] = await sections.run("revocation", over_redis(plan, pools, workdir, env))
    single = start_server("uvicorn", workdir, {})
    try:
        if sections.wanted("revocation"):
            log("revocation, one process, in-memory channel layer")
            memory_layer = await sections.run(
                "revocation", revocation(plan, pools, single, single, log, "one process, in-memory layer")
            )
            results.setdefault("revocation", {})["one_process_memory_layer"] = memory_layer
        if sections.wanted("expiry"):
            log("expiry precision")
            results["expiry"] = await sections.run("expiry", expiry(plan, pools, single, log))
    finally:
        single.stop()


async def over_redis(plan: Plan, pools: Pools, workdir: Path, env: dict[str, str]) -> dict[str, Any]:
    """Revocation with one uvicorn (revoker and sockets alike) and, when planned, across two."""
    started: list[Process] = []
    try:
        holder = start_server("uvicorn", workdir, env)
        started.append(holder)
        log("revocation, one process over Redis")
        measured = {"one_process": await revocation(plan, pools, holder, holder, log, "one process")}
        if plan.two_processes:
            revoker = start_server("uvicorn", workdir, env)
            started.append(revoker)
            log("revocation, two processes over Redis")
            measured["two_processes"] = await revocation(plan, pools, holder, revoker, log, "two processes")
        return measured
    finally:
        for process in reversed(started):
            process.stop()


def write_results(results: dict[str, Any], output: Path) -> Path:
    output.mkdir(parents=True, exist_ok=True)
    stamp = datetime.fromtimestamp(results["started_at"], UTC).strftime("%Y%m%dT%H%M%SZ")
    path = output / f"{stamp}-{results['mode']}.json"
    path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")
    return path


def restricted(plan: Plan, configs: str | None, servers: str | None) -> Plan:
    """``plan`` limited to the named handshake configurations and servers; a typo is an error."""
    if configs:
        names = tuple(name.strip() for name in configs.split(",") if name.strip())
        choices = [name for name in BY_NAME if BY_NAME[name].family != "baseline"]
        if unknown := [name for name in names if name not in choices]:
            raise SystemExit(
                f"unknown configuration(s) {', '.join(unknown)}; choose from {', '.join(choices)}"
            )
        # Counted as named, in every mode: steering by one figure means the figure of what was named.
        plan = replace(plan, handshake_configs=names, instruction_configs=names)
    if servers:
        kinds = tuple(kind.strip() for kind in servers.split(",") if kind.strip())
        if unknown := [kind for kind in kinds if kind not in ("uvicorn", "daphne")]:
            raise SystemExit(f"unknown server(s) {', '.join(unknown)}; choose from uvicorn, daphne")
        plan = replace(plan, servers=kinds)
    return plan


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    plan = PLANS[args.mode]
    if args.no_peers:
        plan = without_peers(plan)
    plan = restricted(plan, args.configs, args.servers)
    sections = set(SECTIONS if not args.only else args.only.split(","))
    if unknown := sections - set(SECTIONS):
        raise SystemExit(
            f"unknown section(s) {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}"
        )
    started = time.time()
    client_cores = pin_client()
    fd_limit = raise_fd_limit()
    workdir = Path(tempfile.mkdtemp(prefix="warden-bench-"))
    try:
        log(f"bench ({plan.mode}): seeding {workdir}")
        setup_django(workdir)
        peers = peer_status(plan)
        plan = effective_plan(plan, peers)
        pools = Pools(seed(plan.users_needed()))
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            measured = runner.run(measure(plan, pools, sections, workdir))
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(workdir)
    results: dict[str, Any] = {
        "schema": 1,
        "mode": plan.mode,
        "started_at": started,
        "started": datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds"),
        "duration_s": round(time.time() - started, 1),
        "note": args.note,
        "machine": {
            **machine.describe(),
            "client_cores": client_cores,
            "server_cores": [1] if can_pin() else None,
            "client_fd_limit": fd_limit,
        },
        "plan": plan.as_json(),
        "pools": describe_pools(pools),
        "configs": {
            name: {"label": BY_NAME[name].label, "family": BY_NAME[name].family, "cache": BY_NAME[name].cache}
            for name in BY_NAME
        },
        "peers": peers,
        **measured,
    }
    results["targets"] = evaluate(results)
    path = write_results(results, args.output)
    log(f"results: {path}")
    if not args.no_docs:
        from .report import write_docs

        for written in write_docs(results, path):
            log(f"wrote {written}")
    for target in results["targets"]:
        verdict = {True: "met", False: "NOT MET", None: "not measured"}[target["met"]]
        log(f"  {verdict:>12}  {target['target']}: {target['measured']}")
    log(f"done in {results['duration_s']} s")
    return 0


def _loop_factory() -> Any:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


if __name__ == "__main__":
    sys.exit(main())
