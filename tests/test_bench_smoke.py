"""The benchmark harness, run with tiny counts so that it never rots (no timing is asserted).

``python -m bench --smoke`` starts its own uvicorn and redis-server, seeds its own SQLite file and
measures every section once over a handful of handshakes, without the peers and without the chart,
so it needs nothing beyond the dev dependency group.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Every section but the instruction count, which runs under valgrind in a fixture of its own.
TIMED = "handshakes,queries,echo,memory,revocation,expiry"


def run_module(module: str, *args: str, timeout: float, expect: int = 0) -> subprocess.CompletedProcess[str]:
    """``python -m module args`` from the project root; its exit status must be ``expect``."""
    completed = subprocess.run(
        [sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    assert completed.returncode == expect, completed.stdout[-4000:] + completed.stderr[-4000:]
    return completed


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One smoke run of the harness; its JSON result."""
    output = tmp_path_factory.mktemp("bench-results")
    run_module("bench", "--smoke", "--no-docs", "--output", str(output), "--only", TIMED, timeout=120)
    (result,) = output.glob("*-smoke.json")
    return dict(json.loads(result.read_text()))


def positive(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def test_run_describes_the_machine(smoke_run: dict[str, Any]) -> None:
    """The result names the mode, the CPU, the cores and the versions that matter."""
    assert smoke_run["schema"] == 1
    assert smoke_run["mode"] == "smoke"
    machine = smoke_run["machine"]
    assert machine["cpu_model"]
    assert positive(machine["cores"])
    assert {"Django", "channels", "uvicorn", "daphne"} <= {k for k, v in machine["versions"].items() if v}


def test_every_handshake_configuration_has_a_positive_ratio(smoke_run: dict[str, Any]) -> None:
    """Each configuration of the plan was measured on uvicorn against the same run's baseline."""
    table = smoke_run["handshakes"]["uvicorn"]
    assert positive(table["baseline"]["rate_per_s"])
    assert table["baseline"]["failures"] == 0
    for name in smoke_run["plan"]["handshake_configs"]:
        figures = table[name]
        assert "error" not in figures, f"{name} fails: {figures}"
        assert figures["failures"] == 0, figures["failure_samples"]
        assert positive(figures["ratio"]), name
        assert all(positive(ratio) for ratio in figures["ratios"]), name
        assert positive(figures["cpu_us"]), name
        assert positive(figures["cpu_rate_ratio"]["mean"]), name
        assert figures["cpu_rate_ratio"]["samples"] == len(figures["cpu_rate_ratios"]) == 2, name
        assert figures["cpu_rate_ratio"]["ci95"] >= 0, name
        assert positive(figures["p50_ms"]), name
        assert positive(figures["p99_ms"]), name


def test_queries_are_counted_inside_the_server(smoke_run: dict[str, Any]) -> None:
    """Queries per handshake: none for the baseline and stateless JWTs, at least one for DRF tokens."""
    queries = smoke_run["queries"]
    assert queries["baseline"] == 0
    assert queries["warden_jwt_stateless_cold"] == 0
    assert queries["warden_drf_cold"] >= 1


def test_echo_memory_revocation_and_expiry_are_reported(smoke_run: dict[str, Any]) -> None:
    """The open-socket sections report positive figures in their documented shape."""
    echo = smoke_run["echo"]["uvicorn"]
    assert positive(echo["baseline"]["frames_per_s"])
    assert positive(echo["warden_jwt_stateless_cold"]["ratio"])
    assert echo["warden_jwt_stateless_cold"]["cpu_overhead_percent"]["samples"] == 2
    assert positive(echo["baseline"]["cpu_us_per_frame"])
    memory = smoke_run["memory"]["configs"]
    assert set(memory) == {"baseline", "warden_jwt_stateless_cold"}
    assert all(positive(data["idle_rss_bytes"]) for data in memory.values())
    revocation = smoke_run["revocation"]
    for where in ("one_process", "two_processes", "one_process_memory_layer"):
        for size in ("1", "10"):
            assert positive(revocation[where][size]["p99_ms"])
            assert revocation[where][size]["close_codes"] == [4499]
    expiry = smoke_run["expiry"]
    assert expiry["samples"] == 3
    assert expiry["close_codes"] == [4498]


def test_every_target_has_a_verdict(smoke_run: dict[str, Any]) -> None:
    """Each of the issue's targets (session cold and with a cached user) has a verdict."""
    targets = smoke_run["targets"]
    assert len(targets) == 16
    for target in targets:
        assert set(target) == {"id", "target", "measured", "met", "note"}
        assert target["met"] in (True, False, None)


@pytest.fixture(scope="module")
def counted_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The instruction section of a smoke run: uvicorn under callgrind (valgrind must be installed)."""
    output = tmp_path_factory.mktemp("bench-instructions")
    run_module(
        "bench", "--smoke", "--no-docs", "--output", str(output), "--only", "instructions", timeout=300
    )
    (result,) = output.glob("*-smoke.json")
    return dict(json.loads(result.read_text()))


def test_instructions_are_counted_per_handshake_under_callgrind(counted_run: dict[str, Any]) -> None:
    """Instructions per handshake for the baseline and the plan's configurations, with their ratio.

    No figure is asserted beyond its shape and sanity: a handshake costs at least 100,000
    instructions, warden's stateless JWT route costs more than the plain consumer, and the baseline's
    two counts (first and last) agree within 5 %.
    """
    counted = counted_run["instructions"]
    assert "unavailable" not in counted, counted
    assert counted["handshakes"] == counted_run["plan"]["instruction_handshakes"]
    assert 0 <= counted["baseline_spread"] < 0.05
    assert counted["baseline"]["ratio"] == 1
    for name in ["baseline", *counted_run["plan"]["instruction_configs"]]:
        assert counted[name]["instructions"] > 100_000, name
    cold = counted["warden_jwt_stateless_cold"]
    assert cold["instructions"] > counted["baseline"]["instructions"]
    assert 0 < cold["ratio"] < 1


def test_handshake_parts_times_every_step_in_process() -> None:
    """``bench.handshake_parts`` (quoted in bench/NOTES.md) runs with cold tokens and names each step."""
    completed = run_module("bench.handshake_parts", "--scale", "0.01", timeout=120)
    header, *rows = completed.stdout.strip().splitlines()
    assert header.startswith("warden_jwt_stateless_cold, in process")
    steps = {row.split(maxsplit=1)[1]: float(row.split(maxsplit=1)[0]) for row in rows}
    assert len(steps) == 11
    assert all(micros > 0 for micros in steps.values())
    assert "credential check, cold (authenticator)" in steps
    assert "whole handshake, cold: warden + an app that does nothing" in steps


def test_server_profile_splits_the_servers_samples_by_owner() -> None:
    """``bench.server_profile`` (quoted in bench/NOTES.md) samples a real uvicorn with py-spy."""
    completed = run_module("bench.server_profile", "--handshakes", "400", "--top", "3", timeout=180)
    lines = completed.stdout.splitlines()
    assert lines[0].startswith("warden_jwt_stateless_cold on uvicorn, 400 handshakes")
    owners = {line[:26].strip(): line[26:].split() for line in lines[2:6]}
    assert set(owners) == {"warden", "application", "server and event loop", "total"}
    assert float(owners["warden"][0]) == 0.0  # the baseline runs no warden code
    assert float(owners["warden"][1]) > 0.0
    assert float(owners["total"][0]) > 0.0
    assert "warden functions, innermost (µs per handshake):" in lines


def test_server_profile_refuses_a_route_it_cannot_drive() -> None:
    """Tickets are minted by the benchmark run itself: the profiler says so instead of failing later."""
    completed = run_module("bench.server_profile", "--route", "warden_ticket", timeout=60, expect=2)
    assert "--route must be a bench route other than warden_ticket" in completed.stderr
