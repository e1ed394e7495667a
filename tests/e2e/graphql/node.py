"""Run the real Node clients of tests/node/ (graphql-ws, subscriptions-transport-ws) from a test."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

NODE_PROJECT = Path(__file__).resolve().parents[2] / "node"
NODE_TIMEOUT = 40.0


def node_binary() -> str:
    """``node``, with the clients installed from the committed lock; fails with how to fix it."""
    node = shutil.which("node")
    if node is None:
        raise AssertionError("node is not installed: apt-get install nodejs (Node 20 or newer)")
    if not (NODE_PROJECT / "node_modules" / "graphql-ws").is_dir():
        raise AssertionError(f"the GraphQL clients are not installed: npm ci --prefix {NODE_PROJECT}")
    return node


def _run(script: str, arguments: list[str]) -> dict[str, Any]:
    result = subprocess.run(
        [node_binary(), str(NODE_PROJECT / script), *arguments],
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT,
        cwd=NODE_PROJECT,
        check=False,
    )
    assert result.returncode == 0, f"{script} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


async def run_client(**options: Any) -> dict[str, Any]:
    """One scenario of ``client.mjs``, in a thread so that the test's event loop keeps running."""
    return await asyncio.to_thread(_run, "client.mjs", [json.dumps(options)])


def retry_table(codes: list[int]) -> dict[int, bool]:
    """graphql-ws's decision for each close code: ``True`` when it reconnects."""
    report = _run("retry_table.mjs", [str(code) for code in codes])
    return {int(code): bool(retried) for code, retried in report.items()}
