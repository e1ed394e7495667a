"""Offered subprotocols read from the raw header the same way on every server."""

from __future__ import annotations

from typing import Any

import pytest

from channels_warden.exceptions import BadRequest
from channels_warden.subprotocols import MAX_ENTRIES, check_subprotocols, raw_subprotocols


def scope(headers: list[bytes], subprotocols: list[str]) -> dict[str, Any]:
    return {
        "type": "websocket",
        "headers": [(b"sec-websocket-protocol", value) for value in headers],
        "subprotocols": subprotocols,
    }


def refusal_detail(value: dict[str, Any]) -> str:
    with pytest.raises(BadRequest) as exc_info:
        check_subprotocols(value)
    return exc_info.value.detail


def test_raw_entries_are_split_on_commas_and_stripped() -> None:
    """Every field, split on commas, whitespace stripped: what uvicorn does and daphne does too."""
    assert raw_subprotocols(scope([b"warden , bearer.x", b"chat.v1"], [])) == [
        "warden",
        "bearer.x",
        "chat.v1",
    ]


def test_no_header_means_no_raw_list() -> None:
    """Without the header there is nothing to compare (in-process scopes)."""
    assert raw_subprotocols(scope([], ["warden"])) is None


def test_a_scope_matching_the_header_passes() -> None:
    """uvicorn's and daphne's list for an ordinary header equals warden's reading."""
    check_subprotocols(scope([b"warden, bearer.abc-DEF_1.x"], ["warden", "bearer.abc-DEF_1.x"]))


def test_a_percent_encoded_comma_is_refused_whatever_the_server_decoded() -> None:
    """``warden%2Cbearer.x``: uvicorn passes it through, daphne splits it; both get 4400."""
    expected = "a subprotocol entry holds '%', which daphne decodes and uvicorn does not"
    uvicorn = scope([b"warden%2Cbearer.x"], ["warden%2Cbearer.x"])
    daphne = scope([b"warden%2Cbearer.x"], ["warden", "bearer.x"])
    assert (refusal_detail(uvicorn), refusal_detail(daphne)) == (expected, expected)


def test_a_scope_that_differs_from_the_header_is_refused() -> None:
    """A server that changed the list some other way is caught by the comparison."""
    detail = refusal_detail(scope([b"warden, bearer.x"], ["warden"]))
    assert detail == "the server's subprotocol list differs from the Sec-WebSocket-Protocol header"


@pytest.mark.parametrize(
    "header",
    [
        b"warden, , bearer.x",
        b"warden,",
        b"war den",
        b"warden/1",
        b"bearer.abc=",
        b'"warden"',
        b"w\x7f",
        b"\xe9",
    ],
)
def test_an_entry_that_is_not_a_token_is_refused(header: bytes) -> None:
    """Empty entries, spaces, separators and non-ASCII are not RFC 6455 tokens: 4400."""
    value = scope([header], [entry.strip() for entry in header.decode("latin-1").split(",")])
    assert refusal_detail(value) == (
        "a subprotocol entry is not an RFC 6455 token (empty, space or separator)"
    )


def test_too_many_entries_are_refused_before_splitting_them_all() -> None:
    """A header with thousands of commas is cut at MAX_ENTRIES."""
    with pytest.raises(BadRequest) as exc_info:
        raw_subprotocols(scope([b"a," * 5000], []))
    assert exc_info.value.detail == f"more than {MAX_ENTRIES} subprotocol entries"


def test_an_empty_header_offers_nothing() -> None:
    """``Sec-WebSocket-Protocol:`` with no value is no offer (daphne lists it as [""])."""
    value = scope([b" "], [""])
    check_subprotocols(value)
    assert raw_subprotocols(value) is None
