"""Where a route's server CPU goes: py-spy samples of uvicorn serving it, split by who is on the stack.

    python -m bench.server_profile [--route warden_jwt_stateless_cold] [--handshakes 10000]

``bench.handshake_parts`` times warden's steps in a hot loop; this asks the server. It starts the
bench project on uvicorn (as the handshake benchmark does, no pinning), opens ``--handshakes``
handshakes of the no-auth baseline and then of the route, 16 at a time, while ``py-spy`` (the
``bench`` dependency group) samples the server at 1 kHz, and prints the sampled CPU per handshake,
split by the innermost frame on the stack that belongs to one of three owners:

* **warden**: ``channels_warden``, PyJWT, SimpleJWT, and what they call in the server (the
  frames written under ``Connection.send``);
* **application**: Channels, asgiref, Django and the bench consumer;
* **server and event loop**: neither is on the stack (uvicorn, websockets, asyncio, threads).

Then the warden functions that were innermost most often, and the server functions whose share
grew most over the baseline's. Quoted in ``bench/NOTES.md``; needs ptrace (root, or
``kernel.yama.ptrace_scope=0``).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.credentials import Pools

WARDEN = ("channels_warden/", "jwt/", "rest_framework_simplejwt/")
APPLICATION = ("channels/", "asgiref/", "django/", "bench/")
CONCURRENCY = 16
_FRAME = re.compile(r"^(?P<function>.*) \((?P<path>.*?)(?::\d+)?\)$")


def owner(frame: str) -> str | None:
    """``warden``, ``application`` or ``None`` for one py-spy frame, ``function (path:line)``."""
    match = _FRAME.match(frame)
    path = "/" + (match.group("path") if match else frame)
    if any(f"/{part}" in path for part in WARDEN):
        return "warden"
    if any(f"/{part}" in path for part in APPLICATION):
        return "application"
    return None


def _name(frame: str) -> str:
    match = _FRAME.match(frame)
    return f"{match.group('function')} ({match.group('path')})" if match else frame


def split(raw: str, handshakes: int) -> dict[str, collections.Counter[str]]:
    """Sampled µs per handshake (at 1 kHz a sample is 1 ms) by owner, and by innermost function."""
    owners: collections.Counter[str] = collections.Counter()
    warden: collections.Counter[str] = collections.Counter()
    server: collections.Counter[str] = collections.Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames, micros = stack.split(";"), int(count) * 1000 / handshakes
        found = next(((who, frame) for frame in reversed(frames) if (who := owner(frame))), None)
        if found is None:
            owners["server and event loop"] += micros
            server[_name(frames[-1])] += micros
        else:
            owners[found[0]] += micros
            if found[0] == "warden":
                warden[_name(found[1])] += micros
    return {"owners": owners, "warden": warden, "server": server}


def _py_spy() -> str:
    found = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if found is None:
        raise SystemExit(
            "py-spy is not installed: it is in the bench dependency group (make bench installs it)"
        )
    return found


def profile(route: str, handshakes: int, workdir: Path, pools: Pools) -> str:
    """py-spy's raw samples of a uvicorn while it serves ``handshakes`` handshakes of ``route``."""
    from bench.client import run_handshakes
    from bench.configs import BY_NAME
    from bench.credentials import fresh_attempts
    from bench.servers import start_server

    config = BY_NAME[route]
    server = start_server("uvicorn", workdir, {})
    output = workdir / f"{route}.txt"
    try:
        warm_up = fresh_attempts(config, server.port, pools, 200, None)  # imports, caches, warm tokens
        asyncio.run(run_handshakes(server.port, warm_up, CONCURRENCY))
        attempts = fresh_attempts(config, server.port, pools, handshakes, None)
        command = [_py_spy(), "record", "--pid", str(server.pid), "--rate", "1000", "--format", "raw"]
        spy = subprocess.Popen(
            [*command, "--gil", "--nonblocking", "--output", str(output)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        time.sleep(1.0)  # py-spy attaches
        batch = asyncio.run(run_handshakes(server.port, attempts, CONCURRENCY))
        spy.send_signal(signal.SIGINT)  # py-spy writes its profile and exits
        _, errors = spy.communicate(timeout=60)
        if batch.failures:
            raise SystemExit(f"{route}: {len(batch.failures)} handshakes failed, first: {batch.failures[0]}")
        if not output.exists():
            raise SystemExit(f"py-spy wrote no profile: {errors.decode(errors='replace')[-2000:]}")
        return output.read_text()
    finally:
        server.stop()


def report(route: str, handshakes: int, baseline: str, measured: str, top: int) -> list[str]:
    base, ours = split(baseline, handshakes), split(measured, handshakes)
    lines = [
        f"{route} on uvicorn, {handshakes} handshakes, {CONCURRENCY} in flight; sampled µs per handshake:"
    ]
    lines.append(f"  {'':24}{'baseline':>10}{route:>30}")
    for who in ("warden", "application", "server and event loop"):
        lines.append(f"  {who:24}{base['owners'][who]:10.1f}{ours['owners'][who]:30.1f}")
    total_base, total_ours = sum(base["owners"].values()), sum(ours["owners"].values())
    lines.append(f"  {'total':24}{total_base:10.1f}{total_ours:30.1f}")
    lines.append("warden functions, innermost (µs per handshake):")
    lines += [f"  {micros:7.1f}  {name}" for name, micros in ours["warden"].most_common(top)]
    grew = {name: ours["server"][name] - base["server"][name] for name in ours["server"]}
    lines.append("server functions that grew most over the baseline (µs per handshake, baseline → route):")
    lines += [
        f"  {delta:+7.1f}  {name} ({base['server'][name]:.1f} → {ours['server'][name]:.1f})"
        for name, delta in sorted(grew.items(), key=lambda item: -item[1])[:top]
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.server_profile")
    parser.add_argument("--route", default="warden_jwt_stateless_cold")
    parser.add_argument("--handshakes", type=int, default=10_000)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args(argv)
    if args.handshakes < 1:
        parser.error("--handshakes must be positive")
    from bench.configs import BY_NAME

    if args.route not in BY_NAME or BY_NAME[args.route].credential == "ticket":
        parser.error(
            "--route must be a bench route other than warden_ticket (the run mints tickets): "
            + ", ".join(sorted(BY_NAME))
        )
    _py_spy()
    from bench.credentials import Pools, seed
    from bench.runner import setup_django

    workdir = Path(tempfile.mkdtemp(prefix="warden-profile-"))
    setup_django(workdir)
    fresh_users = 2 * (args.handshakes + 200) if BY_NAME[args.route].credential == "drf" else 0
    pools = Pools(seed(64 + fresh_users))
    baseline = profile("baseline", args.handshakes, workdir, pools)
    measured = profile(args.route, args.handshakes, workdir, pools)
    print("\n".join(report(args.route, args.handshakes, baseline, measured, args.top)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
