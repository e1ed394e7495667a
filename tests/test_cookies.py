"""Credential cookies read from the raw Cookie field(s): one value per name, or a 4400."""

from __future__ import annotations

from typing import Any

import pytest

from channels_warden.cookies import cookie_header, cookie_value, without_cookie
from channels_warden.exceptions import BadRequest


def scope(*values: bytes) -> dict[str, Any]:
    return {"type": "websocket", "headers": [(b"cookie", value) for value in values]}


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param((b"sessionid=A; sessionid=B",), id="one-field"),
        pytest.param((b"sessionid=A", b"sessionid=B"), id="two-fields-uvicorn"),
        pytest.param((b"sessionid=A, sessionid=B",), id="two-fields-joined-by-daphne"),
        pytest.param((b"sessionid=A; theme=dark; sessionid=A",), id="same-value-twice"),
        pytest.param((b" sessionid =A;sessionid=B",), id="spaces-around-the-name"),
    ],
)
def test_a_cookie_named_twice_is_a_bad_request(fields: tuple[bytes, ...]) -> None:
    """Two values for one credential cookie are ambiguous, however the fields arrive."""
    with pytest.raises(BadRequest) as exc_info:
        cookie_value(scope(*fields), "sessionid")
    assert exc_info.value.detail == "cookie 'sessionid' given more than once"


@pytest.mark.parametrize(
    ("fields", "value"),
    [
        ((b"theme=dark; sessionid=abc",), "abc"),
        ((b"theme=dark", b"sessionid=abc"), "abc"),
        ((b"theme=dark, sessionid=abc",), "abc"),
        ((b'sessionid="abc"',), "abc"),
        ((b"xsessionid=1; sessionidx=2",), None),
        ((b"theme=dark",), None),
        ((), None),
    ],
)
def test_a_cookie_named_once_is_read_the_same_on_every_server(fields: tuple[bytes, ...], value: Any) -> None:
    """One occurrence is found whether fields are separate (uvicorn) or comma-joined (daphne)."""
    assert cookie_value(scope(*fields), "sessionid") == value


def test_other_cookies_named_twice_do_not_matter() -> None:
    """Only the credential's name must be unique; a duplicated theme cookie is not warden's business."""
    assert cookie_value(scope(b"theme=a; theme=b; sessionid=abc"), "sessionid") == "abc"


def test_cookie_header_joins_every_field() -> None:
    """Separate Cookie fields (HTTP/2 crumbs) are joined with '; '."""
    assert cookie_header(scope(b"a=1", b"b=2")) == "a=1; b=2"


@pytest.mark.parametrize(
    ("header", "kept"),
    [
        ("key=secret; theme=dark", "theme=dark"),
        ("xkey=1; key=secret; theme=dark", "xkey=1; theme=dark"),
        ("theme=dark, key=secret", "theme=dark"),
        ("prefs=a,b; key=secret", "prefs=a,b"),
        ("key=secret", ""),
    ],
)
def test_without_cookie_removes_only_that_cookie(header: str, kept: str) -> None:
    """The named pair goes, lookalike names and other cookies stay as they were."""
    assert without_cookie(header, "key") == kept
