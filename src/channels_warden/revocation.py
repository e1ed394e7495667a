"""Closing live sockets on logout, password change, deactivation or by hand, in every process.

A revocation is one channel-layer group message. Each server process runs **one** listener in that
group; it matches the message against this process's :data:`~channels_warden.registry.registry` and
closes the matching sockets with 4499. The cost is one message per process, not one per socket, and
with ``channels_redis`` it reaches every process on every machine. Without a channel layer, a
revocation reaches the calling process only (and says so in the log, once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from .codes import CloseCode
from .exceptions import Rejection
from .identity_cache import identity_cache
from .journal import journal
from .registry import registry
from .rejection import close_messages
from .revocation_messages import GROUP, MESSAGE_TYPE, PURGE_TYPE, REKEY_TYPE, revocation_message

logger = logging.getLogger("channels_warden.revocation")

#: channels_redis forgets group members after ``group_expiry`` (a day by default): rejoin hourly.
REJOIN_SECONDS = 3600.0
MAX_BACKOFF_SECONDS = 5.0
#: Tries per broadcast. After a Redis restart the layer's pool still holds connections to the old
#: server, and each fails once before it is dropped; a repeated revocation is harmless.
BROADCAST_ATTEMPTS = 3
#: Other message types the listener applies, by type: ``channels_warden.groups`` adds its own
#: (membership revocations and re-checks) so that they travel the same one-message-per-process way.
handlers: dict[str, Callable[[dict[str, Any]], Awaitable[object]]] = {}


async def close_matching(message: dict[str, Any]) -> int:
    """Close this process's sockets that ``message`` names; return how many.

    Returns as soon as the sockets are marked closed and out of the registry: their close frames go
    out in tasks of their own, bounded by ``CLOSE_TIMEOUT`` (see :mod:`.closing`), so what one
    client does (or fails to do) costs the listener nothing. The journal entry, the purge and the
    registry match happen with no await in between: a socket that goes live at the same moment
    either is in the registry here or finds this entry in the journal (see :mod:`.journal`).
    """
    journal.record(message)
    matches = registry.matching(
        user=message.get("user"),
        session_key=message.get("session_key"),
        token_id=message.get("token_id"),
        except_session=message.get("except_session"),
        authenticator=message.get("authenticator"),
        connection_id=message.get("connection_id"),
    )
    # Forget cached identities first: the next handshake must be refused even if no socket is open.
    identity_cache.purge(
        user=message.get("user"), token_id=message.get("token_id"), authenticator=message.get("authenticator")
    )
    if not matches:
        return 0
    code = CloseCode(message.get("code", CloseCode.REVOKED))
    reason = str(message.get("reason") or code.reason)
    # One frame text for every socket; a task each, so that one slow client cannot hold up the rest.
    frames = tuple(close_messages(Rejection(reason=reason, code=code), accepted=True, subprotocol=None))
    return sum(connection.revoke(code, reason, frames) for connection in matches)


def apply_rekey(message: dict[str, Any]) -> None:
    """Move this process's sockets of a cycled session to its new key (journaled, like revocations)."""
    journal.record(message)
    registry.rekey_session(message["old"], message["new"])


_warned_no_layer = False


async def apply_here(
    message: dict[str, Any], *, run_handler: Callable[[Awaitable[object]], None] | None = None
) -> int:
    """Apply one message to this process: the one dispatch of the listener and of the no-layer path.

    ``run_handler`` takes the coroutine of a registered handler (group memberships) instead of
    awaiting it: the listener runs those beside itself, so that none can hold up a revocation.
    Returns how many sockets a revocation closed (0 for every other message).
    """
    kind = message.get("type")
    if kind == REKEY_TYPE:
        apply_rekey(message)
    elif kind == PURGE_TYPE:
        identity_cache.purge(user=message.get("user"))
    elif kind == MESSAGE_TYPE:
        return await close_matching(message)
    elif isinstance(kind, str) and kind in handlers:
        handling = handlers[kind](message)
        if run_handler is None:
            await handling
        else:
            run_handler(handling)
    return 0


async def broadcast(message: dict[str, Any], *, alias: str = "default") -> None:
    """Send ``message`` to every process's listener (or handle it here without a channel layer).

    A revocation of a whole user also voids the user's outstanding tickets.
    """
    global _warned_no_layer
    if message["type"] == MESSAGE_TYPE:
        from .tickets import void_revoked_tickets

        await void_revoked_tickets(message)
    layer = get_channel_layer(alias)
    if layer is None:
        if not _warned_no_layer:
            _warned_no_layer = True
            logger.warning("no channel layer %r: revocations reach this process only", alias)
        await apply_here(message)
        return
    for attempt in range(1, BROADCAST_ATTEMPTS + 1):
        try:
            await layer.group_send(GROUP, message)
            return
        except Exception as exc:
            if attempt == BROADCAST_ATTEMPTS:
                raise
            logger.warning("broadcast of %s failed (%r); trying again", message["type"], exc)


