"""checked_secret: the shape check every credential passes before anyone decodes it."""

from __future__ import annotations

import pytest

from channels_warden.credentials import Credential, checked_secret
from channels_warden.exceptions import BadRequest


def test_accepts_a_jwt() -> None:
    """A JWT (base64url segments and dots) has the shape of a token."""
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc-_DEF"
    assert checked_secret(jwt, max_bytes=8192, what="token") == jwt


def test_accepts_bytes_and_returns_text() -> None:
    """Raw header bytes come back as text."""
    assert checked_secret(b"9944b09199c62bcf9418ad846dd0e4bb", max_bytes=64, what="token") == (
        "9944b09199c62bcf9418ad846dd0e4bb"
    )


def test_accepts_base64_padding_at_the_end() -> None:
    """Standard base64 with '+', '/' and trailing '=' is a b64token (RFC 6750)."""
    assert checked_secret("ab+/cd==", max_bytes=64, what="token") == "ab+/cd=="


def test_accepts_exactly_max_bytes() -> None:
    """The limit is inclusive."""
    assert checked_secret("a" * 16, max_bytes=16, what="token") == "a" * 16


def test_refuses_one_byte_over_the_limit() -> None:
    """One byte over the limit is refused with the sizes in the detail."""
    with pytest.raises(BadRequest) as exc_info:
        checked_secret("a" * 17, max_bytes=16, what="token")
    assert exc_info.value.detail == "token is 17 bytes, over the 16-byte limit"


def test_size_is_checked_before_decoding_bytes() -> None:
    """Oversized non-ASCII bytes are refused for their size, without being decoded."""
    with pytest.raises(BadRequest) as exc_info:
        checked_secret(b"\xff" * 100, max_bytes=16, what="token")
    assert exc_info.value.detail == "token is 100 bytes, over the 16-byte limit"


def test_text_size_is_counted_in_utf8_bytes() -> None:
    """Ten two-byte characters are twenty bytes, over a sixteen-byte limit."""
    with pytest.raises(BadRequest) as exc_info:
        checked_secret("é" * 10, max_bytes=16, what="token")
    assert exc_info.value.detail == "token is 20 bytes, over the 16-byte limit"


def test_refuses_non_ascii_bytes() -> None:
    """Bytes outside ASCII are not a token."""
    with pytest.raises(BadRequest) as exc_info:
        checked_secret(b"abc\xe9", max_bytes=16, what="token")
    assert exc_info.value.detail == "token contains non-ASCII bytes"


@pytest.mark.parametrize(
    "raw",
    ["", "abc def", "abc\n", "abc\x00", "ab=cd", "abc;", "abc,def", 'a"b', "é", "\udcff"],
)
def test_refuses_characters_no_token_has(raw: str) -> None:
    """Spaces, controls, separators, inner '=', non-ASCII and the empty string are refused."""
    with pytest.raises(BadRequest) as exc_info:
        checked_secret(raw, max_bytes=64, what="token")
    assert exc_info.value.detail == "token contains characters no token has (space, control, non-ASCII)"


def test_refusal_is_a_bad_request() -> None:
    """A malformed credential closes with 4400, not 4401: retrying it as is cannot work."""
    with pytest.raises(BadRequest) as exc_info:
        checked_secret("a b", max_bytes=64, what="token")
    assert exc_info.value.code == 4400


def test_credential_repr_hides_the_secret() -> None:
    """A credential can be logged without leaking its secret."""
    credential = Credential("bearer", "s3cr3t-value", "header")
    assert repr(credential) == "Credential(scheme='bearer', transport='header', ambient=False)"
