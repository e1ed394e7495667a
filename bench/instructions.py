"""Instructions per handshake, counted by callgrind: a cost figure that does not move with the load.

CPU time per handshake is what the targets are judged on, but on a shared 2-core VM it moves with
whatever the other core does (shared caches, host steal), so its intervals stay near ±0.1 after the
10-minute budget. The number of instructions the server executes for a handshake does not: it is
the same whatever else runs. One uvicorn runs under ``valgrind --tool=callgrind``
(``PYTHONHASHSEED=0``; the cyclic collector off once the project is loaded, so that a collection
landing in one batch and not in another cannot tell them apart, which leaves its work out of the
count; a 1 s GIL switch interval, so that a thread hop does not poll for the GIL on valgrind's slow
clock), pinned like the
others; after one untimed pass over every route, for each configuration the counters are zeroed
(``callgrind_control -z``), a batch of handshakes runs, and the counters
are dumped (``callgrind_control -d``). The dump's total over the batch's size is the figure; its
ratio to the no-auth baseline's (measured first and last) is the deterministic twin of the CPU-cost
ratio. Instructions are not time (a cache miss costs more than an add), so the two ratios differ a
little; they move together, and this one shows a 1 % change (two runs agree to 0.001).
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from .client import run_handshakes
from .configs import BASELINE, BY_NAME
from .credentials import Pools
from .handshakes import HandshakeBench, Log
from .plan import Plan
from .servers import Process, start_server

#: Python under callgrind starts ~50 times slower: Django's setup takes about 30 s here.
START_TIMEOUT = 300.0
DUMP_TIMEOUT = 60.0
#: Seconds to wait at most for the server to go idle around a batch (it is slow under callgrind).
SETTLE_LIMIT = 10.0


def callgrind_missing() -> str | None:
    """Why instructions cannot be counted here, or ``None``."""
    for program in ("valgrind", "callgrind_control"):
        if shutil.which(program) is None:
            return f"{program} is not installed (apt-get install valgrind)"
    return None


def total_instructions(dump: Path) -> int:
    """The ``summary:`` (or ``totals:``) line of a callgrind dump: instructions executed."""
    for line in dump.read_text(errors="replace").splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise RuntimeError(f"no total in callgrind dump {dump}")


async def _control(option: str, pid: int) -> None:
    """``callgrind_control <option> <pid>``, which returns once callgrind has done it."""
    process = await asyncio.create_subprocess_exec(
        "callgrind_control", option, str(pid), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, error = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"callgrind_control {option} failed: {error.decode(errors='replace')[-500:]}")


async def _counted(server: Process, out: Path, batch: Any) -> int:
    """Instructions the server executes while ``batch`` (a coroutine) runs."""
    await server.settled_cpu_seconds(step=0.1, limit=SETTLE_LIMIT)  # what came before is over
    await _control("-z", server.pid)
    await batch
    await server.settled_cpu_seconds(step=0.1, limit=SETTLE_LIMIT)  # the batch's teardown is its own
    before = set(out.parent.glob(f"{out.name}.*"))
    await _control("-d", server.pid)
    deadline = time.monotonic() + DUMP_TIMEOUT
    while not (new := set(out.parent.glob(f"{out.name}.*")) - before):
        if time.monotonic() > deadline:
            raise RuntimeError("callgrind wrote no dump")
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.2)  # let callgrind finish the file
    return total_instructions(max(new, key=lambda path: path.stat().st_mtime))


async def instructions(plan: Plan, pools: Pools, workdir: Path, log: Log) -> dict[str, Any]:
    """Instructions per handshake for the baseline (first and last) and every handshake configuration."""
    if (missing := callgrind_missing()) is not None:
        log(f"instructions: not measured ({missing})")
        return {"unavailable": missing}
    out = workdir / "callgrind.out"
    prefix = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out}",
        "--dump-instr=no",
        "--compress-strings=no",
    ]
    environment = {"PYTHONHASHSEED": "0", "WARDEN_BENCH_COUNTING": "1"}
    server = start_server("uvicorn", workdir, environment, prefix=prefix, start_timeout=START_TIMEOUT)
    try:
        bench = HandshakeBench(plan, pools, {"uvicorn": server}, log)
        count = plan.instruction_handshakes
        configs = [BY_NAME[name] for name in plan.instruction_configs]
        per_config: dict[str, list[float]] = {}
        for config in [BASELINE, *configs]:  # first uses (imports, caches) before anything is counted
            await run_handshakes(
                server.port, await bench.attempts(config, server, plan.instruction_warmup), plan.concurrency
            )
        for config in [BASELINE, *configs, BASELINE]:
            attempts = await bench.attempts(config, server, count)
            measured = await _counted(server, out, run_handshakes(server.port, attempts, 1))
            per_config.setdefault(config.name, []).append(measured / count)
        baseline = sum(per_config[BASELINE.name]) / len(per_config[BASELINE.name])
        results: dict[str, Any] = {
            "handshakes": count,
            "baseline_spread": _spread(per_config[BASELINE.name]),
        }
        for name, values in per_config.items():
            mean = sum(values) / len(values)
            results[name] = {"instructions": round(mean), "ratio": round(baseline / mean, 4)}
        log(
            "  instructions per handshake: "
            + ", ".join(
                f"{name} {figures['ratio']:.3f}x"
                for name, figures in results.items()
                if isinstance(figures, dict) and name != BASELINE.name
            )
        )
        return results
    finally:
        server.stop()


def _spread(values: list[float]) -> float:
    """How far apart two measurements of one configuration are, as a fraction of their mean."""
    return round((max(values) - min(values)) / (sum(values) / len(values)), 4)
