"""The ASGI messages that tell a client why it was refused, as pure functions.

A close before ``websocket.accept`` becomes an HTTP 403 in daphne and uvicorn, and a browser reports
that as close code 1006 with no reason. So by default a rejection is *accept, JSON frame, close with
a code*: every client, browsers included, can read the code and the frame. Deny mode refuses the HTTP
handshake instead: 401/403 with an RFC 6750 ``WWW-Authenticate`` where the server supports the
``websocket.http.response`` extension (uvicorn), a plain 403 where it does not (daphne).
"""

from __future__ import annotations

import json

from ._types import Message, Scope
from .codes import CloseCode
from .exceptions import InsufficientPermission, MissingCredentials, Rejection

MAX_CLOSE_REASON_BYTES = 123
HTTP_RESPONSE_EXTENSION = "websocket.http.response"


def disconnect_payload(rejection: Rejection) -> dict[str, object]:
    """The body of the ``warden.disconnect`` frame (and of a deny-mode HTTP response)."""
    payload: dict[str, object] = {
        "type": "warden.disconnect",
        "code": int(rejection.code),
        "reason": rejection.reason,
        "reconnect": rejection.code.reconnect,
    }
    if rejection.retry_after is not None:
        payload["retry_after"] = rejection.retry_after
    return payload


def close_message(code: CloseCode, reason: str) -> Message:
    """A ``websocket.close`` carrying the code and a reason cut to the protocol's 123 bytes."""
    # The limit is in bytes; cutting characters would let a multi-byte reason overflow the frame.
    cut = reason.encode("utf-8")[:MAX_CLOSE_REASON_BYTES].decode("utf-8", "ignore")
    return {"type": "websocket.close", "code": int(code), "reason": cut}


def close_messages(rejection: Rejection, *, accepted: bool, subprotocol: str | None) -> list[Message]:
    """Accept (unless already accepted), send the disconnect frame, close with the code."""
    messages: list[Message] = []
    if not accepted:
        messages.append({"type": "websocket.accept", "subprotocol": subprotocol})
    messages.append({"type": "websocket.send", "text": json.dumps(disconnect_payload(rejection))})
    messages.append(close_message(rejection.code, rejection.reason))
    return messages


def www_authenticate(rejection: Rejection, realm: str) -> bytes | None:
    """The RFC 6750 challenge for a deny-mode refusal, or ``None`` when it should carry none.

    Section 3.1: no ``error`` when the client presented no credential, ``invalid_token`` for a
    credential that is invalid or expired, ``insufficient_scope`` (with 403) when a permission
    refused an authenticated user. Other refusals (a foreign Origin, a limit, 4400, 4500) are not
    about the bearer token, so they get no challenge.
    """
    if isinstance(rejection, MissingCredentials):
        return f'Bearer realm="{realm}"'.encode("ascii")
    if rejection.code == CloseCode.UNAUTHENTICATED:
        error = "invalid_token"
    elif isinstance(rejection, InsufficientPermission):
        error = "insufficient_scope"
    else:
        return None
    return f'Bearer realm="{realm}", error="{error}"'.encode("ascii")


def deny_messages(rejection: Rejection, *, scope: Scope, realm: str) -> list[Message]:
    """Refuse the handshake with an HTTP response, or a bare close where the server cannot."""
    if HTTP_RESPONSE_EXTENSION not in (scope.get("extensions") or {}):
        return [{"type": "websocket.close", "code": int(rejection.code)}]
    status = rejection.code.http_status
    body = json.dumps(disconnect_payload(rejection)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    challenge = www_authenticate(rejection, realm)
    if challenge is not None:
        headers.append((b"www-authenticate", challenge))
    if rejection.retry_after is not None:
        headers.append((b"retry-after", str(rejection.retry_after).encode()))
    return [
        {"type": "websocket.http.response.start", "status": status, "headers": headers},
        {"type": "websocket.http.response.body", "body": body},
    ]
