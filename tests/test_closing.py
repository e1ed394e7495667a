"""Closing without waiting on the client: bounded close frames, then the connection dropped."""

from __future__ import annotations

import asyncio
import functools
import socket
import struct
from typing import Any

from channels.sessions import InstanceSessionWrapper

from channels_warden.closing import deliver_close, find_abort

CLOSE = ({"type": "websocket.send", "text": "{}"}, {"type": "websocket.close", "code": 4499})


class FakeTransport:
    """The parts of an asyncio transport that dropping a connection uses."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.aborted = False

    def get_extra_info(self, name: str) -> Any:
        return self.sock if name == "socket" else None

    def abort(self) -> None:
        self.aborted = True


class StalledProtocol:
    """Like uvicorn's protocols: ``send`` is a bound method, the socket is ``self.transport``."""

    def __init__(self) -> None:
        self.transport = FakeTransport()
        self.sent: list[dict[str, Any]] = []

    async def send(self, message: dict[str, Any]) -> None:
        await asyncio.Event().wait()  # the write buffer never drains


class AutobahnProtocol:
    """Like daphne's WebSocketProtocol: autobahn's sendClose and dropConnection."""

    def __init__(self) -> None:
        self.dropped: list[bool] = []

    def sendClose(self, code: int | None = None) -> None:
        pass

    def dropConnection(self, abort: bool = False) -> None:
        self.dropped.append(abort)


class DaphneServer:
    async def handle_reply(self, protocol: Any, message: dict[str, Any]) -> None:
        await asyncio.Event().wait()


def test_finds_the_transport_behind_channels_session_wrapper() -> None:
    """Through Channels' session wrapper to uvicorn's protocol: an abort with SO_LINGER zero (RST)."""
    protocol = StalledProtocol()
    wrapper = InstanceSessionWrapper({"type": "websocket", "cookies": {}}, protocol.send)
    abort = find_abort(wrapper.send)
    assert abort is not None
    abort()
    linger = protocol.transport.sock.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8)
    assert (protocol.transport.aborted, struct.unpack("ii", linger)) == (True, (1, 0))
    protocol.transport.sock.close()


def test_finds_daphnes_protocol_in_the_partial() -> None:
    """daphne's send is ``partial(server.handle_reply, protocol)``: autobahn drops with abort=True."""
    protocol = AutobahnProtocol()
    abort = find_abort(functools.partial(DaphneServer().handle_reply, protocol))
    assert abort is not None
    abort()
    assert protocol.dropped == [True]


def test_finds_nothing_behind_a_plain_queue() -> None:
    """A test communicator's send (a queue's put) has no connection to drop."""
    assert find_abort(asyncio.Queue().put) is None


async def test_frames_taken_in_time_are_all_sent() -> None:
    """A client that reads gets both frames, and nothing is dropped."""
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    assert (await deliver_close(send, CLOSE, 1.0, "/ws/"), sent) == (True, list(CLOSE))


async def test_a_stalled_send_is_abandoned_and_the_connection_dropped() -> None:
    """When the frames do not go out within the bound, the transport is aborted."""
    protocol = StalledProtocol()
    assert (await deliver_close(protocol.send, CLOSE, 0.01, "/ws/"), protocol.transport.aborted) == (
        False,
        True,
    )
    protocol.transport.sock.close()


async def test_a_send_that_fails_is_not_dropped_again() -> None:
    """A client already gone (send raises) needs no abort; nothing escapes."""

    async def send(message: dict[str, Any]) -> None:
        raise OSError("client gone")

    assert await deliver_close(send, CLOSE, 1.0, "/ws/") is False
