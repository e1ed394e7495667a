"""Exceptions: codes, public reasons, and the detail that stays in the server log."""

from __future__ import annotations

import pytest

from channels_warden.codes import CloseCode
from channels_warden.exceptions import (
    AuthenticationFailed,
    BadRequest,
    ConflictingCredentials,
    CredentialExpired,
    InsufficientPermission,
    MissingCredentials,
    NotFound,
    OriginRejected,
    PermissionDenied,
    Rejection,
    ServiceUnavailable,
    WardenError,
)


@pytest.mark.parametrize(
    ("exception_class", "code", "reason"),
    [
        (Rejection, CloseCode.INTERNAL, "internal"),
        (BadRequest, CloseCode.BAD_REQUEST, "bad_request"),
        (ConflictingCredentials, CloseCode.BAD_REQUEST, "bad_request"),
        (AuthenticationFailed, CloseCode.UNAUTHENTICATED, "unauthenticated"),
        (CredentialExpired, CloseCode.UNAUTHENTICATED, "token_expired"),
        (MissingCredentials, CloseCode.UNAUTHENTICATED, "unauthenticated"),
        (PermissionDenied, CloseCode.FORBIDDEN, "forbidden"),
        (InsufficientPermission, CloseCode.FORBIDDEN, "forbidden"),
        (OriginRejected, CloseCode.FORBIDDEN, "forbidden"),
        (NotFound, CloseCode.NOT_FOUND, "not_found"),
        (ServiceUnavailable, CloseCode.INTERNAL, "internal"),
    ],
)
def test_exception_carries_its_code_and_reason(
    exception_class: type[Rejection], code: CloseCode, reason: str
) -> None:
    """Each exception closes with its documented code and public reason."""
    exc = exception_class()
    assert (exc.code, exc.reason) == (code, reason)


def test_detail_is_never_the_public_reason() -> None:
    """The detail names the failed check for the log; the reason sent to the client does not."""
    exc = AuthenticationFailed("user 'bob' does not exist")
    assert (exc.reason, exc.detail) == ("unauthenticated", "user 'bob' does not exist")


def test_detail_is_the_exception_message() -> None:
    """str(exc) is the detail, which is what the server log shows."""
    assert str(PermissionDenied("token user is inactive")) == "token user is inactive"


def test_reason_is_the_message_when_there_is_no_detail() -> None:
    """Without a detail the message falls back to the public reason."""
    assert str(BadRequest()) == "bad_request"


def test_explicit_reason_overrides_the_code_reason() -> None:
    """A rejection can carry a more specific public reason than its code's."""
    assert BadRequest("bad json", reason="bad_auth_message").reason == "bad_auth_message"


def test_credential_expired_has_a_default_detail() -> None:
    """CredentialExpired explains itself in the log even when raised bare."""
    assert CredentialExpired().detail == "credential expired"


def test_retry_after_is_kept() -> None:
    """retry_after travels with the rejection so the frame can tell the client when to retry."""
    assert Rejection("busy", retry_after=30).retry_after == 30


def test_retry_after_defaults_to_none() -> None:
    """Most rejections do not ask the client to wait."""
    assert AuthenticationFailed().retry_after is None


@pytest.mark.parametrize(
    ("exception_class", "parent"),
    [
        (Rejection, WardenError),
        (BadRequest, Rejection),
        (ConflictingCredentials, BadRequest),
        (AuthenticationFailed, Rejection),
        (CredentialExpired, AuthenticationFailed),
        (MissingCredentials, AuthenticationFailed),
        (PermissionDenied, Rejection),
        (InsufficientPermission, PermissionDenied),
        (OriginRejected, PermissionDenied),
        (ServiceUnavailable, Rejection),
    ],
)
def test_exception_tree_matches_the_module_docstring(
    exception_class: type[Exception], parent: type[Exception]
) -> None:
    """The hierarchy is the one drawn in the exceptions module docstring."""
    assert exception_class.__bases__ == (parent,)


def test_rejection_for_any_code_of_the_table() -> None:
    """Rejection(code=...) builds a rejection for a code that has no class of its own."""
    exc = Rejection("evicted by a newer socket", code=4409)
    assert (exc.code, exc.reason, exc.code.reconnect) == (CloseCode.REPLACED, "replaced", "never")
