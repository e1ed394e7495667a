"""The demo project (``example/``) run the way ``make demo`` runs it, against a real server.

Each server kind gets its own SQLite file, migrated and seeded by ``manage.py`` in subprocesses, and
serves ``chatsite.asgi:application`` from ``example/`` with ``chatsite.settings``. The tests sign in
over HTTP like a browser or a terminal client would, then talk to ``/ws/echo/``.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from .conftest import SERVERS, LiveServer
from .example_project import (
    PASSWORD,
    TIMEOUT,
    copy_database,
    demo_env,
    manage,
    migrated_sqlite,
    start_example,
)

#: An Origin the demo server is told to trust through WARDEN_ALLOWED_ORIGINS.
CONFIGURED_ORIGIN = "http://app.example:3000"
_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def usernames(db_path: Path) -> list[tuple[str, int]]:
    """``(username, is_active)`` of every user in the database, in order."""
    with contextlib.closing(sqlite3.connect(db_path)) as db:
        return db.execute("SELECT username, is_active FROM auth_user ORDER BY username").fetchall()


@pytest.fixture(scope="module")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty demo database; tests copy it rather than migrate again."""
    return migrated_sqlite(tmp_path_factory)


@pytest.fixture
def fresh_db(migrated_db: Path, tmp_path: Path) -> Path:
    """A private copy of the migrated database."""
    return copy_database(migrated_db, tmp_path)


