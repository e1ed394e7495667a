"""What an idle socket holds: tracemalloc snapshots around N held connections, per allocation site.

    python -m bench.memory_sites [--connections 1000] [--route warden_jwt_stateless_cold] [--top 15]

Drives the bench server's ASGI application in process (no server, no sockets): each connection is
a task that receives ``websocket.connect`` and one echo frame, then waits. The difference between
a snapshot before and after opening them, divided by their number, is what each one costs, by the
line that allocated it. The same is done for the plain consumer (``baseline``), so warden's share
is the difference. Its output is quoted in ``bench/NOTES.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import tempfile
import tracemalloc
from pathlib import Path
from typing import Any

from bench.configs import BY_NAME


def setup_in_process() -> Any:
    os.environ.setdefault("WARDEN_BENCH_DB", str(Path(tempfile.mkdtemp()) / "bench.sqlite3"))
    os.environ["WARDEN_BENCH_NO_CHANNEL_LAYER"] = "1"
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.project.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from bench.project.asgi import application

    return application


def scope_for(route: str, token: str | None, number: int) -> dict[str, Any]:
    """The ASGI scope uvicorn would send for the bench client of ``route`` presenting ``token``."""
    from bench.credentials import presented

    config = BY_NAME[route]
    sent, query, _ = presented(config, token)
    headers = [
        (b"host", b"127.0.0.1:8000"),
        *((name.lower().encode(), value.encode()) for name, value in sent),
    ]
    return {
        "type": "websocket",
        "path": config.path,
        "raw_path": config.path.encode(),
        "query_string": query.encode(),
        "headers": headers,
        "client": ("127.0.0.1", 40000 + number % 20000),
        "server": ("127.0.0.1", 8000),
        "subprotocols": [],
        "scheme": "ws",
        "asgi": {"version": "3.0"},
    }


async def _hold(application: Any, route: str, tokens: list[str | None]) -> tuple[list[Any], list[Any]]:
    """Open one connection per token; return the tasks and their inboxes (kept alive by the caller)."""
    tasks, inboxes = [], []
    for number, token in enumerate(tokens):
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        accepted = asyncio.Event()
        inbox.put_nowait({"type": "websocket.connect"})
        inbox.put_nowait({"type": "websocket.receive", "text": '{"type":"chat.message"}'})

        async def send(message: dict[str, Any], accepted: asyncio.Event = accepted) -> None:
            if message["type"] == "websocket.send":
                accepted.set()
            elif message["type"] == "websocket.close":
                raise RuntimeError(f"refused: {message}")

        task = asyncio.ensure_future(application(scope_for(route, token, number), inbox.get, send))
        await asyncio.wait_for(accepted.wait(), 10)
        tasks.append(task)
        inboxes.append(inbox)
    return tasks, inboxes


def secrets_for(route: str, count: int, seeded: Any) -> list[str | None]:
    from bench.credentials import jwt_for

    credential = BY_NAME[route].credential
    if credential == "none":
        return [None] * count
    if credential == "session":
        return [seeded.session_keys[n % len(seeded.session_keys)] for n in range(count)]
    if credential == "session_signed":
        return [seeded.signed_sessions[n % len(seeded.signed_sessions)] for n in range(count)]
    if credential == "drf":
        return [seeded.drf_keys[n % len(seeded.drf_keys)] for n in range(count)]
    return [jwt_for(seeded.user_ids[n % len(seeded.user_ids)]) for n in range(count)]


async def measure(application: Any, route: str, count: int, seeded: Any) -> dict[str, float]:
    """Bytes per connection by allocation site (``file:line``), with the total under ``"total"``."""
    tokens = secrets_for(route, count, seeded)
    warm_tasks, warm_inboxes = await _hold(application, route, tokens[:20])  # imports, caches, firsts
    for inbox in warm_inboxes:
        inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
    await asyncio.gather(*warm_tasks, return_exceptions=True)
    gc.collect()
    before = tracemalloc.take_snapshot()
    tasks, inboxes = await _hold(application, route, tokens)
    gc.collect()
    after = tracemalloc.take_snapshot()
    sites: dict[str, float] = {}
    for stat in after.compare_to(before, "lineno"):
        frame = stat.traceback[0]
        name = frame.filename.split("site-packages/")[-1].split("/src/")[-1].split("python3.11/")[-1]
        sites[f"{name}:{frame.lineno}"] = sites.get(f"{name}:{frame.lineno}", 0) + stat.size_diff / count
    sites["total"] = sum(sites.values())
    for inbox in inboxes:
        inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
    await asyncio.gather(*tasks, return_exceptions=True)
    return sites


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory_sites")
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--route", default="warden_jwt_stateless_cold")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)
    application = setup_in_process()
    from bench.credentials import seed

    seeded = seed(max(args.connections, 600))
    tracemalloc.start(1)
    plain = asyncio.run(measure(application, "baseline", args.connections, seeded))
    warden = asyncio.run(measure(application, args.route, args.connections, seeded))
    print(f"baseline: {plain['total']:.0f} B per connection; {args.route}: {warden['total']:.0f} B")
    print(f"extra per connection: {warden['total'] - plain['total']:+.0f} B; by site (warden - baseline):")
    extra = {site: warden.get(site, 0) - plain.get(site, 0) for site in set(warden) | set(plain)}
    extra.pop("total")
    for site, size in sorted(extra.items(), key=lambda item: -abs(item[1]))[: args.top]:
        print(f"  {size:+8.1f} B  {site}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
