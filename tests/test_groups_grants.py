"""Grants (allow until, with metadata) and GroupDenied (the refusal a consumer sees)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from channels_warden.exceptions import WardenError
from channels_warden.groups import Grant, GroupDenied


def test_grant_without_end_never_expires() -> None:
    """``Grant()`` lasts as long as the socket."""
    assert (Grant().expires_at, Grant().expired()) == (None, False)


def test_grant_takes_a_datetime() -> None:
    """An aware datetime becomes its Unix time."""
    end = datetime(2030, 1, 1, tzinfo=UTC)
    assert Grant(expires_at=end).expires_at == end.timestamp()


def test_grant_refuses_other_ends() -> None:
    """An end that is neither a number nor a datetime is a ``TypeError``."""
    with pytest.raises(TypeError, match="Unix time or a datetime"):
        Grant(expires_at="tomorrow")  # type: ignore[arg-type]


def test_for_seconds_ends_that_far_ahead() -> None:
    """``Grant.for_seconds(60)`` ends 60 s from now and carries its metadata."""
    before = time.time()
    grant = Grant.for_seconds(60, role="guest")
    assert before + 60 <= grant.expires_at <= time.time() + 60  # type: ignore[operator]
    assert dict(grant.metadata) == {"role": "guest"}


def test_metadata_is_read_only() -> None:
    """A grant's metadata cannot be changed after the policy answered."""
    grant = Grant(metadata={"role": "owner"})
    with pytest.raises(TypeError):
        grant.metadata["role"] = "guest"  # type: ignore[index]


def test_expired_compares_with_now() -> None:
    """A grant whose end has passed is expired."""
    assert (Grant(expires_at=100.0).expired(now=100.0), Grant(expires_at=100.0).expired(now=99.0)) == (
        True,
        False,
    )


def test_group_denied_is_a_warden_error_with_a_frame() -> None:
    """``GroupDenied`` carries the group and reason, and builds the ``warden.denied`` frame."""
    denied = GroupDenied("chat.x", "unauthenticated", "the policy refused")
    assert isinstance(denied, WardenError)
    assert denied.frame() == {"type": "warden.denied", "group": "chat.x", "reason": "unauthenticated"}
    assert str(denied) == "group 'chat.x' refused: the policy refused"


def test_group_denied_refuses_an_unknown_reason() -> None:
    """Reasons are a closed set, so clients can rely on them."""
    with pytest.raises(ValueError, match="must be one of"):
        GroupDenied("chat.x", "nope")


def test_group_denied_frame_truncates_a_long_name() -> None:
    """A hostile name is cut to 100 characters in the frame."""
    assert GroupDenied("x" * 500, "bad_request").frame()["group"] == "x" * 100
