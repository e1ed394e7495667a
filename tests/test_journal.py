"""The revocation journal: numbered entries, replayed on sockets that were not registered yet."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, User

from channels_warden.identity import AuthInfo
from channels_warden.journal import OVERFLOW, RevocationJournal, names

ALICE = User(pk=1, username="alice")


def alice(**fields: Any) -> AuthInfo:
    return AuthInfo(user=ALICE, authenticator="session", **fields)


def revoke(**criteria: Any) -> dict[str, Any]:
    return {"type": "warden.revoke", "code": 4499, "reason": "logout", **criteria}


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ({"user": "1"}, True),
        ({"user": "2"}, False),
        ({"session_key": "s1"}, True),
        ({"session_key": "s2"}, False),
        ({"token_id": "t1"}, True),
        ({"user": "1", "session_key": "s2"}, False),
        ({"user": "1", "except_session": "s1"}, False),
        ({"user": "1", "except_session": "s2"}, True),
        ({"user": "1", "authenticator": "simplejwt"}, False),
        ({"user": "1", "authenticator": "session"}, True),
        ({"authenticator": "session"}, False),
        ({"connection_id": "c1"}, True),
        ({"connection_id": "c2"}, False),
    ],
)
def test_names_follows_the_registrys_rules(criteria: dict[str, Any], expected: bool) -> None:
    """A message names a socket when every criterion given holds (as registry.matching decides)."""
    assert names(revoke(**criteria), alice(session_key="s1", token_id="t1"), "c1") is expected


def test_names_never_an_anonymous_socket_but_by_id() -> None:
    """Anonymous sockets are not in the registry: only an eviction by id can name them."""
    anonymous = AuthInfo(user=AnonymousUser())
    assert (
        names(revoke(user="None"), anonymous, "c1"),
        names(revoke(connection_id="c1"), anonymous, "c1"),
    ) == (
        False,
        True,
    )


def test_entries_are_numbered_from_one() -> None:
    """Each record returns the next epoch."""
    journal = RevocationJournal()
    assert [journal.record(revoke(user="1")), journal.record(revoke(user="2")), journal.epoch] == [1, 2, 2]


def test_first_match_finds_a_revocation_after_the_epoch() -> None:
    """A revocation recorded after the socket read the epoch names it."""
    journal = RevocationJournal()
    journal.record(revoke(session_key="s1", reason="before"))
    epoch = journal.epoch
    journal.record(revoke(user="2"))
    journal.record(revoke(session_key="s1", reason="after"))
    auth = alice(session_key="s1")
    assert journal.first_match(epoch, auth, "c1") == (auth, revoke(session_key="s1", reason="after"))


def test_first_match_ignores_what_came_before_the_epoch() -> None:
    """A revocation the credential check already saw is not replayed."""
    journal = RevocationJournal()
    journal.record(revoke(session_key="s1"))
    auth = alice(session_key="s1")
    assert journal.first_match(journal.epoch, auth, "c1") == (auth, None)


def test_first_match_follows_a_rekey() -> None:
    """A session cycled during the handshake is followed, and a logout of the new key still names it."""
    journal = RevocationJournal()
    epoch = journal.epoch
    journal.record({"type": "warden.rekey", "old": "s1", "new": "s9"})
    journal.record(revoke(session_key="s9"))
    rekeyed, revoked = journal.first_match(epoch, alice(session_key="s1"), "c1")
    assert (rekeyed.session_key, revoked) == ("s9", revoke(session_key="s9"))


def test_entries_beyond_the_bound_are_dropped_and_reported() -> None:
    """A socket older than what the journal kept cannot be proven clean: OVERFLOW."""
    journal = RevocationJournal(max_entries=2)
    epoch = journal.epoch
    for user in ("7", "8", "9"):
        journal.record(revoke(user=user))
    assert journal.first_match(epoch, alice(), "c1") == (alice(), OVERFLOW)


def test_old_entries_expire() -> None:
    """Entries older than the retention are dropped on the next record."""
    journal = RevocationJournal(retention=-1.0)
    journal.record(revoke(user="7"))
    journal.record(revoke(user="8"))
    assert (journal.since(0), journal.since(2)) == (None, [])
