"""Long-lived sockets and HTTP calls for the live-connection tests (expiry, refresh, revocation).

The one-shot :class:`~tests.e2e.client.WsClient` closes its socket after one ``whoami``; these tests
keep sockets open across steps, make Django events happen inside the server over HTTP, and watch
the sockets close. Everything here works for any object with a ``port`` and a ``url(path)``, so the
single-server and the multi-process suites share it.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from http.cookies import SimpleCookie
from typing import Any, Protocol

from channels.db import database_sync_to_async
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from .helpers import TABLE

TIMEOUT = 5.0
PASSWORD = "correct horse battery"  # make_user's default
ORIGIN = "http://testserver"

#: The close-code table of DESIGN.md for the codes of a live socket: code -> (reason, reconnect).
LIVE_TABLE = {
    **TABLE,
    4408: ("auth_timeout", "retry"),
    4409: ("replaced", "never"),
    4429: ("too_many", "backoff"),
    4498: ("token_expired", "refresh"),
    4499: ("revoked", "never"),
}


class Served(Protocol):
    port: int

    def url(self, path: str) -> str: ...


def disconnect_frame(code: int, reason: str | None = None, **extra: Any) -> dict[str, Any]:
    """The ``warden.disconnect`` frame a client must receive before close ``code``."""
    default_reason, reconnect = LIVE_TABLE[code]
    return {
        "type": "warden.disconnect",
        "code": code,
        "reason": reason or default_reason,
        "reconnect": reconnect,
        **extra,
    }


# HTTP ------------------------------------------------------------------------------------------


@dataclass
class Reply:
    """One HTTP response: status, JSON body (or ``None``) and the cookies it set."""

    status: int
    body: Any
    cookies: dict[str, str]
    sent_at: float
    received_at: float


@dataclass
class Exchange:
    """One raw HTTP exchange with a test server: what both HTTP helpers of the e2e suites build on."""

    status: int
    raw: bytes
    cookies: dict[str, str]
    headers: dict[str, str]
    sent_at: float
    received_at: float

    def json_or(self, fallback: Any) -> Any:
        """The body as JSON, or ``fallback`` when it is not JSON."""
        try:
            return json.loads(self.raw)
        except ValueError:
            return fallback


def exchange(
    port: int,
    method: str,
    path: str,
    body: str | None,
    headers: dict[str, str],
    cookies: dict[str, str] | None,
) -> Exchange:
    """Send one request to 127.0.0.1:``port`` and read the whole response, cookies parsed."""
    all_headers = dict(headers)
    if cookies:
        all_headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        sent_at = time.time()
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        raw = response.read()
        received_at = time.time()
        jar: SimpleCookie = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or ():
            jar.load(header)
        return Exchange(
            response.status,
            raw,
            {name: morsel.value for name, morsel in jar.items()},
            {name.lower(): value for name, value in response.getheaders()},
            sent_at,
            received_at,
        )
    finally:
        connection.close()


def _request(
    server: Served,
    path: str,
    payload: Any,
    cookies: dict[str, str] | None,
    headers: dict[str, str] | None,
) -> Reply:
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    got = exchange(server.port, "POST", path, json.dumps(payload or {}), all_headers, cookies)
    return Reply(got.status, got.json_or(None), got.cookies, got.sent_at, got.received_at)


async def post(
    server: Served,
    path: str,
    payload: Any = None,
    *,
    cookies: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """POST JSON to the server, in a worker thread so that open sockets keep being served."""
    return await asyncio.to_thread(_request, server, path, payload, cookies, headers)


async def login(server: Served, username: str = "alice", password: str = PASSWORD) -> str:
    """Log in through the server's ``/login/``; return the new session key (the cookie's value)."""
    reply = await post(server, "/login/", {"username": username, "password": password})
    assert reply.status == 200, reply.body
    key: str = reply.cookies["sessionid"]
    return key


def session_cookie(key: str) -> tuple[str, str]:
    return ("Cookie", f"sessionid={key}")


def csrf_headers(server: Served, session_key: str) -> tuple[dict[str, str], dict[str, str]]:
    """Cookies and headers of a same-origin browser POST: a client-chosen CSRF secret, sent twice."""
    secret = secrets.token_hex(16)  # 32 alphanumeric characters, a valid CSRF cookie
    cookies = {"sessionid": session_key, "csrftoken": secret}
    headers = {"X-CSRFToken": secret, "Origin": f"http://127.0.0.1:{server.port}"}
    return cookies, headers


# Credentials -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Jwt:
    token: str
    exp: int


@database_sync_to_async
def jwt_for(user: Any, lifetime: float | None = None) -> Jwt:
    """A SimpleJWT access token for ``user``, optionally living ``lifetime`` seconds."""
    from rest_framework_simplejwt.tokens import AccessToken

    token = AccessToken.for_user(user)
    if lifetime is not None:
        token.set_exp(lifetime=timedelta(seconds=lifetime))
    return Jwt(str(token), int(token["exp"]))


def bearer_subprotocols(token: str) -> list[str]:
    return ["warden", f"bearer.{token}"]


# Sockets ---------------------------------------------------------------------------------------


@dataclass
class Closure:
    """How a socket ended: warden's frame, the close code, when it arrived, and what came before."""

    frame: dict[str, Any] | None
    code: int | None
    at: float
    before: list[tuple[float, Any]] = field(default_factory=list)


