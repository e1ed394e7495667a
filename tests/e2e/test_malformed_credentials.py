"""Malformed credentials: 4400 from warden, or the server's own refusal where they never reach warden.

Some bytes never get past the server: the ``websockets`` client will not even send them, so those
tests write the request with :class:`~tests.e2e.raw.RawClient`. Where a server may refuse an input
itself, the tests assert warden's promise (never admitted, no 5xx, the credential never echoed, the
server still serves the next client), not what one release of uvicorn or daphne answers: that is
recorded in docs/testing.md with the versions it was seen in.
"""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import assert_refused, create_user, disconnect, mint
from .raw import RawClient, RawOutcome, assert_never_admitted

pytestmark = pytest.mark.django_db(transaction=True)

#: A token too large for warden (MAX_CREDENTIAL_BYTES is 8192) but under daphne's 16 KiB line limit.
NINE_KIB = 9 * 1024
ONE_MIB = 1024 * 1024


def raw_client(ws: Any) -> RawClient:
    return RawClient(ws.server)


def assert_raw_refused(outcome: RawOutcome, code: int) -> None:
    """The upgrade succeeded (101), warden's frame arrived, then the close with ``code``."""
    assert (outcome.status, outcome.whoami, outcome.frame, outcome.close_code) == (
        101,
        None,
        disconnect(code),
        code,
    )


async def assert_still_serving(ws: Any) -> None:
    """The server answers a plain handshake as usual (no credentials: 4401)."""
    assert_refused(await ws.handshake("/ws/echo/"), 4401)


# Authorization header -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("Bearer", id="bearer-keyword-only"),
        pytest.param("Token", id="token-keyword-only"),
        pytest.param("Bearer ", id="keyword-and-space"),
        pytest.param("", id="empty"),
        pytest.param("Basic YWxpY2U6c2VjcmV0", id="basic-scheme"),
        pytest.param("Digest abc", id="digest-scheme"),
        pytest.param("Bearer abc def", id="space-in-token"),
        pytest.param("Bearer  abcdef", id="two-spaces"),
        pytest.param("Bearer abc\tdef", id="tab-in-token"),
        pytest.param("Bearer abc;def", id="semicolon-in-token"),
        pytest.param("Bearer tökén", id="latin-1-token"),
    ],
)
async def test_malformed_authorization_header_is_a_bad_request(ws: Any, value: str) -> None:
    """An Authorization header that is not ``<known keyword> <token>`` gets 4400."""
    assert_refused(await ws.handshake("/ws/echo/", headers=[("Authorization", value)]), 4400)


async def test_two_authorization_headers_are_a_bad_request(ws: Any, make_user: Any) -> None:
    """Two Authorization headers, even both valid for the same user, get 4400."""
    user = await create_user(make_user)
    token = await mint(user, "drf")
    headers = [("Authorization", f"Token {token}"), ("Authorization", f"Token {token}")]
    assert_refused(await ws.handshake("/ws/echo/", headers=headers), 4400)


async def test_utf8_bytes_in_token_are_a_bad_request(ws: Any) -> None:
    """Raw UTF-8 bytes in the token reach warden on both servers and get 4400."""
    outcome = await raw_client(ws).handshake("/ws/echo/", ["Authorization: Bearer tökén".encode()])
    assert_raw_refused(outcome, 4400)


async def test_nul_byte_in_token_is_never_admitted(ws: Any) -> None:
    """A NUL byte in a header: refused (by the server, or by warden with 4400), never admitted."""
    outcome = await raw_client(ws).handshake("/ws/echo/", [b"Authorization: Bearer abc\x00def"])
    assert_never_admitted(outcome, codes=(4400,), secret=b"abc\x00def")
    await assert_still_serving(ws)


async def test_control_byte_in_token_is_never_admitted(ws: Any) -> None:
    """A control byte (0x01) in a header: refused (by the server, or by warden with 4400), never admitted."""
    outcome = await raw_client(ws).handshake("/ws/echo/", [b"Authorization: Bearer abc\x01def"])
    assert_never_admitted(outcome, codes=(4400,), secret=b"abc\x01def")
    await assert_still_serving(ws)


async def test_large_token_under_the_limits_reaches_the_authenticator(ws: Any) -> None:
    """An 8000-byte token is under every limit: warden judges it and refuses it as invalid (4401)."""
    outcome = await ws.handshake("/ws/echo/", headers=[("Authorization", "Bearer " + "a" * 8000)])
    assert_refused(outcome, 4401)


async def test_nine_kib_token_is_never_admitted(ws: Any) -> None:
    """A 9 KiB token is over MAX_CREDENTIAL_BYTES: the server's header limit or warden (4400) refuses it."""
    token = b"a" * NINE_KIB
    outcome = await raw_client(ws).handshake(
        "/ws/echo/", [b"Authorization: Bearer " + token], end_request=True
    )
    assert_never_admitted(outcome, codes=(4400,), secret=token)
    await assert_still_serving(ws)


async def test_one_mib_token_is_never_admitted(ws: Any) -> None:
    """A 1 MiB header is over every server's limit: refused or dropped, never echoed, server still serving."""
    token = b"a" * ONE_MIB
    outcome = await raw_client(ws).handshake(
        "/ws/echo/", [b"Authorization: Bearer " + token], end_request=True
    )
    assert_never_admitted(outcome, codes=(4400,), secret=token)
    await assert_still_serving(ws)


