"""A lean WebSocket client for load generation: pre-built request bytes, pre-masked frames.

A general client (``websockets``) spends about as much CPU per handshake as the server does, and
then measures itself. This one writes a prepared upgrade request, checks for ``101``, and reads and
writes frames with one ``readexactly`` per header, so the server's core saturates first.

The client closes as RFC 6455 says: it sends a close frame, reads the server's, and waits for the
server to drop TCP, so ``TIME_WAIT`` sockets pile up on the server's side, not in the client's
ephemeral port range.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
import time
from dataclasses import dataclass, field

OP_TEXT, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x8, 0x9, 0xA
TIMEOUT = 10.0
_KEY = base64.b64encode(os.urandom(16))
_MASK = os.urandom(4)


class HandshakeFailed(Exception):
    """The server refused the socket, closed it early, or answered something unexpected."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def upgrade_request(port: int, path: str, headers: list[tuple[str, str]]) -> bytes:
    """The bytes of one upgrade request."""
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {_KEY.decode()}",
        "Sec-WebSocket-Version: 13",
        *(f"{name}: {value}" for name, value in headers),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _mask(payload: bytes) -> bytes:
    repeated = (_MASK * (len(payload) // 4 + 1))[: len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(len(payload), "big")


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A masked client frame (build it once, send it many times)."""
    length = len(payload)
    if length < 126:
        header = bytes([0x80 | opcode, 0x80 | length])
    elif length < 65536:
        header = bytes([0x80 | opcode, 0x80 | 126]) + struct.pack("!H", length)
    else:
        header = bytes([0x80 | opcode, 0x80 | 127]) + struct.pack("!Q", length)
    return header + _MASK + _mask(payload)


ECHO_PAYLOAD = b'{"type":"chat.message","text":"hello"}'
ECHO_FRAME = client_frame(OP_TEXT, ECHO_PAYLOAD)
CLOSE_FRAME = client_frame(OP_CLOSE, struct.pack("!H", 1000))


def close_code(payload: bytes) -> int | None:
    return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None


class Socket:
    """One client WebSocket over asyncio streams."""

    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int, request: bytes) -> Socket:
        """Connect and upgrade; ``HandshakeFailed`` unless the server answers ``101``."""
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            writer.close()
            raise HandshakeFailed("connection closed during the upgrade") from exc
        if not head.startswith(b"HTTP/1.1 101"):
            writer.close()
            raise HandshakeFailed(head.split(b"\r\n", 1)[0].decode("latin-1"))
        return cls(reader, writer)

    async def recv(self) -> tuple[int, bytes]:
        """One server frame (unmasked, unfragmented): ``(opcode, payload)``; pings are answered."""
        while True:
            first, second = await self.reader.readexactly(2)
            length = second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", await self.reader.readexactly(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
            payload = await self.reader.readexactly(length) if length else b""
            opcode = first & 0x0F
            if opcode == OP_PING:
                self.writer.write(client_frame(OP_PONG, payload))
                continue
            return opcode, payload

    async def recv_application(self) -> tuple[int, bytes]:
        """The next frame that is not a ``warden.expiring`` notice (a client may ignore those)."""
        while True:
            opcode, payload = await self.recv()
            if not (
                opcode == OP_TEXT and payload.startswith(b'{"type') and b'"warden.expiring"' in payload[:40]
            ):
                return opcode, payload

    async def echo(self) -> None:
        """One echo round trip; ``HandshakeFailed`` if anything else comes back."""
        self.writer.write(ECHO_FRAME)
        opcode, payload = await self.recv_application()
        if opcode != OP_TEXT or payload != ECHO_PAYLOAD:
            raise HandshakeFailed(_describe(opcode, payload))

    async def wait_close(self) -> tuple[float, int | None]:
        """Read until the server's close frame; return when it came (wall clock) and its code."""
        while True:
            opcode, payload = await self.recv()
            if opcode == OP_CLOSE:
                return time.time(), close_code(payload)

    async def close(self) -> None:
        """Close handshake, then wait for the server to drop TCP."""
        try:
            self.writer.write(CLOSE_FRAME)
            while (await self.recv())[0] != OP_CLOSE:
                pass
            await self.reader.read()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.writer.close()

    def abort(self) -> None:
        self.writer.close()


def _describe(opcode: int, payload: bytes) -> str:
    if opcode == OP_CLOSE:
        return f"closed by the server with {close_code(payload)}"
    if opcode == OP_TEXT and payload.startswith(b'{"type": "warden.disconnect"'):
        frame = json.loads(payload)
        return f"refused by warden: {frame.get('code')} {frame.get('reason')}"
    return f"unexpected frame {opcode}: {payload[:80]!r}"


@dataclass(frozen=True)
class Attempt:
    """What one handshake sends: the request, and the ``warden.auth`` frame of first-message routes."""

    request: bytes
    auth_frame: bytes | None = None


async def open_authenticated(port: int, attempt: Attempt) -> Socket:
    """Upgrade, authenticate in-band if needed, and prove the socket works with one echo."""
    sock = await Socket.open(port, attempt.request)
    try:
        if attempt.auth_frame is not None:
            sock.writer.write(attempt.auth_frame)
            opcode, payload = await sock.recv_application()
            if opcode != OP_TEXT or b'"warden.authenticated"' not in payload:
                raise HandshakeFailed(_describe(opcode, payload))
        await sock.echo()
    except BaseException:
        sock.abort()
        raise
    return sock


async def handshake(port: int, attempt: Attempt) -> float:
    """Connect → one echo round trip → close; return the seconds it took."""
    started = time.perf_counter()
    sock = await open_authenticated(port, attempt)
    await sock.close()
    return time.perf_counter() - started


@dataclass
class Batch:
    """The outcome of a batch of handshakes."""

    count: int
    elapsed: float
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return (self.count - len(self.failures)) / self.elapsed if self.elapsed else 0.0


async def run_handshakes(port: int, attempts: list[Attempt], concurrency: int) -> Batch:
    """Every attempt once, ``concurrency`` at a time; failures are recorded, not raised."""
    batch = Batch(count=len(attempts), elapsed=0.0)
    queue = iter(attempts)

    async def worker() -> None:
        for attempt in queue:
            try:
                batch.latencies.append(await asyncio.wait_for(handshake(port, attempt), TIMEOUT))
            except (HandshakeFailed, OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
                batch.failures.append(getattr(exc, "what", None) or repr(exc))

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, len(attempts))))))
    batch.elapsed = time.perf_counter() - started
    return batch