def _decode(message: str | bytes) -> Any:
    if isinstance(message, bytes):
        return message
    try:
        return json.loads(message)
    except ValueError:
        return message


async def closure(socket: ClientConnection, timeout: float = TIMEOUT) -> Closure:
    """Read until the server closes ``socket``; fail if it stays open ``timeout`` seconds."""
    before: list[tuple[float, Any]] = []
    try:
        async with asyncio.timeout(timeout):
            while True:
                message = _decode(await socket.recv())
                before.append((time.time(), message))
    except ConnectionClosed as exc:
        at = time.time()
        code = exc.rcvd.code if exc.rcvd is not None else None
    frame = None
    if before and isinstance(before[-1][1], dict) and before[-1][1].get("type") == "warden.disconnect":
        frame = before.pop()[1]
    return Closure(frame, code, at, before)


def watch(socket: ClientConnection, timeout: float = TIMEOUT) -> asyncio.Task[Closure]:
    """Start watching ``socket`` for its close before triggering it, so no timing is lost."""
    return asyncio.get_running_loop().create_task(closure(socket, timeout))


async def receive(socket: ClientConnection, *, skip: Iterable[str] = ("warden.expiring",)) -> Any:
    """The next frame, decoded, passing over warden frames of the ``skip`` types."""
    skipped = set(skip)
    while True:
        message = _decode(await asyncio.wait_for(socket.recv(), TIMEOUT))
        if not (isinstance(message, dict) and message.get("type") in skipped):
            return message


async def echo(socket: ClientConnection, text: str = "ping") -> Any:
    """Send ``text`` and return what comes back (the echo consumer answers with the same text)."""
    await socket.send(text)
    return await receive(socket)


async def whoami(socket: ClientConnection) -> dict[str, Any]:
    answer: dict[str, Any] = await echo(socket, "whoami")
    return answer


class Sockets:
    """Opens sockets that outlive one step of a test; :meth:`close_all` ends those still open."""

    def __init__(self) -> None:
        self.opened: list[ClientConnection] = []

    async def open(
        self,
        server: Served,
        path: str,
        *,
        origin: str | None = ORIGIN,
        headers: Iterable[tuple[str, str]] = (),
        subprotocols: Iterable[str] = (),
    ) -> ClientConnection:
        extra = list(headers)
        if origin is not None:
            extra.append(("Origin", origin))
        socket = await connect(
            server.url(path),
            additional_headers=extra,
            subprotocols=list(subprotocols) or None,  # type: ignore[arg-type]
            open_timeout=TIMEOUT,
            close_timeout=1,
        )
        self.opened.append(socket)
        return socket

    async def jwt(self, server: Served, path: str, token: str) -> ClientConnection:
        return await self.open(server, path, subprotocols=bearer_subprotocols(token))

    async def session(self, server: Served, path: str, key: str) -> ClientConnection:
        return await self.open(server, path, headers=[session_cookie(key)])

    async def close_all(self) -> None:
        for socket in self.opened:
            with contextlib.suppress(Exception):
                await socket.close()
        self.opened.clear()
