"""When a live socket ends by itself: its expiry timer and the ``warden.expiring`` warning.

A socket ends when its credential does, or at ``MAX_CONNECTION_AGE``, whichever comes first. It has
one ``loop.call_at`` handle at a time and no task: first the warning (``EXPIRY_WARNING`` seconds
before the end, so that the client can refresh in-band), then the close with 4498.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

from .connection_closing import ConnectionClosing
from .control import dumps
from .exceptions import ConnectionExpired


class ExpiryTimers(ConnectionClosing):
    """The expiry timer of one live socket, re-armed by every refresh."""

    __slots__ = ()

    def expires_at(self) -> float | None:
        """When this socket will be closed for expiry: the credential's end, capped by max age."""
        ends = []
        if self.auth is not None and self.auth.expires_at is not None:
            ends.append(self.auth.expires_at)
        max_age = self.settings.MAX_CONNECTION_AGE
        if max_age is not None and self.opened_at is not None:
            ends.append(self.opened_at + float(max_age))
        return min(ends) if ends else None

    def _status_frame(self, kind: str) -> dict[str, Any]:
        return {"type": kind, "expires_at": self.expires_at()}

    def _schedule_expiry(self) -> None:
        """Arm the one timer: the ``warden.expiring`` warning first if there is one, else the close."""
        self._cancel_timer()
        end = self.expires_at()
        if end is None:
            return
        remaining = end - time.time()
        if not math.isfinite(remaining):
            # A custom authenticator's infinite end never comes; NaN would break the loop's timer
            # heap (uvloop raises on it), so it counts as ended: fail closed.
            if remaining > 0:
                return
            remaining = 0.0
        warning = float(self.settings.EXPIRY_WARNING or 0)
        if warning and remaining > 0:
            # A credential with less than the warning left is warned about at once: the client
            # still has until the end to refresh.
            self._call_later(max(remaining - warning, 0.0), self._on_expiring)
        else:
            self._call_later(max(remaining, 0.0), self._on_expired)

    def _call_later(self, delay: float, callback: Any) -> None:
        loop = asyncio.get_running_loop()
        self._timer = loop.call_at(loop.time() + delay, callback)

    def _on_expiring(self) -> None:
        self._timer = None
        if self.closed:
            return
        text = dumps(self._status_frame("warden.expiring"))
        self._spawn(self._send({"type": "websocket.send", "text": text}))
        end = self.expires_at()
        if end is not None:
            self._call_later(max(end - time.time(), 0.0), self._on_expired)

    def _on_expired(self) -> None:
        self._timer = None
        self._spawn(self.close_live(ConnectionExpired("credential expired")))