async def disconnect(
    *,
    user: Any = None,
    session_key: str | None = None,
    token: Any = None,
    except_session: str | None = None,
    authenticator: str | None = None,
    code: int = CloseCode.REVOKED,
    reason: str = "revoked",
) -> None:
    """Close every live socket, in every process, that matches all the criteria given.

    Args:
        user: a user instance or primary key.
        session_key: the Django session key the sockets were opened with.
        token: a token id (``scope["auth"].token_id``) or a DRF/knox token instance.
        except_session: keep the sockets of this session (e.g. the one changing the password).
        authenticator: only sockets admitted by this authenticator (``"simplejwt"``...).
        code: the close code; 4499 (revoked) by default.
        reason: the short public reason in the frame and the close.
    """
    await broadcast(
        revocation_message(
            user=user,
            session_key=session_key,
            token=token,
            except_session=except_session,
            authenticator=authenticator,
            code=code,
            reason=reason,
        )
    )


def disconnect_sync(**kwargs: Any) -> None:
    """:func:`disconnect` for synchronous code (views, signal handlers, management commands)."""
    async_to_sync(disconnect)(**kwargs)


async def rekey_session(old: str, new: str) -> None:
    """Tell every process that sockets of session ``old`` now belong to session ``new``."""
    await broadcast({"type": REKEY_TYPE, "old": old, "new": new})


class RevocationListener:
    """The one group member per process (per event loop) that applies revocations."""

    def __init__(self, alias: str = "default") -> None:
        self.alias = alias
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.joined = asyncio.Event()
        # Handlers of other message types (group memberships) talk to clients: they run beside the
        # listener, so that no client and no slow handler can hold up the next revocation.
        self._handling: set[asyncio.Task[object]] = set()

    def ensure_running(self) -> None:
        """Start the listener on the running loop unless it already runs there."""
        loop = asyncio.get_running_loop()
        if self._task is not None and not self._task.done() and self._loop is loop:
            return
        if get_channel_layer(self.alias) is None:
            return
        self._loop = loop
        self.joined = asyncio.Event()
        self._task = loop.create_task(self._run(), name="channels-warden revocation listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        backoff = 0.1
        failures = 0
        while True:
            try:
                layer = get_channel_layer(self.alias)
                # The layer's default prefix, not one of ours: channels_redis multiplexes a process's
                # channels over one Redis list per prefix and reads only the list of whichever
                # receiver holds its lock, so a channel with another prefix starves behind consumers.
                channel = await layer.new_channel()
                await layer.group_add(GROUP, channel)
                if failures:
                    logger.warning("revocation listener reconnected after %d failure(s)", failures)
                failures, backoff = 0, 0.1
                self.joined.set()
                await self._listen(layer, channel)
            except asyncio.CancelledError:
                raise
            except Exception:  # the channel layer is down: keep trying, say so
                failures += 1
                self.joined.clear()
                logger.exception("revocation listener lost the channel layer (attempt %d)", failures)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    async def _listen(self, layer: Any, channel: str) -> None:
        loop = asyncio.get_running_loop()
        rejoin_at = loop.time() + REJOIN_SECONDS
        while True:
            try:
                message = await asyncio.wait_for(layer.receive(channel), max(rejoin_at - loop.time(), 1.0))
            except TimeoutError:
                message = {}
            if loop.time() >= rejoin_at:
                await layer.group_add(GROUP, channel)
                rejoin_at = loop.time() + REJOIN_SECONDS
            try:
                closed = await apply_here(message, run_handler=self._handle_beside)
                if closed:
                    logger.info("revocation %r closed %d socket(s)", message.get("reason"), closed)
            except Exception:  # one bad message must not stop revocations
                logger.exception("revocation message could not be applied")

    def _handle_beside(self, handling: Awaitable[object]) -> None:
        task: asyncio.Task[object] = asyncio.ensure_future(handling)
        self._handling.add(task)
        task.add_done_callback(self._handled)

    def _handled(self, task: asyncio.Task[object]) -> None:
        self._handling.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("channel-layer message could not be applied", exc_info=task.exception())


listener = RevocationListener()


__all__ = [
    "GROUP",
    "MESSAGE_TYPE",
    "PURGE_TYPE",
    "REKEY_TYPE",
    "RevocationListener",
    "apply_rekey",
    "broadcast",
    "close_matching",
    "disconnect",
    "disconnect_sync",
    "handlers",
    "listener",
    "rekey_session",
    "revocation_message",
]
