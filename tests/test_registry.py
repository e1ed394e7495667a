"""The registry of live connections, matched by what a revocation can name."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, User

from channels_warden.identity import AuthInfo
from channels_warden.registry import ConnectionRegistry, user_key


@dataclass(eq=False)
class FakeConnection:
    """What the registry reads from a Connection: an id and an AuthInfo."""

    id: str
    auth: AuthInfo | None
    rekeyed: list[str] = field(default_factory=list)

    def rekey_session(self, session_key: str) -> None:
        self.rekeyed.append(session_key)
        assert self.auth is not None
        self.auth = AuthInfo(
            user=self.auth.user,
            authenticator=self.auth.authenticator,
            session_key=session_key,
            token_id=self.auth.token_id,
        )


ALICE = User(pk=1, username="alice")
BOB = User(pk=2, username="bob")


def connection(conn_id: str, user: Any = ALICE, **auth: Any) -> FakeConnection:
    return FakeConnection(conn_id, AuthInfo(user=user, **auth))


@pytest.fixture
def registry() -> ConnectionRegistry:
    return ConnectionRegistry()


def test_user_key_is_the_primary_key_as_text() -> None:
    """Users are keyed by primary key text; anonymous users have no key."""
    assert (user_key(ALICE), user_key(AnonymousUser()), user_key(object())) == ("1", None, None)


def test_matches_by_user(registry: ConnectionRegistry) -> None:
    """A revocation naming a user finds every socket of that user and no other."""
    a1, a2, b1 = connection("a1"), connection("a2"), connection("b1", BOB)
    for conn in (a1, a2, b1):
        registry.add(conn)  # type: ignore[arg-type]
    assert sorted(c.id for c in registry.matching(user="1")) == ["a1", "a2"]


def test_matches_by_session_and_token(registry: ConnectionRegistry) -> None:
    """Session keys and token ids are indexes of their own."""
    s1 = connection("s1", session_key="sess-1")
    t1 = connection("t1", token_id="jwt:j1")
    registry.add(s1)  # type: ignore[arg-type]
    registry.add(t1)  # type: ignore[arg-type]
    assert (
        [c.id for c in registry.matching(session_key="sess-1")],
        [c.id for c in registry.matching(token_id="jwt:j1")],
    ) == (
        ["s1"],
        ["t1"],
    )


def test_criteria_are_combined(registry: ConnectionRegistry) -> None:
    """Every criterion given must match (user AND session)."""
    registry.add(connection("a1", session_key="sess-1"))  # type: ignore[arg-type]
    registry.add(connection("b1", BOB, session_key="sess-1"))  # type: ignore[arg-type]
    assert [c.id for c in registry.matching(user="1", session_key="sess-1")] == ["a1"]


def test_except_session_spares_that_session(registry: ConnectionRegistry) -> None:
    """A password change keeps the changing session's sockets."""
    registry.add(connection("keep", session_key="sess-keep"))  # type: ignore[arg-type]
    registry.add(connection("close", session_key="sess-other"))  # type: ignore[arg-type]
    assert [c.id for c in registry.matching(user="1", except_session="sess-keep")] == ["close"]


def test_authenticator_filter(registry: ConnectionRegistry) -> None:
    """A revocation may be limited to sockets one authenticator admitted."""
    registry.add(connection("jwt", authenticator="simplejwt"))  # type: ignore[arg-type]
    registry.add(connection("session", authenticator="session"))  # type: ignore[arg-type]
    assert [c.id for c in registry.matching(user="1", authenticator="simplejwt")] == ["jwt"]


def test_match_by_connection_id(registry: ConnectionRegistry) -> None:
    """An eviction names one connection by id; an unknown id matches nothing."""
    conn = connection("c1")
    registry.add(conn)  # type: ignore[arg-type]
    assert (registry.matching(connection_id="c1"), registry.matching(connection_id="zz")) == ([conn], [])


def test_no_criteria_match_nothing(registry: ConnectionRegistry) -> None:
    """A revocation naming nothing closes nothing."""
    registry.add(connection("c1"))  # type: ignore[arg-type]
    assert registry.matching(authenticator="simplejwt") == []


def test_discard_forgets_everything(registry: ConnectionRegistry) -> None:
    """A discarded connection matches nothing and is not counted."""
    conn = connection("c1", session_key="sess-1", token_id="jwt:j1")
    registry.add(conn)  # type: ignore[arg-type]
    registry.discard(conn)  # type: ignore[arg-type]
    registry.discard(conn)  # type: ignore[arg-type]
    assert (len(registry), registry.matching(user="1"), registry.matching(session_key="sess-1")) == (
        0,
        [],
        [],
    )


def test_discard_keeps_the_others(registry: ConnectionRegistry) -> None:
    """Discarding one socket of a user leaves the user's others."""
    a1, a2 = connection("a1"), connection("a2")
    registry.add(a1)  # type: ignore[arg-type]
    registry.add(a2)  # type: ignore[arg-type]
    registry.discard(a1)  # type: ignore[arg-type]
    assert [c.id for c in registry.matching(user="1")] == ["a2"]


def test_anonymous_connections_are_counted_but_never_matched(registry: ConnectionRegistry) -> None:
    """A connection without a user key is only reachable by id."""
    anonymous = FakeConnection("anon", AuthInfo.anonymous())
    unauthenticated = FakeConnection("none", None)
    registry.add(anonymous)  # type: ignore[arg-type]
    registry.add(unauthenticated)  # type: ignore[arg-type]
    assert (len(registry), registry.matching(connection_id="none")) == (2, [unauthenticated])


def test_rekey_moves_sockets_to_the_new_session(registry: ConnectionRegistry) -> None:
    """After Django cycles a session key, its sockets are found under the new key."""
    conn = connection("c1", session_key="old")
    registry.add(conn)  # type: ignore[arg-type]
    registry.rekey_session("old", "new")
    assert (registry.matching(session_key="old"), registry.matching(session_key="new"), conn.rekeyed) == (
        [],
        [conn],
        ["new"],
    )


def test_a_key_naming_one_socket_holds_it_without_a_set(registry: ConnectionRegistry) -> None:
    """One socket per key (a JWT's jti) is stored bare; a second makes a set, leaving undoes it."""
    first, second = connection("c1", token_id="jwt:1"), connection("c2", token_id="jwt:1")
    registry.add(first)  # type: ignore[arg-type]
    registry.add(first)  # type: ignore[arg-type]  (adding twice is harmless)
    assert registry._by_token["jwt:1"] is first
    registry.add(second)  # type: ignore[arg-type]
    assert registry._by_token["jwt:1"] == {first, second}
    registry.discard(first)  # type: ignore[arg-type]
    assert registry._by_token["jwt:1"] is second
    assert registry.matching(token_id="jwt:1") == [second]
    registry.discard(second)  # type: ignore[arg-type]
    registry.discard(second)  # type: ignore[arg-type]  (discarding twice is harmless)
    assert (registry._by_token, registry._by_user, len(registry)) == ({}, {}, 0)


def test_emptied_sets_leave_the_index(registry: ConnectionRegistry) -> None:
    """A set that loses its members one by one ends as no entry at all."""
    sockets = [connection(f"c{index}") for index in range(3)]
    for socket in sockets:
        registry.add(socket)  # type: ignore[arg-type]
    for socket in sockets:
        registry.discard(socket)  # type: ignore[arg-type]
    assert (registry._by_user, registry.matching(user="1")) == ({}, [])
