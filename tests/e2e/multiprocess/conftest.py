"""Two uvicorn processes sharing one real Redis (channel layer and cache) and the test database.

The session starts its own ``redis-server`` on a free port, so the suite needs no Redis service and
never touches one it did not start. A test may stop Redis (an outage) or kill a server; the fixtures
restart Redis for the tests that follow and stop every process they started.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ..conftest import LiveServer, free_port, start_server

REDIS_BINARY = "redis-server"
START_TIMEOUT = 10.0
RECONNECT_TIMEOUT = 10.0
RECONNECTED = "revocation listener reconnected"
LOST = "revocation listener lost the channel layer"


def redis_binary() -> str:
    """The ``redis-server`` executable; the suite fails (never skips) without it."""
    found = shutil.which(REDIS_BINARY) or shutil.which("/usr/bin/redis-server")
    if found is None:
        pytest.fail(
            "redis-server is not installed, and the multi-process tests need a real Redis: install it "
            "(apt-get install redis-server, as .ci/run does) and run the tests again.",
            pytrace=False,
        )
    return found


def answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class RedisServer:
    """A ``redis-server`` of our own on a fixed port, with no persistence; restartable on that port."""

    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        command = [
            redis_binary(),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while not answers_ping(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not start on {self.port}:\n{self.log_path.read_text()}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Kill the server, as a crash would (no graceful shutdown)."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self.process = None


@dataclass
class Cluster:
    """Server processes ``a`` and ``b`` and the environment that points anything at the same services."""

    a: LiveServer
    b: LiveServer
    env: dict[str, str]
    redis: RedisServer


@pytest.fixture(scope="session")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(free_port(), tmp_path_factory.mktemp("redis") / "redis.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def cluster(
    django_db_setup: Any, redis: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    """Two uvicorn processes on the test database and the session's Redis."""
    from django.conf import settings

    env = {"WARDEN_TEST_DB": str(settings.DATABASES["default"]["NAME"]), "WARDEN_TEST_REDIS_URL": redis.url}
    a = start_server("uvicorn", tmp_path_factory.mktemp("process-a") / "server.log", env)
    try:
        b = start_server("uvicorn", tmp_path_factory.mktemp("process-b") / "server.log", env)
    except BaseException:
        a.stop()
        raise
    yield Cluster(a, b, env, redis)
    b.stop()
    a.stop()


def logged(server: LiveServer, text: str, after: int, timeout: float) -> bool:
    """Whether ``text`` appears in the server's log beyond character ``after`` within ``timeout``."""
    deadline = time.monotonic() + timeout
    while text not in server.log()[after:]:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def wait_for_log(server: LiveServer, text: str, after: int, timeout: float = RECONNECT_TIMEOUT) -> None:
    """Wait until ``text`` appears in the server's log beyond character ``after``."""
    if not logged(server, text, after, timeout):
        raise AssertionError(
            f"{text!r} not in the {server.kind} log within {timeout}s:\n{server.log()[after:]}"
        )


@pytest.fixture(autouse=True)
def redis_restored(cluster: Cluster) -> Iterator[None]:
    """After a test that left Redis stopped, restart it and wait until every listener rejoined."""
    offsets = [(server, len(server.log())) for server in (cluster.a, cluster.b)]
    yield
    if cluster.redis.running:
        return
    cluster.redis.start()
    for server, since in offsets:
        if logged(server, LOST, since, timeout=1):  # a listener runs there and noticed the outage
            wait_for_log(server, RECONNECTED, since)


@pytest.fixture
def extra_server(cluster: Cluster, tmp_path: Path) -> Iterator[Callable[[], LiveServer]]:
    """Start more uvicorn processes on the same services; each is stopped (or reaped) after the test."""
    started: list[LiveServer] = []

    def start() -> LiveServer:
        server = start_server("uvicorn", tmp_path / f"extra-{len(started)}.log", cluster.env)
        started.append(server)
        return server

    yield start
    for server in started:
        if server.process.poll() is None:
            server.stop()
        else:
            server.process.wait()
