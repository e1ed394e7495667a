"""A client that stops reading cannot hold up revocations, and its own socket is dropped.

The attack (issue 10): an authenticated user makes the server send them megabytes, never reads, and
logs out. uvicorn's ``send`` then waits on that socket for ever; if the revocation listener waited
with it, every later revocation in the process (other users' logouts) would never be applied.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from .conftest import LiveServer
from .lifecycle import Sockets, disconnect_frame, echo, login, post, watch
from .raw import OP_TEXT, handshake_request, masked_frame

pytestmark = pytest.mark.django_db(transaction=True)

#: 64 KiB frames the flood consumer sends: 8 MiB, far more than the socket buffers on both sides hold.
FLOOD_FRAMES = 128
#: Time for the server to fill the buffers and block (uvicorn) or queue (daphne).
FILL_SECONDS = 1.5
#: CLOSE_TIMEOUT (2 s by default) plus a margin for a loaded machine.
ABORT_WITHIN = 8.0


@pytest.fixture
async def sockets() -> AsyncIterator[Sockets]:
    pool = Sockets()
    yield pool
    await pool.close_all()


@pytest.fixture
def stalled(server: LiveServer) -> Iterator[list[socket.socket]]:
    """Raw sockets opened by the test, closed after it."""
    opened: list[socket.socket] = []
    yield opened
    for sock in opened:
        with contextlib.suppress(OSError):
            sock.close()


def open_stalled(server: LiveServer, session_key: str, prefix: str = "") -> socket.socket:
    """A session socket on the flood route that asks for 8 MiB and then never reads again."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
    sock.settimeout(5)
    sock.connect(("127.0.0.1", server.port))
    host = f"127.0.0.1:{server.port}".encode()
    headers = [b"Cookie: sessionid=" + session_key.encode(), b"Origin: http://testserver"]
    sock.sendall(handshake_request(f"{prefix}/ws/flood/".encode(), host, headers))
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        assert chunk, head
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    sock.sendall(masked_frame(OP_TEXT, f"flood {FLOOD_FRAMES}".encode()))
    return sock


def reset_after(sock: socket.socket, since: float, within: float) -> float | None:
    """Seconds from ``since`` until the server reset the connection (read without draining it)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == errno.ECONNRESET:
            return time.time() - since
        time.sleep(0.02)
    return None


def ends_with_reset(sock: socket.socket, within: float) -> tuple[str, int]:
    """Read what the server sent until the connection ends: ``("reset" | "eof" | "open", bytes read)``."""
    deadline = time.monotonic() + within
    total = 0
    sock.settimeout(0.5)
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(1 << 20)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return "reset", total
        if not chunk:
            return "eof", total
        total += len(chunk)
    return "open", total


async def test_a_stalled_client_does_not_delay_another_users_logout(
    server: LiveServer,
    sockets: Sockets,
    stalled: list[socket.socket],
    make_user: Any,
    report_figure: Any,
) -> None:
    """Alice stalls her socket and logs out; Bob's logout still closes his socket within a second."""
    await asyncio.to_thread(make_user, "alice")
    await asyncio.to_thread(make_user, "bob")
    alice_key, bob_key = await login(server, "alice"), await login(server, "bob")
    stalled.append(await asyncio.to_thread(open_stalled, server, alice_key))
    bob = await sockets.session(server, "/ws/echo/", bob_key)
    assert await echo(bob) == "ping"
    await asyncio.sleep(FILL_SECONDS)

    alice_logout = await post(server, "/logout/", cookies={"sessionid": alice_key})
    watcher = watch(bob)
    bob_logout = await post(server, "/logout/", cookies={"sessionid": bob_key})
    end = await watcher
    latency = end.at - bob_logout.sent_at
    report_figure(
        f"{server.kind}: with a stalled socket revoked just before, another user's logout closed "
        f"their socket {1000 * latency:.1f} ms after the request"
    )
    assert (alice_logout.status, bob_logout.status) == (200, 200)
    assert (end.frame, end.code) == (disconnect_frame(4499, "logout"), 4499)
    assert latency < 1


async def test_a_revoked_stalled_socket_is_dropped(
    server: LiveServer, stalled: list[socket.socket], make_user: Any, report_figure: Any
) -> None:
    """The server resets the TCP connection of a revoked socket whose client never reads."""
    await asyncio.to_thread(make_user, "alice")
    alice_key = await login(server, "alice")
    sock = await asyncio.to_thread(open_stalled, server, alice_key)
    stalled.append(sock)
    await asyncio.sleep(FILL_SECONDS)
    logout = await post(server, "/logout/", cookies={"sessionid": alice_key})
    after = await asyncio.to_thread(reset_after, sock, logout.received_at, ABORT_WITHIN)
    ending, read = await asyncio.to_thread(ends_with_reset, sock, 2.0)  # the RST was read: EOF now
    report_figure(
        f"{server.kind}: stalled socket reset "
        + (f"{after:.2f} s after the logout response" if after is not None else "never")
        + f", {read} of {FLOOD_FRAMES * 65536} flooded bytes reached the client"
    )
    assert (logout.status, after is not None, ending) == (200, True, "eof")
    assert read < FLOOD_FRAMES * 65536


async def test_evicting_a_stalled_socket_delays_nothing_and_drops_it(
    server: LiveServer,
    sockets: Sockets,
    stalled: list[socket.socket],
    make_user: Any,
    report_figure: Any,
) -> None:
    """A stalled socket evicted by the connection limit is dropped; Bob's logout still takes < 1 s."""
    await asyncio.to_thread(make_user, "alice")
    await asyncio.to_thread(make_user, "bob")
    alice_key, bob_key = await login(server, "alice"), await login(server, "bob")
    sock = await asyncio.to_thread(open_stalled, server, alice_key, "/evict")
    stalled.append(sock)
    bob = await sockets.session(server, "/ws/echo/", bob_key)
    await asyncio.sleep(FILL_SECONDS)
    newer = [await sockets.session(server, "/evict/ws/echo/", alice_key) for _ in range(2)]  # limit 2
    watcher = watch(bob)
    reply = await post(server, "/logout/", cookies={"sessionid": bob_key})
    end = await watcher
    latency = end.at - reply.sent_at
    report_figure(f"{server.kind}: evicted a stalled socket; a logout then closed in {1000 * latency:.1f} ms")
    assert [await echo(socket) for socket in newer] == ["ping", "ping"]
    assert (end.code, latency < 1) == (4499, True)
    await asyncio.sleep(ABORT_WITHIN / 2)
    ending, _ = await asyncio.to_thread(ends_with_reset, sock, ABORT_WITHIN / 2)
    assert ending == "reset"
