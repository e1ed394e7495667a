"""A failing database fails closed (4500) and the server keeps serving.

A second server of the same kind runs with ``WARDEN_TEST_DB`` (see ``tests/settings.py``) naming a file
in a directory that does not exist, so every query raises SQLite's real ``OperationalError: unable to
open database file``. Nothing is mocked: the failure happens where a dead database server would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings

from channels_warden.testing import CredentialKind

from .client import WsClient
from .conftest import LiveServer, start_server
from .helpers import assert_refused, create_user, disconnect, mint

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def broken_db_server(server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server of the same kind as ``server`` whose database cannot be opened."""
    directory = tmp_path_factory.mktemp(f"broken-db-{server.kind}")
    unopenable = directory / "no-such-directory" / "db.sqlite3"
    live = start_server(server.kind, directory / "server.log", env={"WARDEN_TEST_DB": str(unopenable)})
    yield live
    live.stop()


@pytest.fixture
def broken(broken_db_server: LiveServer) -> WsClient:
    return WsClient(broken_db_server)


async def credential_headers(make_user: Any, kind: CredentialKind) -> list[tuple[str, str]]:
    user = await create_user(make_user)
    secret = await mint(user, kind)
    if kind == "session":
        return [("Cookie", f"{settings.SESSION_COOKIE_NAME}={secret}")]
    return [("Authorization", f"{'Token' if kind == 'drf' else 'Bearer'} {secret}")]


@pytest.mark.parametrize("kind", ["session", "jwt", "drf"])
async def test_database_failure_closes_with_4500(
    broken: WsClient, make_user: Any, kind: CredentialKind
) -> None:
    """A credential whose check needs the database gets 4500 ``internal``/``backoff`` when it is down."""
    outcome = await broken.handshake("/ws/echo/", headers=await credential_headers(make_user, kind))
    assert_refused(outcome, 4500)


async def test_database_failure_is_logged_without_the_secret(broken: WsClient, make_user: Any) -> None:
    """The server log records the failure and the OperationalError, but not the token."""
    headers = await credential_headers(make_user, "drf")
    assert_refused(await broken.handshake("/ws/room/fail-closed-log/", headers=headers), 4500)
    log = broken.server.log()
    assert "authentication of websocket /ws/room/fail-closed-log/ failed" in log
    assert "unable to open database file" in log
    assert headers[0][1].split()[1] not in log


async def test_database_failure_in_deny_mode(broken: WsClient, make_user: Any) -> None:
    """Under ``/deny/`` the failure is an HTTP 500 with the JSON body on uvicorn, daphne's plain 403."""
    outcome = await broken.handshake("/deny/ws/echo/", headers=await credential_headers(make_user, "drf"))
    assert outcome.whoami is None
    if broken.server.kind == "uvicorn":
        assert outcome.status == 500
        assert json.loads(outcome.body) == disconnect(4500)
        assert "www-authenticate" not in outcome.response_headers
    else:
        assert (outcome.status, outcome.body) == (403, b"")


async def test_server_keeps_serving_after_database_failures(broken: WsClient, make_user: Any) -> None:
    """After 4500s the same server still serves: a stateless JWT (no query) is admitted, nothing gets 4401."""
    headers = await credential_headers(make_user, "jwt")
    assert_refused(await broken.handshake("/ws/echo/", headers=headers), 4500)
    assert broken.server.process.poll() is None
    outcome = await broken.handshake("/stateless/ws/echo/", headers=headers)
    assert outcome.whoami is not None
    assert outcome.whoami["authenticator"] == "simplejwt"
    assert_refused(await broken.handshake("/ws/echo/"), 4401)


async def test_healthy_server_admits_after_the_other_failed(
    broken: WsClient, ws: Any, make_user: Any
) -> None:
    """The same credential refused with 4500 by the broken server is admitted by the healthy one."""
    headers = await credential_headers(make_user, "session")
    assert_refused(await broken.handshake("/ws/echo/", headers=headers), 4500)
    outcome = await ws.handshake("/ws/echo/", headers=headers)
    assert outcome.whoami is not None
    assert outcome.whoami["user"] == "alice"
