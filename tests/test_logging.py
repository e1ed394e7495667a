"""RedactCredentialsFilter: credentials masked in log lines, everything else left alone."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from channels_warden.logging import (
    REDACTED,
    SERVER_LOGGERS,
    RedactCredentialsFilter,
    install_server_filters,
    loggable_path,
    redact,
)
from tests.inprocess import jwt_shaped

JWT = jwt_shaped(b"signature-value")
PARAMETERS = ("token", "ticket", "access_token")


def record(msg: str, *args: Any) -> logging.LogRecord:
    """A log record as a logger call would build it."""
    return logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, msg, args or None, None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"WebSocket /ws/?token=abc123" 403', f'"WebSocket /ws/?token={REDACTED}" 403'),
        ("/ws/?room=1&ticket=t-1&x=2", f"/ws/?room=1&ticket={REDACTED}&x=2"),
        ("/ws/?access_token=abc&token=def", f"/ws/?access_token={REDACTED}&token={REDACTED}"),
        ("/ws/?TOKEN=abc", f"/ws/?TOKEN={REDACTED}"),
        ("/ws/?token=abc ok", f"/ws/?token={REDACTED} ok"),
    ],
)
def test_query_parameters_are_masked(text: str, expected: str) -> None:
    """Values of token, ticket and access_token query parameters are masked up to the next separator."""
    assert redact(text, PARAMETERS) == expected


def test_similar_parameter_names_are_left_alone() -> None:
    """'mytoken' and 'tokens' are not 'token'."""
    assert redact("/ws/?mytoken=abc&tokens=def", PARAMETERS) == "/ws/?mytoken=abc&tokens=def"


def test_jwts_anywhere_are_masked() -> None:
    """A JWT is masked wherever it appears, query string or not."""
    assert redact(f"subprotocols ['warden', 'x{JWT}']", []) == f"subprotocols ['warden', 'x{REDACTED}']"


def test_bearer_values_are_masked() -> None:
    """An Authorization header value is masked after its keyword."""
    assert redact("authorization: Bearer 9944b09199c62bcf9418", []) == f"authorization: Bearer {REDACTED}"


def test_token_keyword_values_are_masked() -> None:
    """A DRF 'Token <key>' value is masked."""
    assert redact("Token 9944b09199c62bcf9418ad846dd0e4bb", []) == f"Token {REDACTED}"


def test_subprotocol_credentials_are_masked() -> None:
    """'token.<key>' as offered in Sec-WebSocket-Protocol is masked."""
    key = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"
    assert redact(f"offered token.{key}", []) == f"offered token.{REDACTED}"


def test_words_after_token_are_left_alone() -> None:
    """Prose such as 'invalid token signature' is not a credential and stays readable."""
    assert redact("invalid token signature", []) == "invalid token signature"


def test_ordinary_text_is_left_alone() -> None:
    """Log lines without credentials come out unchanged."""
    text = "refused websocket /ws/chat/ from 10.0.0.1 via header: 4401 unauthenticated (token expired)"
    assert redact(text, PARAMETERS) == text


def test_no_parameters_masks_no_query_values() -> None:
    """With no parameter names, query strings are left alone (JWTs are still masked)."""
    assert redact("/ws/?token=abc", []) == "/ws/?token=abc"


def test_filter_masks_a_record_with_args() -> None:
    """A record whose credential is in its args is rewritten as a formatted message."""
    rec = record('%s - "WebSocket %s" %d', "127.0.0.1:5000", "/ws/?token=abc", 403)
    assert RedactCredentialsFilter().filter(rec) is True
    assert (rec.getMessage(), rec.args) == (f'127.0.0.1:5000 - "WebSocket /ws/?token={REDACTED}" 403', None)


def test_filter_leaves_clean_records_untouched() -> None:
    """A record without credentials keeps its msg and args (lazy formatting survives)."""
    rec = record("connection %s closed", "abc")
    RedactCredentialsFilter().filter(rec)
    assert (rec.msg, rec.args) == ("connection %s closed", ("abc",))


def test_filter_never_drops_a_broken_record() -> None:
    """A record whose args do not fit its message is passed on unchanged."""
    rec = record("%s and %s", "one")
    assert (RedactCredentialsFilter().filter(rec), rec.msg, rec.args) == (True, "%s and %s", ("one",))


def test_filter_uses_given_parameters() -> None:
    """Parameters given to the filter replace the setting."""
    rec = record("/ws/?key=abc&token=def")
    RedactCredentialsFilter(parameters=["key"]).filter(rec)
    assert rec.getMessage() == f"/ws/?key={REDACTED}&token=def"


def test_filter_follows_the_setting(settings: Any) -> None:
    """Without parameters the filter reads REDACT_QUERY_PARAMETERS."""
    settings.WARDEN = {**settings.WARDEN, "REDACT_QUERY_PARAMETERS": ["sig"]}
    rec = record("/ws/?sig=abc&token=def")
    RedactCredentialsFilter().filter(rec)
    assert rec.getMessage() == f"/ws/?sig={REDACTED}&token=def"


def test_filter_falls_back_to_defaults_when_settings_are_broken(settings: Any) -> None:
    """A broken WARDEN setting does not stop the filter from masking the default parameters."""
    settings.WARDEN = {"NOT_A_KEY": 1}
    rec = record("/ws/?ticket=abc")
    RedactCredentialsFilter().filter(rec)
    assert rec.getMessage() == f"/ws/?ticket={REDACTED}"


def test_filter_works_through_a_logger(caplog: pytest.LogCaptureFixture) -> None:
    """Attached to a logger, the filter masks what handlers receive."""
    logger = logging.getLogger("tests.logging.redacted")
    logger.addFilter(RedactCredentialsFilter())
    try:
        with caplog.at_level(logging.INFO, logger="tests.logging.redacted"):
            logger.info("GET %s", f"/ws/?token={JWT}")
    finally:
        logger.filters.clear()
    assert caplog.messages == [f"GET /ws/?token={REDACTED}"]


@pytest.fixture
def clean_loggers() -> Iterator[list[str]]:
    names = ["tests.logging.server_a", "tests.logging.server_b"]
    yield names
    for name in names:
        logging.getLogger(name).filters.clear()


def test_install_server_filters_is_idempotent(clean_loggers: list[str]) -> None:
    """Installing twice leaves one filter per logger."""
    install_server_filters(clean_loggers)
    install_server_filters(clean_loggers)
    assert [len(logging.getLogger(name).filters) for name in clean_loggers] == [1, 1]


def test_server_loggers_have_the_filter_after_startup() -> None:
    """The app config attached the filter to uvicorn's and daphne's loggers."""
    assert all(
        any(isinstance(f, RedactCredentialsFilter) for f in logging.getLogger(name).filters)
        for name in SERVER_LOGGERS
    )


def test_long_opaque_keys_are_masked() -> None:
    """A DRF (40 hex) or knox (64 hex) token anywhere is masked."""
    drf, knox = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b", "a1" * 32
    assert redact(f"GET /ws/{drf}/ k={knox}", ()) == "GET /ws/[redacted]/ k=[redacted]"


@pytest.mark.parametrize(
    "text",
    [
        "/ws/room/550e8400-e29b-41d4-a716-446655440000/",
        "/ws/room/550e8400e29b41d4a716446655440000/",
        "/ws/chat/averyveryverylongroomnamewithoutdigitsatallinit/",
    ],
)
def test_uuids_and_long_words_are_left_alone(text: str) -> None:
    """UUIDs, dashed or not, and long words without digits are ids, not keys."""
    assert redact(text, ()) == text


def test_loggable_path_masks_escapes_and_caps() -> None:
    """Credentials are masked, control characters escaped (no forged log lines), length capped."""
    path = "/ws/" + jwt_shaped(b"sig") + "/\r\n" + "a" * 300
    assert loggable_path(path) == "/ws/[redacted]/\\r\\n" + "a" * 181 + "..."
