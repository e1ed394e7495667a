"""A handshake described by flags, a raw request or a copy-as-cURL command, turned into a scope."""

from __future__ import annotations

import pytest

from channels_warden.explain.request import RequestError, from_curl, from_flags, from_pasted, to_scope


def test_flags_become_headers_in_order() -> None:
    """-H, --origin, --subprotocol and --cookie become one header each, cookies joined as browsers do."""
    request = from_flags(
        "ws://example.com/ws/",
        headers=["Authorization: Token abc"],
        origin="https://app.example.com",
        subprotocols=["warden", "bearer.x"],
        cookies=["a=1", "b=2"],
    )
    assert request.headers == [
        ("Authorization", "Token abc"),
        ("Origin", "https://app.example.com"),
        ("Sec-WebSocket-Protocol", "warden, bearer.x"),
        ("Cookie", "a=1; b=2"),
    ]


def test_scope_is_what_a_server_builds() -> None:
    """Host from the URL, lower-case header names, decoded path, raw query, subprotocols split."""
    scope = to_scope(from_flags("wss://example.com:8443/ws/a%20b/?x=1", subprotocols=["warden", "chat.v1"]))
    assert {
        key: scope[key] for key in ("scheme", "path", "raw_path", "query_string", "headers", "server")
    } == {
        "scheme": "wss",
        "path": "/ws/a b/",
        "raw_path": b"/ws/a%20b/",
        "query_string": b"x=1",
        "headers": [(b"host", b"example.com:8443"), (b"sec-websocket-protocol", b"warden, chat.v1")],
        "server": ["example.com", 8443],
    }
    assert scope["subprotocols"] == ["warden", "chat.v1"]


def test_http_urls_are_read_as_websocket_urls() -> None:
    """An http:// URL (as copied from a page) is its ws:// socket."""
    assert to_scope(from_flags("http://example.com/ws/"))["scheme"] == "ws"


def test_curl_command_from_chrome() -> None:
    """Chrome's copy-as-cURL: URL, -H headers across continued lines, -b cookies; flags skipped."""
    command = (
        "curl 'ws://localhost:8000/ws/chat/1/' \\\n  -H 'Origin: http://localhost:3000' \\\n"
        "  -H 'Sec-WebSocket-Protocol: abc' \\\n  -b 'key=123' \\\n  -A 'Mozilla/5.0' \\\n  --compressed"
    )
    request = from_curl(command)
    assert (request.url, request.headers) == (
        "ws://localhost:8000/ws/chat/1/",
        [("Origin", "http://localhost:3000"), ("Sec-WebSocket-Protocol", "abc"), ("Cookie", "key=123")],
    )


def test_raw_request_with_host() -> None:
    """A raw request's target and Host make the URL; the headers stop at the blank line."""
    request = from_pasted("GET /ws/?a=1 HTTP/1.1\r\nHost: h:81\r\nOrigin: http://o\r\n\r\nbody: ignored\r\n")
    assert (request.url, request.headers) == ("ws://h:81/ws/?a=1", [("Host", "h:81"), ("Origin", "http://o")])


def test_raw_request_over_tls() -> None:
    """--secure makes a raw request's URL wss://."""
    assert from_pasted("GET /ws/ HTTP/1.1\nHost: h\n\n", secure=True).url == "wss://h/ws/"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "nothing to explain: give a URL, a raw request or a curl command"),
        ("GET /ws/ HTTP/1.1\n\n", "the raw request has no Host header (and no absolute URL)"),
        ("curl -H 'Origin: x'", "the curl command names no URL"),
        ("GET /ws/ HTTP/1.1\nbroken\n\n", "not a 'Name: value' header: 'broken'"),
    ],
)
def test_unreadable_descriptions_say_what_is_missing(text: str, message: str) -> None:
    """Each unreadable description raises RequestError with what to fix."""
    with pytest.raises(RequestError) as exc_info:
        from_pasted(text)
    assert str(exc_info.value) == message


def test_a_non_websocket_url_is_refused() -> None:
    """ftp:// is not a socket URL."""
    with pytest.raises(RequestError, match=r"^not a ws://, wss://, http:// or https:// URL: 'ftp://x/'$"):
        to_scope(from_flags("ftp://x/"))
