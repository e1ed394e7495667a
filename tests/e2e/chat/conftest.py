"""The chat of the example project on real servers.

- ``chat_server``: the example on uvicorn and on daphne (every protocol test runs on both), each
  with its own SQLite copy of one migrated and seeded database.
- ``http_server``: the uvicorn one, for tests of the HTTP API and the terminal client.
- ``chat_cluster``: two uvicorn processes sharing a ``redis-server`` started here (channel layer and
  cache) and a PostgreSQL database created for this run and dropped after it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..conftest import SERVERS, LiveServer, free_port
from ..example_project import copy_database, demo_env, manage, migrated_sqlite, start_example
from ..multiprocess.conftest import RedisServer
from .support import ChatServer, PostgresDatabase, Sockets, SqliteDatabase

POSTGRES_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=5"
#: Seconds a dead process's sockets stay in presence, in the cluster (the default is 60).
CLUSTER_LEASE = 2


class ServerPool:
    """Example servers started on first use and stopped at the end of the session."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.tmp_path_factory = tmp_path_factory
        self.servers: dict[str, ChatServer] = {}
        self._seeded: Path | None = None

    def seeded(self) -> Path:
        if self._seeded is None:
            directory = self.tmp_path_factory.mktemp("chat-seeded")
            self._seeded = copy_database(migrated_sqlite(self.tmp_path_factory), directory)
            manage(self._seeded, "seed_demo")
        return self._seeded

    def get(self, kind: str) -> ChatServer:
        if kind not in self.servers:
            directory = self.tmp_path_factory.mktemp(f"chat-{kind}")
            db_path = copy_database(self.seeded(), directory)
            live = start_example(kind, directory, demo_env(db_path))
            self.servers[kind] = ChatServer(live, SqliteDatabase(db_path))
        return self.servers[kind]

    def stop(self) -> None:
        for server in self.servers.values():
            server.live.stop()


@pytest.fixture(scope="session")
def chat_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerPool]:
    pool = ServerPool(tmp_path_factory)
    yield pool
    pool.stop()


@pytest.fixture(scope="session", params=SERVERS)
def chat_server(request: pytest.FixtureRequest, chat_servers: ServerPool) -> ChatServer:
    """The example served by uvicorn, then by daphne."""
    return chat_servers.get(request.param)


@pytest.fixture(scope="session")
def http_server(chat_servers: ServerPool) -> ChatServer:
    """The example served by uvicorn."""
    return chat_servers.get("uvicorn")


@pytest.fixture
async def sockets() -> AsyncIterator[Sockets]:
    pool = Sockets()
    yield pool
    await pool.close_all()


# The cluster -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database of its own, created on 127.0.0.1:5432 and dropped at the end."""
    import psycopg
    from psycopg import sql

    name = f"warden_chat_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at 127.0.0.1:5432 as user postgres ({exc}). The chat's "
            "multi-process tests need it: start it (.ci/run shows how) and run the tests again.",
            pytrace=False,
        )
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"postgres://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@dataclass
class ChatCluster:
    """Processes ``a`` and ``b`` of the example on one Redis and one PostgreSQL database."""

    a: ChatServer
    b: ChatServer
    env: dict[str, str]
    directory: Path

    def start_another(self, name: str) -> ChatServer:
        directory = self.directory / name
        directory.mkdir()
        return ChatServer(start_example("uvicorn", directory, self.env), self.a.db)


@pytest.fixture(scope="session")
def chat_cluster(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChatCluster]:
    directory = tmp_path_factory.mktemp("chat-cluster")
    redis = RedisServer(free_port(), directory / "redis.log")
    redis.start()
    started: list[LiveServer] = []
    try:
        manage(postgres_url, "migrate", "--noinput")
        manage(postgres_url, "seed_demo")
        env = demo_env(postgres_url, REDIS_URL=redis.url, CHAT_PRESENCE_LEASE=str(CLUSTER_LEASE))
        db = PostgresDatabase(postgres_url.replace("postgres://", "postgresql://", 1))
        for name in ("a", "b"):
            (directory / name).mkdir()
            started.append(start_example("uvicorn", directory / name, env))
        yield ChatCluster(ChatServer(started[0], db), ChatServer(started[1], db), env, directory)
    finally:
        for live in started:
            live.stop()
        redis.stop()
