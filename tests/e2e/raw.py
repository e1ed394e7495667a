"""A byte-level WebSocket client for handshakes the ``websockets`` library refuses to send.

``websockets`` validates what it sends: no NUL or control bytes in header values, no empty
subprotocol. Attackers are not so polite, so these tests write the request bytes themselves and read
back exactly what the server answers: an HTTP refusal, nothing at all, or a ``101`` followed by
warden's frames.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .conftest import LiveServer

TIMEOUT = 5.0
OP_TEXT, OP_CLOSE = 0x1, 0x8


@dataclass
class RawOutcome:
    """What came back on the wire.

    ``status`` is ``None`` when the server closed the connection without writing a single byte.
    For a ``101``, ``frame`` is warden's disconnect frame (or ``whoami`` the consumer's answer) and
    ``close_code``/``close_reason`` come from the close frame that followed.
    """

    status: int | None = None
    reason_phrase: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    frame: dict[str, Any] | None = None
    whoami: dict[str, Any] | None = None
    close_code: int | None = None
    close_reason: str | None = None


def assert_never_admitted(outcome: RawOutcome, *, codes: tuple[int, ...], secret: bytes = b"") -> None:
    """The promise for an input a server may refuse itself before warden runs, whatever its version.

    Either the server refused it (no answer at all, or an HTTP status below 500: a 5xx would mean the
    application crashed) or it reached warden, which refused it with one of ``codes``. The consumer never
    answered, and ``secret`` is in no part of the answer. Which of the two happened is a server's
    internal, recorded in docs/testing.md with the versions it was seen in, never asserted here.
    """
    assert outcome.whoami is None, f"admitted: {outcome.whoami}"
    if outcome.status == 101:
        assert outcome.frame is not None, outcome
        assert outcome.close_code in codes, outcome
        assert outcome.frame["code"] == outcome.close_code, outcome
    else:
        assert outcome.status is None or 400 <= outcome.status < 500, outcome
    if secret:
        answer = b"".join(
            [outcome.body, str(outcome.headers).encode("latin-1"), str(outcome.frame).encode("latin-1")]
        )
        assert secret not in answer


def handshake_request(path: bytes, host: bytes, headers: Iterable[bytes]) -> bytes:
    """The bytes of an upgrade request; ``headers`` are complete ``Name: value`` lines."""
    key = base64.b64encode(os.urandom(16))
    lines = [
        b"GET " + path + b" HTTP/1.1",
        b"Host: " + host,
        b"Upgrade: websocket",
        b"Connection: Upgrade",
        b"Sec-WebSocket-Key: " + key,
        b"Sec-WebSocket-Version: 13",
        *headers,
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def masked_frame(opcode: int, payload: bytes) -> bytes:
    """A client frame (clients must mask); payloads here are short."""
    mask = os.urandom(4)
    masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """One unmasked server frame: ``(opcode, payload)``."""
    first, second = await reader.readexactly(2)
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", await reader.readexactly(2))
    elif length == 127:
        (length,) = struct.unpack("!Q", await reader.readexactly(8))
    return first & 0x0F, await reader.readexactly(length)


class RawClient:
    def __init__(self, server: LiveServer) -> None:
        self.server = server

    async def handshake(
        self,
        path: str,
        headers: Iterable[bytes] = (),
        *,
        origin: bytes | None = b"http://testserver",
        end_request: bool = False,
    ) -> RawOutcome:
        """Send one upgrade request with ``headers`` written verbatim and report the answer.

        Args:
            path: request target, query string included.
            headers: extra header lines, e.g. ``b"Authorization: Bearer a\\x00b"``.
            origin: the Origin header, ``None`` for none.
            end_request: half-close the connection after the request (no more bytes will come), so a
                server that will never answer has to close instead of waiting for the client to leave.
        """
        lines = list(headers)
        if origin is not None:
            lines.append(b"Origin: " + origin)
        host = f"127.0.0.1:{self.server.port}".encode()
        reader, writer = await asyncio.open_connection("127.0.0.1", self.server.port)
        try:
            try:
                writer.write(handshake_request(path.encode("latin-1"), host, lines))
                await writer.drain()
                if end_request:
                    writer.write_eof()
            except OSError:  # broken pipe, reset, or not connected when half-closing (ENOTCONN)
                pass  # the server stopped reading an oversized request; what it answered is still readable
            return await asyncio.wait_for(self._read_answer(reader, writer, ended=end_request), TIMEOUT)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _read_answer(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, ended: bool = False
    ) -> RawOutcome:
        """Read the server's answer; after ``end_request`` the client can write nothing more, so a 101
        is read as it comes (warden's refusal frame needs no prompt) instead of asking ``whoami``."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                raise AssertionError(f"truncated response head: {exc.partial[:200]!r}") from None
            return RawOutcome()
        except ConnectionResetError:
            return RawOutcome()  # reset without a response head
        status_line, *header_lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
        _, status, *phrase = status_line.split(" ", 2)
        outcome = RawOutcome(status=int(status), reason_phrase=" ".join(phrase))
        for line in header_lines:
            name, _, value = line.partition(":")
            outcome.headers[name.strip().lower()] = value.strip()
        if outcome.status != 101:
            length = outcome.headers.get("content-length")
            outcome.body = await (reader.readexactly(int(length)) if length else reader.read())
            return outcome
        if not ended:
            writer.write(masked_frame(OP_TEXT, b"whoami"))
            await writer.drain()
        opcode, payload = await read_frame(reader)
        if opcode == OP_TEXT:
            message = json.loads(payload)
            if message.get("type") != "warden.disconnect":
                outcome.whoami = message
                return outcome
            outcome.frame = message
            opcode, payload = await read_frame(reader)
        assert opcode == OP_CLOSE, (opcode, payload)
        (outcome.close_code,) = struct.unpack("!H", payload[:2])
        outcome.close_reason = payload[2:].decode()
        if not ended:
            writer.write(masked_frame(OP_CLOSE, payload[:2]))
            with contextlib.suppress(OSError):
                await writer.drain()
        return outcome
