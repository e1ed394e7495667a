"""``python -m bench.groups --smoke``: the groups benchmark runs and reports every figure (no timing
is asserted; the figures are what the full run is for)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def smoke_result(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    output = tmp_path_factory.mktemp("bench-groups") / "result.json"
    completed = subprocess.run(
        [sys.executable, "-m", "bench.groups", "--smoke", "--json", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=50,
    )
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-4000:]
    return dict(json.loads(output.read_text()))


def test_join_ratio_is_reported(smoke_result: dict[str, Any]) -> None:
    """The join figure has both medians and their ratio, all positive."""
    join = smoke_result["join"]
    assert min(join["bare_us"], join["checked_us"], join["ratio"]) > 0
    assert join["target_ratio"] == 1.2


def test_every_socket_count_is_measured(smoke_result: dict[str, Any]) -> None:
    """One revocation row per socket count (capped at 10 in smoke mode), with both percentiles."""
    rows = smoke_result["revocation"]
    assert [row["sockets"] for row in rows] == [1, 10, 10]
    assert all(0 < row["p50_ms"] <= row["p99_ms"] for row in rows)
