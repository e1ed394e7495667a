"""Real ASGI servers (uvicorn and daphne) serving ``tests.project.asgi`` on 127.0.0.1.

Every test that takes the ``server`` fixture runs once per server. The servers share the test
database file, so tests that write rows use ``transactional_db`` (committed, then flushed).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .client import WsClient

ROOT = Path(__file__).resolve().parents[2]
SERVERS = ("uvicorn", "daphne")
START_TIMEOUT = float(os.environ.get("WARDEN_SERVER_START_TIMEOUT", "30"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.e2e)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_command(kind: str, port: int, app: str = "tests.project.asgi:application") -> list[str]:
    if kind == "uvicorn":
        return [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    if kind == "daphne":
        return [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), app]
    raise ValueError(kind)


@dataclass
class LiveServer:
    """A server process and where its output goes."""

    kind: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_server(
    kind: str,
    log_path: Path,
    env: dict[str, str] | None = None,
    *,
    app: str = "tests.project.asgi:application",
    cwd: Path = ROOT,
) -> LiveServer:
    """Start ``kind`` serving ``app`` from ``cwd`` on a free port; wait until it accepts TCP connections.

    ``env`` is laid over this process's environment and the defaults (``tests.settings``).
    """
    port = free_port()
    full_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")]),
        # Tests read the log while the server runs (daphne's access log goes to a buffered stdout).
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            server_command(kind, port, app), cwd=cwd, env=full_env, stdout=log, stderr=subprocess.STDOUT
        )
    server = LiveServer(kind, port, process, log_path)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{kind} exited with {process.returncode}:\n{server.log()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"{kind} did not listen on {port} within {START_TIMEOUT}s:\n{server.log()}")


@pytest.fixture(scope="session", params=SERVERS)
def server(
    request: pytest.FixtureRequest, django_db_setup: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A real server over the test database, started once per session and kind."""
    from django.conf import settings

    log_path = tmp_path_factory.mktemp(request.param) / "server.log"
    db_name = str(settings.DATABASES["default"]["NAME"])
    live = start_server(request.param, log_path, env={"WARDEN_TEST_DB": db_name})
    yield live
    live.stop()


@pytest.fixture
def ws(server: LiveServer) -> WsClient:
    """A WebSocket client for the current server."""
    return WsClient(server)


FIGURES = pytest.StashKey[list[str]]()


@pytest.fixture
def report_figure(request: pytest.FixtureRequest) -> Any:
    """Record a measured figure (a latency, a delay) to be printed in the terminal summary."""

    def report(line: str) -> None:
        request.config.stash.setdefault(FIGURES, []).append(f"{request.node.nodeid}: {line}")

    return report


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    figures = config.stash.get(FIGURES, [])
    if figures:
        terminalreporter.section("measured figures")
        for line in figures:
            terminalreporter.write_line(line)
