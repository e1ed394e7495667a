"""A socket going live and retiring: the registry of live sockets, counters and signals.

Once accepted, a socket is *live*: it is in this process's
:data:`~channels_warden.registry.registry` (so that revocations find it), its expiry timer runs, and
the revocations applied while it was being admitted are replayed from the journal. It stops being
live when the client, the application or warden closes it.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

from . import metrics
from .expiry_timers import ExpiryTimers
from .identity import AuthInfo
from .journal import journal
from .limits import limiter
from .registry import registry
from .signals import connection_admitted, connection_closed

if TYPE_CHECKING:
    from .connection import Connection


def replace_auth(auth: AuthInfo, **changes: Any) -> AuthInfo:
    """``auth`` with ``changes``: identities are frozen, a socket's changes make a new one."""
    return replace(auth, **changes)


class LiveRegistration(ExpiryTimers):
    """Going live, retiring and the changes of identity a live socket goes through."""

    __slots__ = ()

    def go_live(self) -> None:
        """The socket is open: register it for revocation and start its expiry timer.

        The middleware started this process's revocation listener before the handshake.
        """
        if self.live or self.closed:
            return
        # Replay what was revoked since the handshake began: the registry could not see this
        # socket then. No await from here to registry.add, so nothing can slip in between.
        self.auth, revoked = journal.first_match(self.epoch, self.auth, self.id)
        self.live = True
        self.opened_at = time.time()
        if self.auth is not None and self.auth.is_authenticated:
            registry.add(cast("Connection", self))
        self._schedule_expiry()
        metrics.count_admitted(self.auth)
        if connection_admitted.has_listeners(self.signal_sender):
            self._spawn(self._notify(connection_admitted))
        if revoked is not None:
            self._revoke_late(revoked)

    def retire(self, code: int = 1000) -> bool:
        """The socket is over: forget it and cancel its timers; ``False`` if it was not live.

        Called from sync code, so the ``connection_closed`` signal goes out in a task;
        :meth:`close_live` sends it itself, before the client can see the close.
        """
        if not self._retire():
            return False
        metrics.count_closed(code)
        if connection_closed.has_listeners(self.signal_sender):
            self._spawn(self._notify(connection_closed, code=code))
        return True

    async def finish(self) -> None:
        """The application returned: retire the socket and free its connection-limit slot."""
        self.retire()
        if self.memberships is not None and self.membership_hook is not None:
            await self.membership_hook.finished(cast("Connection", self))
        await limiter.release(cast("Connection", self))

    def rekey_session(self, session_key: str) -> None:
        """Record that Django cycled this socket's session key (password change in this session)."""
        if self.auth is not None:
            self.auth = replace_auth(self.auth, session_key=session_key)
