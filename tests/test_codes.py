"""Close codes: the public table in DESIGN.md, code by code."""

from __future__ import annotations

import pytest

from channels_warden.codes import CloseCode

#: code, reason, what the client should do, HTTP status in deny mode
#: (DESIGN.md, "Rejection a browser can read").
TABLE = [
    (4400, "bad_request", "never", 400),
    (4401, "unauthenticated", "refresh", 401),
    (4403, "forbidden", "never", 403),
    (4404, "not_found", "never", 404),
    (4408, "auth_timeout", "retry", 408),
    (4409, "replaced", "never", 409),
    (4429, "too_many", "backoff", 429),
    (4498, "token_expired", "refresh", 401),
    (4499, "revoked", "never", 401),
    (4500, "internal", "backoff", 500),
]


@pytest.mark.parametrize(("code", "reason", "reconnect", "http_status"), TABLE)
def test_close_code_matches_the_design_table(
    code: int, reason: str, reconnect: str, http_status: int
) -> None:
    """Each close code has the reason, reconnect hint and HTTP status the design promises."""
    close_code = CloseCode(code)
    assert (close_code.reason, close_code.reconnect, close_code.http_status) == (
        reason,
        reconnect,
        http_status,
    )


def test_close_codes_are_exactly_the_table() -> None:
    """No code exists outside the documented table."""
    assert [int(code) for code in CloseCode] == [row[0] for row in TABLE]


def test_close_codes_are_in_the_private_use_band() -> None:
    """Every code is in 4000-4999, the band RFC 6455 leaves to applications."""
    assert all(4000 <= code <= 4999 for code in CloseCode)


def test_close_code_compares_equal_to_its_integer() -> None:
    """A CloseCode is an int, so it can go straight into a websocket.close message."""
    assert CloseCode.UNAUTHENTICATED == 4401
