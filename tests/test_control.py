"""Control frames: told apart from application frames cheaply, and parsed strictly."""

from __future__ import annotations

import json

import pytest

from channels_warden.control import ENVELOPE_BYTES, MAX_DEPTH, dumps, frame_token, parse_control
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


def test_oversized_warden_frame_is_a_bad_request() -> None:
    """A warden.* frame larger than a credential plus its envelope is refused (4400), never parsed."""
    text = '{"type": "warden.refresh", "token": "' + "a" * (ENVELOPE_BYTES + 100) + '"}'
    with pytest.raises(BadRequest) as exc_info:
        parse_control(text, max_bytes=100)
    assert exc_info.value.detail == "warden control frame of 1163 characters is over the size limit"


def test_oversized_application_frame_quoting_the_marker_passes() -> None:
    """A large chat message that mentions a warden frame in its text is the application's."""
    text = json.dumps({"type": "chat", "text": '{"type": "warden.refresh"} ' + "a" * 2000})
    assert parse_control(text, max_bytes=100) is None


@pytest.mark.parametrize(
    "text",
    [
        '{"type": "\\u0077arden.refresh", "token": "abc"}',
        '{"\\u0074ype": "warden.refresh", "token": "abc"}',
        '{"type":"\\u0077\\u0061\\u0072\\u0064\\u0065\\u006e\\u002erefresh", "token": "abc"}',
        ' \n{ "type" :\t"warden.refresh" , "token": "abc" }\n',
    ],
)
def test_escaped_or_spaced_warden_frames_are_control_frames(text: str) -> None:
    """Escapes and whitespace do not hide a warden.* type: the decoded type decides."""
    frame = parse_control(text, max_bytes=100)
    assert frame is not None
    assert (frame["token"], frame["type"]) == ("abc", "warden.refresh")


def test_escaped_marker_over_the_size_limit_is_a_bad_request() -> None:
    """An escaped warden.* type does not get a large frame past the size limit."""
    text = '{"type": "\\u0077arden.refresh", "token": "' + "a" * 2000 + '"}'
    with pytest.raises(BadRequest):
        parse_control(text, max_bytes=100)


def test_deeply_nested_warden_frame_is_a_bad_request_without_recursion() -> None:
    """A warden.* frame nested 100 000 deep is refused before any JSON parse."""
    text = '{"type": "warden.refresh", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(BadRequest) as exc_info:
        parse_control(text, max_bytes=1_000_000)
    assert exc_info.value.detail == f"warden control frame nested deeper than {MAX_DEPTH}"


def test_deeply_nested_application_frame_with_the_marker_passes_unparsed() -> None:
    """Deep nesting with the marker only in a string is the application's, and raises nothing here."""
    text = '{"note": "\\"warden.", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    assert parse_control(text, max_bytes=1_000_000) is None


def test_nested_warden_type_in_a_small_frame_is_the_applications() -> None:
    """Only the top-level type is reserved in a frame small enough to be parsed."""
    assert parse_control('{"type": "chat", "quote": {"type": "warden.refresh"}}', max_bytes=100) is None


def test_binary_warden_frame_is_a_control_frame() -> None:
    """A warden.* frame sent as UTF-8 bytes is judged like text."""
    assert parse_control(b'{"type": "warden.refresh", "token": "abc"}', max_bytes=100) == {
        "type": "warden.refresh",
        "token": "abc",
    }


@pytest.mark.parametrize("data", [b'\xff\xfe"warden.', b"\x00\x01 plain bytes"])
def test_other_binary_frames_are_the_applications(data: bytes) -> None:
    """Bytes that are not UTF-8, or that cannot spell the marker, pass untouched."""
    assert parse_control(data, max_bytes=100) is None


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


def test_escaped_non_ascii_text_is_the_applications() -> None:
    """json.dumps escapes every non-ASCII character; such frames are not control frames."""
    assert parse_control(json.dumps({"type": "chat", "text": "Grüße, 世界 " * 50}), max_bytes=100) is None
