"""What this process has revoked lately, so that a socket opening at the same moment cannot miss it.

A socket is checked at the handshake and registered for revocation only when it goes live. A
revocation that reaches the process in between matches nothing in the registry, and the socket would
outlive it. So every revocation the listener applies is first written here with a number (the
*epoch*); a :class:`~channels_warden.connection.Connection` reads the epoch when it is created, before
its credential is checked, and when it goes live it looks for an entry after that epoch that names it.
Both steps are synchronous on the event loop, as is the listener's record-then-match, so a revocation
is either in the journal before the socket looks or finds the socket in the registry.

This closes the window *in a process*. It relies on revocations being broadcast only once the change
they announce is visible to a new handshake (the triggers broadcast on commit, and logout deletes the
session before broadcasting): a handshake that read the old state then necessarily started before the
message arrived.

The journal keeps entries for :data:`RETENTION` seconds and at most :data:`MAX_ENTRIES`; a handshake
older than what is left cannot be proven clean and is refused (4500, retry).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from .identity import AuthInfo
from .registry import user_key

#: Seconds an entry is kept: longer than any handshake (first-message auth waits ``AUTH_TIMEOUT``).
RETENTION = 300.0
#: Entries kept at most, whatever their age (a revocation storm must not grow memory without bound).
MAX_ENTRIES = 4096
#: What :meth:`RevocationJournal.first_match` answers when entries the caller needed were dropped.
OVERFLOW: Mapping[str, Any] = {"type": "warden.journal_overflow"}

REVOKE_TYPE = "warden.revoke"
REKEY_TYPE = "warden.rekey"


def names(message: Mapping[str, Any], auth: AuthInfo | None, connection_id: str) -> bool:
    """Whether the revocation ``message`` names a socket with ``auth`` and ``connection_id``.

    The same rules as :meth:`~channels_warden.registry.ConnectionRegistry.matching`: every criterion
    given must hold, and at least one of user, session, token or connection id must be given.
    """
    wanted_id = message.get("connection_id")
    if wanted_id is not None:
        return bool(wanted_id == connection_id)
    if auth is None or not auth.is_authenticated:
        return False
    criteria = (
        (message.get("user"), user_key(auth.user)),
        (message.get("session_key"), auth.session_key),
        (message.get("token_id"), auth.token_id),
    )
    if all(wanted is None for wanted, _ in criteria):
        return False
    if any(wanted is not None and wanted != held for wanted, held in criteria):
        return False
    except_session = message.get("except_session")
    if except_session is not None and auth.session_key == except_session:
        return False
    authenticator = message.get("authenticator")
    return authenticator is None or authenticator == auth.authenticator


class RevocationJournal:
    """The numbered revocations (and session re-keys) this process applied in the last minutes."""

    def __init__(self, retention: float = RETENTION, max_entries: int = MAX_ENTRIES) -> None:
        self.retention = retention
        self.max_entries = max_entries
        self.epoch = 0
        #: The highest epoch dropped so far: a reader older than it may have missed an entry.
        self._dropped = 0
        self._entries: deque[tuple[int, float, Mapping[str, Any]]] = deque()

    def record(self, message: Mapping[str, Any]) -> int:
        """Write a revocation or re-key that is being applied now; return its epoch."""
        now = time.monotonic()
        self.epoch += 1
        self._entries.append((self.epoch, now, message))
        self._prune(now)
        return self.epoch

    def _prune(self, now: float) -> None:
        horizon = now - self.retention
        entries = self._entries
        while entries and (len(entries) > self.max_entries or entries[0][1] < horizon):
            self._dropped = entries.popleft()[0]

    def since(self, epoch: int) -> list[Mapping[str, Any]] | None:
        """The entries after ``epoch``, oldest first; ``None`` when some of them were dropped."""
        self._prune(time.monotonic())
        if epoch < self._dropped:
            return None
        return [message for number, _, message in self._entries if number > epoch]

    def first_match(
        self, epoch: int, auth: AuthInfo | None, connection_id: str
    ) -> tuple[AuthInfo | None, Mapping[str, Any] | None]:
        """Replay the entries after ``epoch`` on a socket: its auth after re-keys, and what revoked it.

        Returns the socket's auth (re-keyed if a session it used was cycled meanwhile) and the first
        revocation that names it, or :data:`OVERFLOW` when entries it needed were dropped.
        """
        if epoch == self.epoch:
            return auth, None  # the common case: nothing happened during the handshake
        entries = self.since(epoch)
        if entries is None:
            return auth, OVERFLOW
        for message in entries:
            kind = message.get("type")
            if kind == REKEY_TYPE:
                if auth is not None and auth.session_key == message.get("old"):
                    auth = replace(auth, session_key=message.get("new"))
            elif kind == REVOKE_TYPE and names(message, auth, connection_id):
                return auth, message
        return auth, None

    def clear(self) -> None:
        """Forget everything (tests)."""
        self._entries.clear()
        self._dropped = self.epoch


journal = RevocationJournal()
