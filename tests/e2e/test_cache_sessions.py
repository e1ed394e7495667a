"""Sessions in the server's own memory (``SESSION_ENGINE`` "cache" on a local-memory cache).

With the user cached, warden reads such a session on the event loop, without a thread hop
(tests/test_authenticators_session.py proves the hop is gone). Here a real uvicorn keeps its
sessions in its local memory: a login over HTTP creates one, handshakes on the ``/cached-session/``
profile are admitted again and again, and logout both closes the open socket and gets the next
handshake refused, although every check after the first ran from the server's memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from .client import WsClient
from .conftest import LiveServer, start_server
from .helpers import assert_refused, create_user
from .lifecycle import Sockets, disconnect_frame, login, post, session_cookie, watch, whoami

pytestmark = pytest.mark.django_db(transaction=True)

PATH = "/cached-session/ws/echo/"


@pytest.fixture(scope="module")
def memory_sessions(server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server of the same kind whose sessions live in its local-memory cache."""
    from django.conf import settings

    directory = tmp_path_factory.mktemp(f"cache-sessions-{server.kind}")
    live = start_server(
        server.kind,
        directory / "server.log",
        env={
            "WARDEN_TEST_DB": str(settings.DATABASES["default"]["NAME"]),
            "WARDEN_TEST_SESSION_ENGINE": "django.contrib.sessions.backends.cache",
        },
    )
    yield live
    live.stop()


@pytest.fixture
async def sockets() -> AsyncIterator[Sockets]:
    pool = Sockets()
    yield pool
    await pool.close_all()


async def test_a_memory_session_is_admitted_until_logout(
    memory_sessions: LiveServer, sockets: Sockets, make_user: Any
) -> None:
    """Admitted three times (the first loads the user, the next ones run from memory); logout ends it."""
    await create_user(make_user, "cache-alice")
    key = await login(memory_sessions, "cache-alice")
    client = WsClient(memory_sessions)
    outcomes = [await client.handshake(PATH, headers=[session_cookie(key)]) for _ in range(3)]
    assert [outcome.whoami["user"] for outcome in outcomes] == ["cache-alice"] * 3
    assert {outcome.whoami["authenticator"] for outcome in outcomes} == {"session"}
    socket = await sockets.session(memory_sessions, PATH, key)
    assert (await whoami(socket))["user"] == "cache-alice"
    watcher = watch(socket)
    reply = await post(memory_sessions, "/logout/", cookies={"sessionid": key})
    assert reply.status == 200
    end = await watcher
    assert (end.frame, end.code) == (disconnect_frame(4499, "logout"), 4499)
    assert_refused(await client.handshake(PATH, headers=[session_cookie(key)]), 4401)


async def test_a_forged_key_is_refused_from_memory(memory_sessions: LiveServer, make_user: Any) -> None:
    """A key the server never issued is refused (4401), with a real session alongside in its cache."""
    await create_user(make_user, "cache-bob")
    real = await login(memory_sessions, "cache-bob")
    client = WsClient(memory_sessions)
    assert (await client.handshake(PATH, headers=[session_cookie(real)])).whoami["user"] == "cache-bob"
    forged = "x" * len(real)
    assert_refused(await client.handshake(PATH, headers=[session_cookie(forged)]), 4401)