@pytest.fixture(scope="module", params=SERVERS)
def demo(
    request: pytest.FixtureRequest, migrated_db: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The demo, seeded, served by a real server process."""
    directory = tmp_path_factory.mktemp(f"demo-{request.param}")
    db_path = copy_database(migrated_db, directory)
    manage(db_path, "seed_demo")
    env = demo_env(db_path, WARDEN_ALLOWED_ORIGINS=f"http://localhost:8000,{CONFIGURED_ORIGIN}")
    live = start_example(request.param, directory, env)
    yield live
    live.stop()


@dataclass
class Page:
    status: int
    headers: dict[str, str]
    body: str
    cookies: dict[str, str] = field(default_factory=dict)


def request(
    server: LiveServer,
    method: str,
    path: str,
    *,
    form: dict[str, str] | None = None,
    cookies: dict[str, str] | None = None,
) -> Page:
    """One HTTP request with no redirect following; returns the cookies the response sets."""
    headers = {}
    body = None
    if form is not None:
        body = urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if cookies:
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        jar: SimpleCookie = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or ():
            jar.load(header)
        return Page(
            status=response.status,
            headers={name.lower(): value for name, value in response.getheaders()},
            body=response.read().decode(),
            cookies={name: morsel.value for name, morsel in jar.items()},
        )
    finally:
        connection.close()


def sign_in(server: LiveServer, username: str, password: str = PASSWORD) -> str:
    """Sign in through the login form, as a browser does; return the session cookie's value."""
    page = request(server, "GET", "/")
    match = _CSRF_INPUT.search(page.body)
    assert match is not None, page.body
    form = {"csrfmiddlewaretoken": match.group(1), "username": username, "password": password}
    response = request(server, "POST", "/", form=form, cookies=page.cookies)
    assert response.status == 302, response.body
    return response.cookies["sessionid"]


def api_token(server: LiveServer, path: str, username: str, password: str = PASSWORD) -> dict[str, Any]:
    """POST a username and password to a token endpoint, as a terminal client does."""
    response = request(server, "POST", path, form={"username": username, "password": password})
    assert response.status == 200, response.body
    payload: dict[str, Any] = json.loads(response.body)
    return payload


@dataclass
class Reply:
    """What a client saw after sending one text frame."""

    frames: list[dict[str, Any]]
    subprotocol: str | None
    close_code: int | None


def say(
    server: LiveServer,
    text: str = "hello",
    *,
    origin: str | None = None,
    headers: Iterable[tuple[str, str]] = (),
    subprotocols: list[str] | None = None,
) -> Reply:
    """Open ``/ws/echo/``, send ``text``, and collect the answer (and the close, if warden closed)."""
    extra = list(headers)
    if origin is not None:
        extra.append(("Origin", origin))
    with connect(
        f"ws://127.0.0.1:{server.port}/ws/echo/",
        additional_headers=extra,
        subprotocols=subprotocols,  # type: ignore[arg-type]
        open_timeout=TIMEOUT,
        close_timeout=TIMEOUT,
    ) as socket:
        frames: list[dict[str, Any]] = []
        with contextlib.suppress(ConnectionClosed):
            # Sending fails when warden has closed already; its frame can still be read after that.
            socket.send(text)
        with contextlib.suppress(ConnectionClosed):
            frames.append(json.loads(socket.recv(timeout=TIMEOUT)))
            if frames[-1].get("type") == "warden.disconnect":
                socket.recv(timeout=TIMEOUT)  # returns only by raising, once the server has closed
        return Reply(frames, socket.subprotocol, socket.close_code)


def test_index_shows_anonymous_visitors_the_login_form(demo: LiveServer) -> None:
    """An anonymous GET / answers 200 with the login form and a CSRF cookie."""
    page = request(demo, "GET", "/")
    assert page.status == 200
    assert 'name="password"' in page.body
    assert "csrftoken" in page.cookies


def test_echo_module_is_served_under_uvicorn_and_daphne(demo: LiveServer) -> None:
    """The page's ES module is served without runserver."""
    page = request(demo, "GET", "/static/chat/echo.js")
    assert page.status == 200
    assert page.headers["content-type"] == "text/javascript"


def test_session_cookie_from_same_origin_page_echoes_as_alice(demo: LiveServer) -> None:
    """The session from the login form opens the socket from the server's own origin."""
    session = sign_in(demo, "alice")
    reply = say(demo, origin=f"http://127.0.0.1:{demo.port}", headers=[("Cookie", f"sessionid={session}")])
    assert reply.frames == [{"type": "echo", "user": "alice", "text": "hello"}]
    assert reply.close_code is None


def test_session_cookie_from_configured_origin_echoes(demo: LiveServer) -> None:
    """An Origin listed in WARDEN_ALLOWED_ORIGINS may use the session cookie."""
    session = sign_in(demo, "bob")
    reply = say(demo, origin=CONFIGURED_ORIGIN, headers=[("Cookie", f"sessionid={session}")])
    assert reply.frames == [{"type": "echo", "user": "bob", "text": "hello"}]


def test_session_cookie_from_foreign_origin_is_closed_with_4403(demo: LiveServer) -> None:
    """A valid session cookie sent from an untrusted Origin gets the 4403 frame and close."""
    session = sign_in(demo, "alice")
    reply = say(demo, origin="http://evil.example", headers=[("Cookie", f"sessionid={session}")])
    assert reply.frames == [
        {"type": "warden.disconnect", "code": 4403, "reason": "forbidden", "reconnect": "never"}
    ]
    assert reply.close_code == 4403


def test_no_credentials_is_closed_with_4401(demo: LiveServer) -> None:
    """A client with no credentials at all gets the 4401 frame and close."""
    reply = say(demo)
    assert reply.frames == [
        {"type": "warden.disconnect", "code": 4401, "reason": "unauthenticated", "reconnect": "refresh"}
    ]
    assert reply.close_code == 4401


def test_drf_token_from_api_in_header_echoes_without_origin(demo: LiveServer) -> None:
    """A DRF token from POST /api/auth/token/ works in the Authorization header with no Origin."""
    token = api_token(demo, "/api/auth/token/", "carol")["token"]
    reply = say(demo, headers=[("Authorization", f"Token {token}")])
    assert reply.frames == [{"type": "echo", "user": "carol", "text": "hello"}]


def test_jwt_from_api_in_subprotocol_echoes(demo: LiveServer) -> None:
    """A SimpleJWT access token from POST /api/auth/jwt/ works as the subprotocol credential."""
    access = api_token(demo, "/api/auth/jwt/", "bob")["access"]
    reply = say(demo, origin=CONFIGURED_ORIGIN, subprotocols=["warden", f"bearer.{access}"])
    assert reply.frames == [{"type": "echo", "user": "bob", "text": "hello"}]
    assert reply.subprotocol == "warden"


def test_wrong_password_gets_no_session(demo: LiveServer) -> None:
    """A wrong password re-renders the login form instead of redirecting."""
    page = request(demo, "GET", "/")
    match = _CSRF_INPUT.search(page.body)
    assert match is not None
    form = {"csrfmiddlewaretoken": match.group(1), "username": "alice", "password": "wrong"}
    response = request(demo, "POST", "/", form=form, cookies=page.cookies)
    assert response.status == 200
    assert "sessionid" not in response.cookies


def test_seed_demo_twice_is_safe(fresh_db: Path) -> None:
    """A second seed_demo resets the three users instead of failing or duplicating them."""
    first = manage(fresh_db, "seed_demo")
    second = manage(fresh_db, "seed_demo")
    assert first.splitlines()[:3] == ["created alice", "created bob", "created carol"]
    assert second.splitlines()[:3] == ["reset alice", "reset bob", "reset carol"]
    assert usernames(fresh_db) == [("alice", 1), ("bob", 1), ("carol", 1)]


def test_seed_demo_resets_password_and_reactivates(fresh_db: Path) -> None:
    """seed_demo --password P gives every user P and makes deactivated users active again."""
    manage(fresh_db, "seed_demo")
    with contextlib.closing(sqlite3.connect(fresh_db)) as db, db:
        db.execute("UPDATE auth_user SET is_active = 0 WHERE username = 'carol'")
    manage(fresh_db, "seed_demo", "--password", "another-pass")
    check = (
        "from django.contrib.auth import authenticate as a; "
        "print([bool(a(username=u, password=p)) for u in ('alice', 'bob', 'carol') "
        "for p in ('another-pass', 'warden-demo')])"
    )
    output = manage(fresh_db, "shell", "--no-imports", "-c", check)
    assert output.strip().splitlines()[-1] == str([True, False] * 3)
    assert usernames(fresh_db) == [("alice", 1), ("bob", 1), ("carol", 1)]
