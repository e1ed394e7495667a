"""Smoke test of ``python -m bench.group_cluster``: the harness runs end to end and every socket hears
its ``warden.left`` (no timing assertions: the figures are the benchmark's, not the test's)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One ``--quick`` run with 1 and 10 sockets and one round; its JSON."""
    out = tmp_path_factory.mktemp("group-cluster") / "result.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.group_cluster",
            "--quick",
            "--sockets",
            "1",
            "10",
            "--rounds",
            "1",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    loaded: dict[str, Any] = json.loads(out.read_text())
    return loaded


def test_rows_cover_every_count_topology_and_wait_mode(result: dict[str, Any]) -> None:
    """One row per (processes, sockets, wait) in run order, each with one round."""
    keys = [(row["processes"], row["sockets"], row["wait"]) for row in result["rows"]]
    assert keys == [(p, n, w) for p in (1, 2) for n in (1, 10) for w in (None, 2.0)]
    assert {row["rounds"] for row in result["rows"]} == {1}


def test_every_socket_got_its_warden_left(result: dict[str, Any]) -> None:
    """Each revocation reached all its sockets: arrived equals the count, none missing."""
    for row in result["rows"]:
        assert row["arrived"] == [row["sockets"]]
        assert row["missing"] == [0]
        assert row["client_ms"]["n"] == row["sockets"]


def test_two_processes_split_the_sockets_evenly(result: dict[str, Any]) -> None:
    """With two processes, socket i is on A if even, else B: 10 sockets split 5 and 5."""
    row = next(r for r in result["rows"] if r["processes"] == 2 and r["sockets"] == 10)
    assert [row["client_ms_by_process"][side]["n"] for side in ("A", "B")] == [5, 5]


def test_wait_mode_confirms_every_process(result: dict[str, Any]) -> None:
    """With ``wait``, A's answer names as many answering processes as run, and none missing."""
    for row in result["rows"]:
        for confirmation in row["confirmations"]:
            if row["wait"] is None:
                assert confirmation is None
            else:
                assert len(confirmation["answered"]) == row["processes"]
                assert confirmation["missing"] == []


def test_summary_has_p50_p99_and_max(result: dict[str, Any]) -> None:
    """Each row's client figures carry n, p50_ms, p99_ms and max_ms."""
    for row in result["rows"]:
        assert set(row["client_ms"]) == {"n", "p50_ms", "p99_ms", "max_ms"}