async def open_many(port: int, attempts: list[Attempt], concurrency: int) -> list[Socket]:
    """Open one authenticated socket per attempt and keep them; raise on the first failure."""
    sockets: list[Socket] = []
    queue = iter(attempts)

    async def worker() -> None:
        for attempt in queue:
            sockets.append(await asyncio.wait_for(open_authenticated(port, attempt), TIMEOUT))

    try:
        await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, len(attempts))))))
    except BaseException:
        for sock in sockets:
            sock.abort()
        raise
    return sockets


async def close_all(sockets: list[Socket], concurrency: int = 200) -> None:
    queue = iter(sockets)

    async def worker() -> None:
        for sock in queue:
            await asyncio.wait_for(sock.close(), TIMEOUT)

    await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, len(sockets))))))


async def echo_load(sockets: list[Socket], frames_per_socket: int) -> float:
    """Sequential echo round trips on every socket at once; return frames per second."""

    async def loop(sock: Socket) -> None:
        for _ in range(frames_per_socket):
            await sock.echo()

    started = time.perf_counter()
    await asyncio.gather(*(loop(sock) for sock in sockets))
    return len(sockets) * frames_per_socket / (time.perf_counter() - started)


def auth_frame(token: str) -> bytes:
    """The ``warden.auth`` frame of a first-message route."""
    return client_frame(OP_TEXT, b'{"type":"warden.auth","token":"' + token.encode() + b'"}')
