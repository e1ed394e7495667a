"""Control frames: told apart from application frames cheaply, and parsed strictly."""

from __future__ import annotations

import pytest

from channels_warden.control import ENVELOPE_BYTES, dumps, frame_token, parse_control
from channels_warden.exceptions import BadRequest


def test_parses_a_warden_frame() -> None:
    """A small JSON object whose type starts with 'warden.' is a control frame."""
    assert parse_control('{"type": "warden.refresh", "token": "abc"}', max_bytes=100) == {
        "type": "warden.refresh",
        "token": "abc",
    }


@pytest.mark.parametrize(
    "text",
    [
        None,
        "hello",
        '{"type": "chat.message", "body": "no marker"}',
        '{"type": "chat.message", "body": "\\"warden.refresh"}',
        '["warden.refresh"]',
        '{"type": "warden.refresh"',
        '"warden.refresh"',
    ],
)
def test_application_frames_are_not_control_frames(text: str | None) -> None:
    """Binary frames, plain text, other JSON and broken JSON all belong to the application."""
    assert parse_control(text, max_bytes=100) is None


def test_large_frames_are_not_parsed() -> None:
    """A frame larger than a credential plus its envelope is never parsed."""
    text = '{"type": "warden.refresh", "token": "' + "a" * (ENVELOPE_BYTES + 100) + '"}'
    assert parse_control(text, max_bytes=100) is None


def test_frame_token_without_scheme() -> None:
    """A frame that names no scheme leaves the choice to the caller."""
    assert frame_token({"type": "warden.auth", "token": "abc"}) == (None, "abc")


def test_frame_token_scheme_is_lower_cased() -> None:
    """The scheme is compared lower-case, like every scheme."""
    assert frame_token({"type": "warden.auth", "token": "abc", "scheme": "Bearer"}) == ("bearer", "abc")


@pytest.mark.parametrize(
    ("frame", "detail"),
    [
        ({"type": "warden.auth"}, "warden.auth frame without a token string"),
        ({"type": "warden.auth", "token": ""}, "warden.auth frame without a token string"),
        ({"type": "warden.auth", "token": ["abc"]}, "warden.auth frame without a token string"),
        (
            {"type": "warden.refresh", "token": "abc", "scheme": 1},
            "warden.refresh frame with a non-string scheme",
        ),
    ],
)
def test_malformed_frames_are_bad_requests(frame: dict[str, object], detail: str) -> None:
    """A frame without a token string, or with a non-string scheme, is a 4400."""
    with pytest.raises(BadRequest) as exc_info:
        frame_token(frame)
    assert exc_info.value.detail == detail


def test_dumps_is_compact() -> None:
    """Frames go out without spaces."""
    assert (
        dumps({"type": "warden.refreshed", "expires_at": None})
        == '{"type":"warden.refreshed","expires_at":null}'
    )
