"""The live connections of this process, indexed by what a revocation can name.

One registry per process. Revocations arrive once per process (see :mod:`.revocation`) and are
matched here in O(matches), not O(connections): by user, by session key, by token id.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .connection import Connection


def user_key(user: object) -> str | None:
    """The registry's key for a user (its primary key as text), ``None`` for anonymous users."""
    if not getattr(user, "is_authenticated", False):
        return None
    return str(getattr(user, "pk", None))


#: One index: key -> the connection, or a set of them once a key has several. Most keys (a JWT's
#: ``jti``, a session) name one socket, and a set per socket would cost ~200 bytes each.
Index = dict[str, "Connection | set[Connection]"]


def _put(index: Index, key: str, connection: Connection) -> None:
    held = index.get(key)
    if held is None:
        index[key] = connection
    elif isinstance(held, set):
        held.add(connection)
    elif held is not connection:
        index[key] = {held, connection}


def _remove(index: Index, key: str, connection: Connection) -> None:
    held = index.get(key)
    if held is connection:
        del index[key]
    elif isinstance(held, set):
        held.discard(connection)
        if len(held) == 1:
            index[key] = next(iter(held))
        elif not held:
            del index[key]


def _members(index: Index, key: str) -> set[Connection]:
    held = index.get(key)
    if held is None:
        return set()
    return set(held) if isinstance(held, set) else {held}


class ConnectionRegistry:
    """Live, authenticated connections of this process."""

    def __init__(self) -> None:
        self._by_user: Index = {}
        self._by_session: Index = {}
        self._by_token: Index = {}
        self._by_id: dict[str, Connection] = {}

    def _indexes(self, connection: Connection) -> Iterator[tuple[Index, str]]:
        auth = connection.auth
        if auth is None:
            return
        key = user_key(auth.user)
        if key is not None:
            yield self._by_user, key
        if auth.session_key:
            yield self._by_session, auth.session_key
        if auth.token_id:
            yield self._by_token, auth.token_id

    def add(self, connection: Connection) -> None:
        self._by_id[connection.id] = connection
        for index, key in self._indexes(connection):
            _put(index, key, connection)

    def discard(self, connection: Connection) -> None:
        self._by_id.pop(connection.id, None)
        for index, key in self._indexes(connection):
            _remove(index, key, connection)

    def matching(
        self,
        *,
        user: str | None = None,
        session_key: str | None = None,
        token_id: str | None = None,
        except_session: str | None = None,
        authenticator: str | None = None,
        connection_id: str | None = None,
    ) -> list[Connection]:
        """Connections matching every criterion given (at least one of user, session, token, id)."""
        if connection_id is not None:
            found_one = self._by_id.get(connection_id)
            return [found_one] if found_one is not None else []
        buckets = [
            _members(index, key)
            for index, key in (
                (self._by_user, user),
                (self._by_session, session_key),
                (self._by_token, token_id),
            )
            if key is not None
        ]
        if not buckets:
            return []
        found = set.intersection(*buckets)
        return [
            connection
            for connection in found
            if connection.auth is not None
            and (except_session is None or connection.auth.session_key != except_session)
            and (authenticator is None or connection.auth.authenticator == authenticator)
        ]

    def rekey_session(self, old: str, new: str) -> None:
        """Move connections opened with session ``old`` to ``new`` (Django cycled the key)."""
        for connection in _members(self._by_session, old):
            self.discard(connection)
            connection.rekey_session(new)
            self.add(connection)

    def __len__(self) -> int:
        return len(self._by_id)


registry = ConnectionRegistry()