# Sec-WebSocket-Protocol -----------------------------------------------------------------------------


async def test_empty_subprotocol_entry_is_a_bad_request(ws: Any, make_user: Any) -> None:
    """``warden, , bearer.<jwt>`` (an empty entry next to a valid token) gets 4400 on both servers."""
    user = await create_user(make_user)
    token = await mint(user, "jwt")
    header = f"Sec-WebSocket-Protocol: warden, , bearer.{token}".encode()
    outcome = await raw_client(ws).handshake("/ws/echo/", [header])
    assert (outcome.status, outcome.headers["sec-websocket-protocol"]) == (101, "warden")
    assert_raw_refused(outcome, 4400)


async def test_empty_subprotocol_header_is_never_admitted(ws: Any) -> None:
    """An empty ``Sec-WebSocket-Protocol`` carries no credential: refused by the server or by warden."""
    outcome = await raw_client(ws).handshake("/ws/echo/", [b"Sec-WebSocket-Protocol: "])
    assert_never_admitted(outcome, codes=(4400, 4401))
    await assert_still_serving(ws)


async def test_duplicate_marker_subprotocol_is_never_admitted(ws: Any, make_user: Any) -> None:
    """``warden`` offered twice next to a valid token: 4400 from warden, or the server's own refusal."""
    user = await create_user(make_user)
    token = await mint(user, "jwt")
    header = f"Sec-WebSocket-Protocol: warden, warden, bearer.{token}".encode()
    outcome = await raw_client(ws).handshake("/ws/echo/", [header])
    assert_never_admitted(outcome, codes=(4400,), secret=token.encode())
    await assert_still_serving(ws)


async def test_two_credential_subprotocols_are_a_bad_request(ws: Any, make_user: Any) -> None:
    """Two ``bearer.`` entries, even the same valid token twice, get 4400."""
    user = await create_user(make_user)
    token = await mint(user, "jwt")
    other = await mint(user, "jwt")
    outcome = await ws.handshake("/ws/echo/", subprotocols=["warden", f"bearer.{token}", f"bearer.{other}"])
    assert_refused(outcome, 4400)


async def test_credential_subprotocol_without_marker_is_a_bad_request(ws: Any, make_user: Any) -> None:
    """``bearer.<jwt>`` without the ``warden`` marker gets 4400, and nothing is echoed."""
    user = await create_user(make_user)
    token = await mint(user, "jwt")
    outcome = await ws.handshake("/ws/echo/", subprotocols=[f"bearer.{token}"])
    assert outcome.subprotocol is None
    assert_refused(outcome, 4400)


async def test_empty_token_in_subprotocol_is_a_bad_request(ws: Any) -> None:
    """``["warden", "bearer."]`` (a scheme with no token) gets 4400."""
    assert_refused(await ws.handshake("/ws/echo/", subprotocols=["warden", "bearer."]), 4400)


async def test_more_than_sixteen_subprotocols_are_a_bad_request(ws: Any, make_user: Any) -> None:
    """Seventeen offered subprotocols get 4400 before any token is read."""
    user = await create_user(make_user)
    token = await mint(user, "jwt")
    offered = ["warden", f"bearer.{token}", *(f"app.v{number}" for number in range(15))]
    assert_refused(await ws.handshake("/ws/echo/", subprotocols=offered), 4400)


# Query string (only under /query/) ------------------------------------------------------------------


async def test_duplicate_query_token_is_a_bad_request(ws: Any, make_user: Any) -> None:
    """``?token=<jwt>&token=<jwt>`` gets 4400: a proxy and the server could disagree on which counts."""
    user = await create_user(make_user)
    token = await mint(user, "jwt")
    assert_refused(await ws.handshake(f"/query/ws/echo/?token={token}&token={token}"), 4400)


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("token=abc%zzdef", id="non-hex-escape"),
        pytest.param("token=abcdef%", id="truncated-escape"),
        pytest.param("token=abc%4", id="half-escape"),
        pytest.param("token=%ff%fe", id="non-utf8"),
        pytest.param("token=abc%00def", id="encoded-nul"),
        pytest.param("token=abc+def", id="plus-is-space"),
        pytest.param("token=", id="empty"),
    ],
)
async def test_malformed_query_token_is_a_bad_request(ws: Any, query: str) -> None:
    """A ``token`` parameter with broken percent-encoding or characters no token has gets 4400."""
    assert_refused(await ws.handshake(f"/query/ws/echo/?{query}"), 4400)


async def test_percent_encoded_query_token_is_decoded(ws: Any, make_user: Any) -> None:
    """Control: a JWT whose dots are percent-encoded decodes to the same token and is admitted."""
    user = await create_user(make_user)
    token = await mint(user, "jwt")
    outcome = await ws.handshake(f"/query/ws/echo/?token={token.replace('.', '%2E')}")
    assert outcome.whoami is not None
    assert outcome.whoami["user"] == "alice"


# Cookies --------------------------------------------------------------------------------------------


async def test_access_token_cookie_with_characters_no_token_has_is_a_bad_request(ws: Any) -> None:
    """An ``access_token`` cookie holding ``$`` gets 4400."""
    assert_refused(await ws.handshake("/ws/echo/", headers=[("Cookie", "access_token=abc$def")]), 4400)
