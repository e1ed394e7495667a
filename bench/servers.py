"""Server processes of a run: uvicorn, daphne and redis-server on 127.0.0.1, pinned to the server core.

The runner pins itself (the load generator) to core 0 and starts every server with
``taskset -c 1``, so client and server never share a core. Servers get the highest file-descriptor
limit the machine allows (the ``ulimit -n`` of the child), for the 10k idle connections.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
APP = "bench.project.asgi:application"
START_TIMEOUT = 60.0
STOP_GRACE_SECONDS = 2.0
CLIENT_CORE, SERVER_CORE = 0, 1


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds_from_stat(stat: str, ticks_per_second: int) -> float:
    """``utime + stime`` of a ``/proc/<pid>/stat`` line, in seconds.

    The command name (field 2) is in parentheses and may itself hold spaces or parentheses, so
    fields are counted from the last ``)``: state is field 3, ``utime`` 14 and ``stime`` 15.
    """
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / ticks_per_second


def can_pin() -> bool:
    return (os.cpu_count() or 1) >= 2 and hasattr(os, "sched_setaffinity")


def pin_client() -> list[int] | None:
    """Pin this process (the load generator) to the client core; ``None`` on a one-core machine."""
    if not can_pin():
        return None
    os.sched_setaffinity(0, {CLIENT_CORE})
    return sorted(os.sched_getaffinity(0))


def raise_fd_limit() -> int:
    """Raise this process's open-file limit to the hard limit; return the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _pinned(command: list[str]) -> list[str]:
    taskset = shutil.which("taskset")
    if taskset is None or not can_pin():
        return command
    return [taskset, "-c", str(SERVER_CORE), *command]


def server_command(kind: str, port: int, *, ping_interval: float | None = None) -> list[str]:
    """The command line of one server (without pinning)."""
    if kind == "uvicorn":
        command = [
            sys.executable, "-m", "uvicorn", APP, "--host", "127.0.0.1", "--port", str(port),
            "--no-access-log", "--log-level", "warning", "--lifespan", "off",
        ]  # fmt: skip
        if ping_interval is not None:
            command += ["--ws-ping-interval", str(ping_interval)]
        return command
    if kind == "daphne":
        command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "-v", "0"]
        if ping_interval is not None:
            command += ["--ping-interval", str(int(ping_interval))]
        return [*command, APP]
    raise ValueError(f"unknown server {kind!r}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@dataclass
class Process:
    """A started process and where its output goes."""

    kind: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def rss_bytes(self) -> int:
        """Resident set size, from ``/proc`` (``taskset`` execs the server, so the pid is the server's)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError(f"no VmRSS for pid {self.pid}")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server so far (all its threads), from ``/proc/<pid>/stat``."""
        return cpu_seconds_from_stat(Path(f"/proc/{self.pid}/stat").read_text(), CLOCK_TICKS)

    async def settled_cpu_seconds(self, step: float = 0.02, limit: float = 0.5) -> float:
        """The server's CPU time once it has gone idle (two reads ``step`` apart agree), or after ``limit``.

        Read around a timed batch, it makes sure the batch's teardown (and, before it, untimed work
        such as priming warm tokens or minting tickets) is counted where it belongs.
        """
        deadline = time.monotonic() + limit
        last = self.cpu_seconds()
        while True:
            await asyncio.sleep(step)
            now = self.cpu_seconds()
            if now == last or time.monotonic() >= deadline:
                return now
            last = now

    def stop(self) -> None:
        """Terminate; kill after a short grace period (nothing in a bench server needs a clean exit).

        A uvicorn on channels_redis sometimes waits for background tasks far longer after a
        revocation, and the run should not wait with it.
        """
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _start(
    kind: str,
    port: int,
    command: list[str],
    env: dict[str, str],
    log_path: Path,
    start_timeout: float = START_TIMEOUT,
) -> Process:
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            _pinned(command),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=raise_fd_limit,
        )
    started = Process(kind, port, process, log_path)
    deadline = time.monotonic() + start_timeout
    while not _listening(port):
        if process.poll() is not None or time.monotonic() > deadline:
            started.stop()
            raise RuntimeError(f"{kind} did not start on port {port}:\n{started.log()[-4000:]}")
        time.sleep(0.05)
    return started


def start_server(
    kind: str,
    workdir: Path,
    env: dict[str, str],
    *,
    ping_interval: float | None = None,
    prefix: list[str] | None = None,
    start_timeout: float = START_TIMEOUT,
) -> Process:
    """Start ``kind`` serving the bench project; return once it accepts TCP connections.

    ``prefix`` runs the server under another program (``valgrind --tool=callgrind ...``).
    """
    port = free_port()
    full_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.project.settings",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")]),
        "PYTHONUNBUFFERED": "1",
        **env,
    }
    log_path = workdir / f"{kind}-{port}.log"
    command = [*(prefix or []), *server_command(kind, port, ping_interval=ping_interval)]
    return _start(kind, port, command, full_env, log_path, start_timeout)


def start_redis(workdir: Path) -> Process | None:
    """A ``redis-server`` of our own on a free port, without persistence; ``None`` if not installed."""
    binary = shutil.which("redis-server")
    if binary is None:
        return None
    port = free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    return _start("redis", port, command, dict(os.environ), workdir / f"redis-{port}.log")


async def http(port: int, method: str, target: str) -> Any:
    """One HTTP request to a bench endpoint; the decoded JSON body (raises on non-200)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        response = await asyncio.wait_for(reader.read(), 30)
    finally:
        writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    if head[:8] not in (b"HTTP/1.0", b"HTTP/1.1") or head[9:12] != b"200":
        raise RuntimeError(f"{method} {target}: {head[:200]!r} {body[:500]!r}")
    if b"transfer-encoding: chunked" in head.lower():
        body = _dechunk(body)
    return json.loads(body)


def _dechunk(body: bytes) -> bytes:
    """A chunked body joined (Django sets no Content-Length without its middleware)."""
    chunks = []
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        chunks.append(rest[:size])
        body = rest[size + 2 :]
    return b"".join(chunks)
