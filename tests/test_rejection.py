"""The messages that tell a client why it was refused, as pure functions."""

from __future__ import annotations

import json

import pytest

from channels_warden.codes import CloseCode
from channels_warden.exceptions import (
    AuthenticationFailed,
    BadRequest,
    CredentialExpired,
    InsufficientPermission,
    MissingCredentials,
    OriginRejected,
    PermissionDenied,
    Rejection,
    ServiceUnavailable,
)
from channels_warden.rejection import (
    close_message,
    close_messages,
    deny_messages,
    disconnect_payload,
    www_authenticate,
)

WITH_EXTENSION = {"type": "websocket", "extensions": {"websocket.http.response": {}}}


def test_disconnect_payload_for_expired_credentials() -> None:
    """The frame names the code, the public reason and what the client should do."""
    assert disconnect_payload(CredentialExpired("exp 1700000000 passed")) == {
        "type": "warden.disconnect",
        "code": 4401,
        "reason": "token_expired",
        "reconnect": "refresh",
    }


def test_disconnect_payload_carries_retry_after() -> None:
    """A rejection that asks the client to wait says for how long."""
    assert disconnect_payload(ServiceUnavailable("cache down", retry_after=5)) == {
        "type": "warden.disconnect",
        "code": 4500,
        "reason": "internal",
        "reconnect": "backoff",
        "retry_after": 5,
    }


def test_disconnect_payload_never_carries_the_detail() -> None:
    """The detail says which check failed; it stays in the server log."""
    payload = disconnect_payload(AuthenticationFailed("user 'bob' does not exist"))
    assert "bob" not in json.dumps(payload)


def test_close_messages_accept_send_frame_then_close() -> None:
    """Before accept: accept (echoing the subprotocol), JSON frame, close with the code."""
    assert close_messages(PermissionDenied("not staff"), accepted=False, subprotocol="warden") == [
        {"type": "websocket.accept", "subprotocol": "warden"},
        {
            "type": "websocket.send",
            "text": '{"type": "warden.disconnect", "code": 4403, "reason": "forbidden", '
            '"reconnect": "never"}',
        },
        {"type": "websocket.close", "code": 4403, "reason": "forbidden"},
    ]


def test_close_messages_after_accept_skip_the_accept() -> None:
    """On an open socket only the frame and the close go out."""
    messages = close_messages(AuthenticationFailed(), accepted=True, subprotocol="warden")
    assert [message["type"] for message in messages] == ["websocket.send", "websocket.close"]


def test_close_message_keeps_a_short_reason() -> None:
    """A reason within 123 bytes is sent as is."""
    assert close_message(CloseCode.REVOKED, "revoked") == {
        "type": "websocket.close",
        "code": 4499,
        "reason": "revoked",
    }


def test_close_message_cuts_the_reason_to_123_bytes() -> None:
    """RFC 6455 allows 123 bytes of reason; a longer one is cut."""
    assert close_message(CloseCode.BAD_REQUEST, "x" * 200)["reason"] == "x" * 123


def test_close_message_cuts_multibyte_reasons_by_bytes() -> None:
    """The limit is in UTF-8 bytes, and a character is never split in two."""
    reason = close_message(CloseCode.BAD_REQUEST, "é" * 100)["reason"]
    assert reason == "é" * 61


def test_www_authenticate_without_a_credential_has_no_error() -> None:
    """RFC 6750 section 3.1: no credential presented, so the challenge names no error."""
    assert www_authenticate(MissingCredentials(), "websocket") == b'Bearer realm="websocket"'


def test_www_authenticate_for_bad_credentials() -> None:
    """A credential that was presented and refused is RFC 6750's invalid_token."""
    assert www_authenticate(AuthenticationFailed(), "websocket") == (
        b'Bearer realm="websocket", error="invalid_token"'
    )


def test_www_authenticate_for_an_expired_credential() -> None:
    """An expired credential is invalid_token too."""
    assert www_authenticate(CredentialExpired(), "chat") == b'Bearer realm="chat", error="invalid_token"'


def test_www_authenticate_for_a_refused_permission() -> None:
    """A permission class refusing an authenticated user is RFC 6750's insufficient_scope."""
    assert www_authenticate(InsufficientPermission(), "chat") == (
        b'Bearer realm="chat", error="insufficient_scope"'
    )


@pytest.mark.parametrize(
    "rejection", [BadRequest(), PermissionDenied(), OriginRejected(), ServiceUnavailable()]
)
def test_www_authenticate_is_none_where_the_token_is_not_the_problem(rejection: Rejection) -> None:
    """A malformed request, a foreign Origin, an inactive user or a failure gets no challenge."""
    assert www_authenticate(rejection, "websocket") is None


def test_deny_without_the_extension_is_a_bare_close() -> None:
    """Where the server cannot send an HTTP response (daphne), deny is a close before accept."""
    assert deny_messages(AuthenticationFailed(), scope={"type": "websocket"}, realm="websocket") == [
        {"type": "websocket.close", "code": 4401}
    ]


def test_deny_without_a_credential_sends_401_with_a_bare_challenge() -> None:
    """With websocket.http.response (uvicorn) deny is a 401, a challenge without error, the JSON body."""
    body = b'{"type": "warden.disconnect", "code": 4401, "reason": "unauthenticated", "reconnect": "refresh"}'
    assert deny_messages(MissingCredentials(), scope=WITH_EXTENSION, realm="websocket") == [
        {
            "type": "websocket.http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", b'Bearer realm="websocket"'),
            ],
        },
        {"type": "websocket.http.response.body", "body": body},
    ]


def test_deny_for_a_bad_credential_sends_invalid_token() -> None:
    """A refused credential's 401 carries error="invalid_token"."""
    start = deny_messages(AuthenticationFailed(), scope=WITH_EXTENSION, realm="websocket")[0]
    assert start["headers"][-1] == (b"www-authenticate", b'Bearer realm="websocket", error="invalid_token"')


def test_deny_for_a_refused_permission_sends_403_insufficient_scope() -> None:
    """A permission refusal's 403 carries error="insufficient_scope"."""
    start = deny_messages(InsufficientPermission(), scope=WITH_EXTENSION, realm="websocket")[0]
    assert (start["status"], start["headers"][-1]) == (
        403,
        (b"www-authenticate", b'Bearer realm="websocket", error="insufficient_scope"'),
    )


@pytest.mark.parametrize(
    ("rejection", "status"),
    [(BadRequest(), 400), (PermissionDenied(), 403), (OriginRejected(), 403), (ServiceUnavailable(), 500)],
)
def test_deny_without_a_token_problem_has_no_challenge(rejection: Rejection, status: int) -> None:
    """Refusals that no other token would fix carry no WWW-Authenticate."""
    start = deny_messages(rejection, scope=WITH_EXTENSION, realm="websocket")[0]
    assert (start["status"], [name for name, _ in start["headers"]]) == (
        status,
        [b"content-type", b"content-length"],
    )


def test_deny_sends_retry_after() -> None:
    """A rejection with retry_after sets the Retry-After header."""
    start = deny_messages(ServiceUnavailable(retry_after=7), scope=WITH_EXTENSION, realm="r")[0]
    assert start["headers"][-1] == (b"retry-after", b"7")


def test_deny_body_is_the_disconnect_frame() -> None:
    """The HTTP body is the same JSON a close-mode client would read."""
    body = deny_messages(CredentialExpired(), scope=WITH_EXTENSION, realm="r")[1]["body"]
    assert json.loads(body) == disconnect_payload(CredentialExpired())
