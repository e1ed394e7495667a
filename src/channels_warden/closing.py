"""Closing a socket without waiting on its client: a bounded close, then the TCP connection dropped.

A server's ``send`` may wait on the client. uvicorn's waits while the socket's write buffer is over
its high-water mark (``await self.writable.wait()``), and a client that stops reading keeps it there
for ever; its ``websocket.close`` waits the same way, and even a transport ``close()`` only closes once
the buffer has drained. So warden never awaits a closing socket's frames where anything else waits
on it: :func:`deliver_close` runs in a task of its own, gives the frames :data:`CLOSE_TIMEOUT`
seconds, and then drops the connection.

ASGI has no message for "drop this connection", so :func:`find_abort` looks behind the ``send``
callable the server gave the application for the object that owns the socket: the bound method's
``__self__`` (uvicorn's protocols, Channels' session wrapper's ``real_send``) or a
``functools.partial``'s arguments (daphne's ``partial(server.handle_reply, protocol)``). It aborts
an asyncio transport after setting ``SO_LINGER`` to zero (the kernel sends RST and frees the buffer
at once), or asks autobahn (daphne) to drop the connection. When nothing is found (an unknown server,
a test communicator) the close frames are abandoned and the server's own timeouts end the socket;
the caller goes on either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import socket
import struct
from collections.abc import Callable, Iterable
from typing import Any

from ._types import Message, Send

logger = logging.getLogger("channels_warden.auth")

#: Seconds a closing socket's frames may take before its connection is dropped (``CLOSE_TIMEOUT``).
CLOSE_TIMEOUT = 2.0
#: How far behind ``send`` to look for the socket's owner: middlewares wrap it a few times.
MAX_HOPS = 12
_LINGER_ZERO = struct.pack("ii", 1, 0)


def _abort_asyncio(transport: Any) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError, AttributeError, TypeError, ValueError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
    transport.abort()


def _abort_of(owner: Any) -> Callable[[], None] | None:
    """How to drop the connection ``owner`` holds, if it is a server protocol we recognise."""
    drop = getattr(owner, "dropConnection", None)
    if callable(drop) and hasattr(owner, "sendClose"):  # autobahn (daphne)
        return functools.partial(drop, abort=True)
    transport = getattr(owner, "transport", None)
    if callable(getattr(transport, "abort", None)) and callable(getattr(transport, "get_extra_info", None)):
        return functools.partial(_abort_asyncio, transport)  # an asyncio transport (uvicorn's protocols)
    return None


def find_abort(send: Any) -> Callable[[], None] | None:
    """A callable that drops the TCP connection behind ``send``, or ``None`` when none is found."""
    pending: list[Any] = [send]
    seen: set[int] = set()
    while pending and len(seen) < MAX_HOPS:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        abort = _abort_of(current)
        if abort is not None:
            return abort
        if isinstance(current, functools.partial):
            pending.extend(current.args)
            pending.append(current.func)
            continue
        owner = getattr(current, "__self__", None)
        if owner is not None:
            pending.append(owner)
        pending.append(getattr(current, "real_send", None))  # Channels' InstanceSessionWrapper
    return None


async def deliver_close(send: Send, messages: Iterable[Message], timeout: float, path: str) -> bool:
    """Send the close ``messages`` within ``timeout`` seconds; otherwise drop the connection.

    Returns whether the frames were handed to the server in time. Never raises (but cancellation).
    """
    try:
        async with asyncio.timeout(timeout):
            for message in messages:
                await send(message)
        return True
    except TimeoutError:
        pass
    except Exception as exc:  # noqa: BLE001  (the client may be gone already; closed either way)
        logger.debug("closing %s: %r", path, exc)
        return False
    abort = find_abort(send)
    if abort is None:
        logger.warning("socket on %s did not take its close frames in %.1fs; abandoned them", path, timeout)
        return False
    try:
        abort()
    except Exception as exc:  # noqa: BLE001  (an abort that fails leaves the server's own timeouts)
        logger.warning("could not drop the stalled socket on %s: %r", path, exc)
        return False
    logger.warning("socket on %s did not take its close frames in %.1fs; connection dropped", path, timeout)
    return False
