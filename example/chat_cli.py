#!/usr/bin/env python
"""A terminal client for the demo chat: what a non-browser client of channels-warden looks like.

    python example/chat_cli.py --url http://127.0.0.1:8000 --username alice --room lobby

It trades the username and password (``--password``, ``$CHAT_PASSWORD`` or a prompt) for a DRF token
over HTTP, opens ``/ws/chat/<room>/`` with ``Authorization: Token ...`` and no Origin (a terminal is
not a browser page), prints messages and presence, and sends each line typed on stdin as a message.
End of input (Ctrl-D) closes the socket and exits 0.

When the server ends the socket it first sends warden's frame, e.g.
``{"type": "warden.disconnect", "code": 4403, "reason": "forbidden", "reconnect": "never"}``. The
client prints the code and reason and follows ``reconnect``: ``never`` exits with status 1,
``refresh`` fetches a new token and reconnects, ``retry`` reconnects at once and ``backoff`` after
``retry_after`` seconds (or a growing delay); after a few failed attempts in a row it gives up (status 1).

Only the standard library and ``websockets`` are needed; no Django.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import os
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

#: Exit statuses.
OK, REFUSED, UNREACHABLE = 0, 1, 2
MAX_ATTEMPTS = 5
MAX_BACKOFF = 30.0
TIMEOUT = 10.0


class ClientError(Exception):
    """Something the user must fix or wait out; printed without a traceback."""

    def __init__(self, message: str, status: int = UNREACHABLE) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Ending:
    """How one socket ended: warden's frame (if any), the close code, whether stdin ran out, and
    how many frames the server sent before (none: the socket never really opened)."""

    frame: dict[str, Any] | None = None
    code: int | None = None
    stdin_closed: bool = False
    frames: int = 0


def socket_url(base: str, room: str) -> str:
    """``http://host:port`` -> ``ws://host:port/ws/chat/<room>/`` (``https`` -> ``wss``)."""
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https"):
        raise ClientError(f"--url must start with http:// or https://, not {base!r}", REFUSED)
    scheme = "wss" if parts.scheme == "https" else "ws"
    path = f"{parts.path.rstrip('/')}/ws/chat/{quote(room, safe='')}/"
    return urlunsplit((scheme, parts.netloc, path, "", ""))


