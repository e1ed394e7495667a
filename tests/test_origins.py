"""Origin parsing and trust as pure functions."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from channels_warden.exceptions import OriginRejected
from channels_warden.origins import Origin, is_same_origin, parse_allowed_origin, parse_origin, read_origin


@pytest.mark.parametrize(
    ("value", "origin"),
    [
        ("https://app.example.com", Origin("https", "app.example.com", 443)),
        ("https://app.example.com:443", Origin("https", "app.example.com", 443)),
        ("http://localhost:3000", Origin("http", "localhost", 3000)),
        ("http://localhost", Origin("http", "localhost", 80)),
        ("wss://a.example", Origin("wss", "a.example", 443)),
        ("ws://a.example:80", Origin("ws", "a.example", 80)),
        ("HTTPS://APP.Example.COM", Origin("https", "app.example.com", 443)),
        ("http://[::1]:8000", Origin("http", "[::1]", 8000)),
        ("https://[2001:db8::1]", Origin("https", "[2001:db8::1]", 443)),
        ("http://127.0.0.1:8000", Origin("http", "127.0.0.1", 8000)),
        ("chrome-extension://abcdef", Origin("chrome-extension", "abcdef", None)),
    ],
)
def test_parse_origin_normalises(value: str, origin: Origin) -> None:
    """Scheme and host are lower-cased and default ports filled in."""
    assert parse_origin(value) == origin


def test_default_port_compares_equal_to_no_port() -> None:
    """'https://a.example' and 'https://a.example:443' are the same origin."""
    assert parse_origin("https://a.example") == parse_origin("https://a.example:443")


def test_other_port_is_another_origin() -> None:
    """'http://a.example:8080' is not 'http://a.example'."""
    assert parse_origin("http://a.example:8080") != parse_origin("http://a.example")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("null", "not a scheme://host[:port] origin"),
        ("https://a.example/", "not a scheme://host[:port] origin"),
        ("https://a.example/path", "not a scheme://host[:port] origin"),
        ("https://user@a.example", "not a scheme://host[:port] origin"),
        ("https://user:pw@a.example", "not a scheme://host[:port] origin"),
        ("https://a.example?x=1", "not a scheme://host[:port] origin"),
        ("a.example", "not a scheme://host[:port] origin"),
        ("https://", "not a scheme://host[:port] origin"),
        ("https://a.example:", "not a scheme://host[:port] origin"),
        ("https://a.example:123456", "not a scheme://host[:port] origin"),
        (" https://a.example", "not a scheme://host[:port] origin"),
        ("https://a.example:0", "port out of range"),
        ("https://a.example:65536", "port out of range"),
        ("https://" + "a" * 1100, "origin too long"),
    ],
)
def test_parse_origin_refuses_anything_but_an_origin(value: str, message: str) -> None:
    """'null', paths, userinfo, query strings, bad ports and huge values are refused."""
    with pytest.raises(ValueError, match=r".") as exc_info:
        parse_origin(value)
    assert str(exc_info.value) == message


def test_origin_str_omits_the_default_port() -> None:
    """An origin prints the way a browser serialises it."""
    assert str(parse_origin("https://a.example:443")) == "https://a.example"


def test_origin_str_keeps_another_port() -> None:
    """A non-default port is printed."""
    assert str(parse_origin("http://[::1]:8000")) == "http://[::1]:8000"


def test_origin_str_without_a_port() -> None:
    """A scheme with no default port prints without one."""
    assert str(parse_origin("chrome-extension://abcdef")) == "chrome-extension://abcdef"


def test_parse_allowed_origin_accepts_an_origin() -> None:
    """A well-formed ALLOWED_ORIGINS entry is parsed."""
    assert parse_allowed_origin("https://app.example.com:443") == Origin("https", "app.example.com", 443)


def test_parse_allowed_origin_explains_a_path() -> None:
    """An entry with a path is a configuration error that says how to write it."""
    with pytest.raises(ImproperlyConfigured) as exc_info:
        parse_allowed_origin("https://app.example.com/")
    assert str(exc_info.value) == (
        "WARDEN ALLOWED_ORIGINS entry 'https://app.example.com/' is not a full origin "
        "(not a scheme://host[:port] origin); write it as scheme://host[:port] with no path, "
        "e.g. 'https://app.example.com'."
    )


def test_parse_allowed_origin_refuses_non_strings() -> None:
    """Entries must be strings."""
    with pytest.raises(ImproperlyConfigured) as exc_info:
        parse_allowed_origin(("https", "a.example"))
    assert str(exc_info.value) == (
        "WARDEN ALLOWED_ORIGINS entries must be strings, not ('https', 'a.example')."
    )


def test_read_origin_absent_is_none() -> None:
    """No Origin header (a non-browser client) reads as None."""
    assert read_origin([(b"host", b"testserver")]) is None


def test_read_origin_parses_the_header() -> None:
    """The Origin header is parsed and normalised."""
    assert read_origin([(b"origin", b"HTTP://Testserver:80")]) == Origin("http", "testserver", 80)


def test_read_origin_null_is_rejected() -> None:
    """'null' (sandboxed frames, file:// pages) is refused with 4403."""
    with pytest.raises(OriginRejected) as exc_info:
        read_origin([(b"origin", b"null")])
    assert (exc_info.value.code, exc_info.value.detail) == (
        4403,
        "malformed Origin header: not a scheme://host[:port] origin",
    )


def test_read_origin_duplicate_is_rejected() -> None:
    """Two Origin headers are refused."""
    with pytest.raises(OriginRejected) as exc_info:
        read_origin([(b"origin", b"http://a.example"), (b"origin", b"http://b.example")])
    assert exc_info.value.detail == "more than one Origin header"


def test_read_origin_non_ascii_is_rejected() -> None:
    """An Origin header with non-ASCII bytes is malformed."""
    with pytest.raises(OriginRejected):
        read_origin([(b"origin", "http://ex\u00e4mple.com".encode())])


@pytest.mark.parametrize(
    ("origin", "host", "secure"),
    [
        ("http://testserver", "testserver", False),
        ("http://testserver", "testserver:80", False),
        ("ws://testserver", "testserver", False),
        ("http://testserver:8000", "testserver:8000", False),
        ("https://app.example.com", "app.example.com", True),
        ("wss://app.example.com", "app.example.com", True),
        ("https://app.example.com", "APP.Example.com:443", True),
        ("http://[::1]:8000", "[::1]:8000", False),
    ],
)
def test_same_origin_when_scheme_host_and_port_match(origin: str, host: str, secure: bool) -> None:
    """An Origin naming the scheme, Host and port the client connected to is the server's own."""
    assert is_same_origin(parse_origin(origin), host, secure=secure) is True


@pytest.mark.parametrize(
    ("origin", "host", "secure"),
    [
        ("http://testserver", "testserver:8000", False),
        ("http://testserver:8000", "testserver", False),
        ("http://testserver:8000", "testserver:8001", False),
        ("https://evil.example", "app.example.com", True),
        ("https://app.example.com.evil.example", "app.example.com", True),
        ("http://[::1]:8000", "[::2]:8000", False),
        ("chrome-extension://testserver", "testserver", False),
    ],
)
def test_not_same_origin_when_host_or_port_differ(origin: str, host: str, secure: bool) -> None:
    """Another host, another port or a scheme with no default port is not the same origin."""
    assert is_same_origin(parse_origin(origin), host, secure=secure) is False


@pytest.mark.parametrize(
    ("origin", "host", "secure"),
    [
        ("https://testserver:8000", "testserver:8000", False),
        ("wss://testserver:8000", "testserver:8000", False),
        ("http://app.example.com:443", "app.example.com", True),
        ("ws://app.example.com:443", "app.example.com", True),
        ("http://app.example.com", "app.example.com:80", True),
    ],
)
def test_not_same_origin_when_the_scheme_differs(origin: str, host: str, secure: bool) -> None:
    """RFC 6454: an https page is not the origin of a plain server on the same host and port, nor
    an http page of a TLS one."""
    assert is_same_origin(parse_origin(origin), host, secure=secure) is False


def test_not_same_origin_without_host() -> None:
    """No Host, no same-origin trust."""
    assert is_same_origin(parse_origin("http://testserver"), None, secure=False) is False


def test_not_same_origin_with_malformed_host() -> None:
    """A Host that is not host[:port] is not trusted."""
    assert is_same_origin(parse_origin("http://testserver"), "testserver/x", secure=False) is False
