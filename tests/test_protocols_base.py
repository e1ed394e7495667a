"""``ProtocolAdapter``: reading the first frame and choosing codes, as pure functions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from channels_warden.credentials import Credential
from channels_warden.exceptions import AuthenticationFailed, BadRequest
from channels_warden.protocols.base import ProtocolAdapter


class Adapter(ProtocolAdapter):
    subprotocol = "test-protocol"
    close_codes = {4499: 4401}
    reason_codes = {(4401, "token_expired"): 4498}


def init(payload: Any = None, **frame: Any) -> dict[str, Any]:
    body = {"type": "connection_init", **frame}
    if payload is not None:
        body["payload"] = payload
    return {"type": "websocket.receive", "text": json.dumps(body)}


def parse(event: dict[str, Any], adapter: ProtocolAdapter | None = None) -> tuple[Any, Any]:
    return (adapter or Adapter()).parse_init(event, max_credential_bytes=64)


def test_bearer_keyword_gives_a_bearer_credential() -> None:
    """``Authorization: "Bearer abc"`` becomes a ``bearer`` credential from ``connection_init``."""
    credential, _ = parse(init({"Authorization": "Bearer abc"}))
    assert credential == Credential("bearer", "abc", "connection_init")


def test_token_keyword_gives_a_token_credential() -> None:
    """``"Token abc"`` takes the ``token`` scheme whatever the key's default."""
    credential, _ = parse(init({"authToken": "Token abc"}))
    assert credential == Credential("token", "abc", "connection_init")


def test_bare_value_takes_the_keys_scheme() -> None:
    """A value without a keyword gets the scheme configured for its key."""
    adapter = Adapter(credential_keys={"apiKey": "token"})
    credential, _ = parse(init({"apiKey": "abc"}), adapter)
    assert credential == Credential("token", "abc", "connection_init")


def test_credential_key_is_removed_from_the_replayed_frame() -> None:
    """The application's frame keeps every other key and field, and loses the credential."""
    _, replay = parse(init({"token": "abc", "locale": "fr"}, id="x"))
    assert json.loads(replay["text"]) == {"type": "connection_init", "id": "x", "payload": {"locale": "fr"}}


def test_frame_without_credential_is_replayed_untouched() -> None:
    """No credential key: no credential, and the very same event goes on."""
    event = init({"locale": "fr"})
    assert parse(event) == (None, event)


def test_frame_without_payload_has_no_credential() -> None:
    """A ``connection_init`` with no payload is an anonymous client."""
    event = init()
    assert parse(event) == (None, event)


@pytest.mark.parametrize(
    "event",
    [
        pytest.param({"type": "websocket.receive", "bytes": b"{}"}, id="binary"),
        pytest.param({"type": "websocket.receive", "text": "not json"}, id="not-json"),
        pytest.param({"type": "websocket.receive", "text": "[" * 100000}, id="too-large"),
        pytest.param({"type": "websocket.receive", "text": "[" * 60000}, id="deep"),
        pytest.param({"type": "websocket.receive", "text": "[1]"}, id="not-an-object"),
        pytest.param(init("abc"), id="payload-string"),
        pytest.param(init({"token": 5}), id="credential-not-a-string"),
        pytest.param(init({"token": ""}), id="credential-empty"),
        pytest.param(init({"token": "Basic abc"}), id="unknown-keyword"),
        pytest.param(init({"token": "a" * 65}), id="over-the-size-limit"),
        pytest.param(init({"token": "ab\x01c"}), id="control-character"),
        pytest.param(init({"token": "abc", "authToken": "abc"}), id="two-keys"),
    ],
)
def test_malformed_first_frame_is_bad_request(event: dict[str, Any]) -> None:
    """Anything that is not one readable credential in a JSON ``connection_init`` is a 4400."""
    with pytest.raises(BadRequest):
        parse(event)


def test_other_first_message_is_unauthenticated() -> None:
    """A ``subscribe`` before ``connection_init`` is the protocol's "unauthorized" (4401)."""
    event = {"type": "websocket.receive", "text": json.dumps({"type": "subscribe", "id": "1"})}
    with pytest.raises(AuthenticationFailed):
        parse(event)


def test_wire_close_prefers_the_reason_mapping() -> None:
    """``(4401, "token_expired")`` maps by reason before the code-only table."""
    assert Adapter().wire_close(4401, "token_expired") == 4498


def test_wire_close_maps_by_code() -> None:
    """A code in ``close_codes`` is replaced."""
    assert Adapter().wire_close(4499, "revoked") == 4401


def test_wire_close_keeps_unlisted_codes() -> None:
    """A code nobody mapped goes out as is."""
    assert Adapter().wire_close(4403, "forbidden") == 4403


def test_wire_close_is_a_plain_int() -> None:
    """The code is an ``int``, never an ``IntEnum`` (autobahn refuses those)."""
    from channels_warden.codes import CloseCode

    assert type(Adapter().wire_close(CloseCode.FORBIDDEN, "forbidden")) is int


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"type": "warden.disconnect", "code": 4401}', True),
        ('{"type":"warden.expiring","expires_at":1}', True),
        ('{"type": "next", "payload": {"data": {"x": "warden."}}}', False),
        (None, False),
    ],
)
def test_is_warden_frame(text: str | None, expected: bool) -> None:
    """Warden's frames are recognised by their leading type; an application frame never is."""
    assert ProtocolAdapter.is_warden_frame(text) is expected


def test_base_adapter_has_no_refusal_frame() -> None:
    """By default a ``warden.disconnect`` is replaced by nothing."""
    assert Adapter().refusal_frame({"type": "warden.disconnect", "code": 4401, "reason": "x"}) is None