def fetch_token(base: str, username: str, password: str) -> str:
    """POST the password to ``/api/auth/token/`` and return the DRF token."""
    body = json.dumps({"username": username, "password": password}).encode()
    request = urllib.request.Request(
        base.rstrip("/") + "/api/auth/token/",
        data=body,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            payload = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            error = json.loads(exc.read()).get("error", "")
        except ValueError:
            error = ""
        if error == "invalid_credentials":
            raise ClientError("sign-in failed: wrong username or password", REFUSED) from None
        raise ClientError(f"sign-in failed: HTTP {exc.code} {error}".rstrip()) from None
    except (urllib.error.URLError, OSError) as exc:
        raise ClientError(f"cannot reach {base}: {exc}") from None
    return str(payload["token"])


def describe(frame: dict[str, Any]) -> str | None:
    """The line to print for a server frame (``None`` for frames not worth a line)."""
    kind = frame.get("type")
    if kind == "message":
        return f"[{frame['room']}] {frame['user']}: {frame['text']}"
    if kind == "presence":
        return f"* in {frame['room']}: {', '.join(frame['users']) or 'nobody'}"
    if kind == "error":
        return f"! error {frame.get('code')}: {frame.get('detail', '')}"
    if kind == "warden.expiring":
        return "* the credential is about to expire"
    return None


def read_stdin(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
    """Feed stdin's lines into ``queue`` from a daemon thread; ``None`` marks the end of input.

    A thread, not ``asyncio.to_thread``: a blocked ``readline`` must not keep the process alive
    after the server has ended the session.
    """

    def put(item: str | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: the client is exiting
            loop.call_soon_threadsafe(queue.put_nowait, item)

    def read() -> None:
        for line in sys.stdin:
            put(line.rstrip("\n"))
        put(None)

    threading.Thread(target=read, name="stdin", daemon=True).start()


async def pump_out(socket: ClientConnection, queue: asyncio.Queue[str | None]) -> None:
    """Send each queued line as a message; return when stdin is exhausted."""
    while True:
        line = await queue.get()
        if line is None:
            return
        if line.strip():
            await socket.send(json.dumps({"type": "message", "text": line}))


async def pump_in(socket: ClientConnection, ending: Ending) -> None:
    """Print frames until the socket closes; keep warden's disconnect frame in ``ending``."""
    with contextlib.suppress(ConnectionClosed):
        async for raw in socket:
            try:
                frame = json.loads(raw)
            except ValueError:
                continue
            if not isinstance(frame, dict):
                continue
            if frame.get("type") == "warden.disconnect":
                ending.frame = frame
                continue
            ending.frames += 1
            line = describe(frame)
            if line is not None:
                print(line, flush=True)


async def session(url: str, token: str, queue: asyncio.Queue[str | None]) -> Ending:
    """One socket's life: print what arrives, send what is typed, report how it ended."""
    try:
        socket = await connect(
            url, additional_headers=[("Authorization", f"Token {token}")], open_timeout=TIMEOUT
        )
    except (OSError, InvalidHandshake, TimeoutError) as exc:
        raise ClientError(f"cannot open {url}: {exc}") from None
    ending = Ending()
    async with socket:
        print(f"* connected to {url}", flush=True)
        incoming = asyncio.ensure_future(pump_in(socket, ending))
        outgoing = asyncio.ensure_future(pump_out(socket, queue))
        done, _ = await asyncio.wait({incoming, outgoing}, return_when=asyncio.FIRST_COMPLETED)
        if outgoing in done and incoming not in done:
            ending.stdin_closed = True
            await socket.close()
        else:
            outgoing.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await outgoing
        await incoming
    ending.code = socket.close_code
    return ending


async def run(base: str, username: str, password: str, room: str) -> int:
    url = socket_url(base, room)
    token = fetch_token(base, username, password)
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    read_stdin(asyncio.get_running_loop(), queue)
    failures, delay = 0, 1.0
    while True:
        ending = await session(url, token, queue)
        if ending.stdin_closed:
            return OK
        if ending.frames:  # it was a working session: start counting failures afresh
            failures, delay = 0, 1.0
        frame = ending.frame or {}
        code = frame.get("code", ending.code)
        reason = frame.get("reason", "no reason given")
        reconnect = frame.get("reconnect")
        print(f"* disconnected: {code} {reason} (reconnect: {reconnect or 'unknown'})", flush=True)
        if reconnect == "never":
            return REFUSED
        failures += 1
        if failures >= MAX_ATTEMPTS:
            print(f"* giving up after {failures} disconnections in a row", flush=True)
            return REFUSED
        if reconnect == "refresh":
            token = fetch_token(base, username, password)
        elif reconnect != "retry":  # "backoff", or a close without warden's frame
            wait = float(frame.get("retry_after", delay))
            delay = min(delay * 2, MAX_BACKOFF)
            print(f"* reconnecting in {wait:g} s", flush=True)
            await asyncio.sleep(wait)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Chat in one room of the channels-warden demo.")
    parser.add_argument(
        "--url", default="http://127.0.0.1:8000", help="the demo server (default: %(default)s)"
    )
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", help="default: $CHAT_PASSWORD, else a prompt")
    parser.add_argument("--room", default="lobby", help="room slug (default: %(default)s)")
    args = parser.parse_args(argv)
    password = args.password or os.environ.get("CHAT_PASSWORD") or getpass.getpass("Password: ")
    try:
        return asyncio.run(run(args.url, args.username, password, args.room))
    except ClientError as exc:
        print(f"chat_cli: {exc}", file=sys.stderr, flush=True)
        return exc.status
    except KeyboardInterrupt:
        return OK


if __name__ == "__main__":
    sys.exit(main())
