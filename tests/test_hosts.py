"""The handshake's Host and scheme, judged as Django judges them for HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from channels_warden.exceptions import BadRequest
from channels_warden.hosts import allowed_hosts, check_host, is_secure, raw_host


def scope(*headers: tuple[bytes, bytes], scheme: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"type": "websocket", "headers": list(headers)}
    if scheme is not None:
        result["scheme"] = scheme
    return result


def bad_host_detail(value: dict[str, Any]) -> str:
    with pytest.raises(BadRequest) as exc_info:
        check_host(value)
    return exc_info.value.detail


@pytest.mark.parametrize(
    ("scheme", "secure"), [(None, False), ("ws", False), ("wss", True), ("http", False), ("https", True)]
)
def test_scheme_of_the_scope_decides_without_a_proxy_header(scheme: str | None, secure: bool) -> None:
    """Without SECURE_PROXY_SSL_HEADER, the scope's scheme decides; none means ws (ASGI's default)."""
    assert is_secure(scope(scheme=scheme)) is secure


@pytest.mark.parametrize(
    ("value", "secure"), [(b"https", True), (b"http", False), (b"https, http", True), (b"http,https", False)]
)
def test_proxy_header_decides_when_present(settings: Any, value: bytes, secure: bool) -> None:
    """SECURE_PROXY_SSL_HEADER's first value decides, as in Django's HttpRequest.scheme."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert is_secure(scope((b"x-forwarded-proto", value), scheme="ws")) is secure


def test_scope_scheme_decides_when_the_proxy_header_is_absent(settings: Any) -> None:
    """A configured proxy header that the request lacks falls back to the scope's scheme."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert is_secure(scope(scheme="wss")) is True


def test_malformed_proxy_setting_is_a_configuration_error(settings: Any) -> None:
    """A SECURE_PROXY_SSL_HEADER that is not a pair says how to fix it, as Django does."""
    settings.SECURE_PROXY_SSL_HEADER = "HTTP_X_FORWARDED_PROTO"
    with pytest.raises(ImproperlyConfigured):
        is_secure(scope())


def test_debug_with_no_allowed_hosts_allows_localhost(settings: Any) -> None:
    """Django's DEBUG defaults apply: localhost names and loopback addresses."""
    settings.DEBUG, settings.ALLOWED_HOSTS = True, []
    assert allowed_hosts() == [".localhost", "127.0.0.1", "[::1]"]


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        (b"testserver", ["testserver"]),
        (b"TestServer:8000", ["testserver"]),
        (b"chat.example.com", [".example.com"]),
        (b"127.0.0.1:8001", ["127.0.0.1"]),
        (b"[::1]:8000", ["[::1]"]),
        (b"anything.example", ["*"]),
    ],
)
def test_allowed_host_passes(settings: Any, host: bytes, allowed: list[str]) -> None:
    """Hosts in ALLOWED_HOSTS (ports ignored, subdomain patterns, "*") pass and are returned."""
    settings.ALLOWED_HOSTS = allowed
    assert check_host(scope((b"host", host))) == host.decode()


@pytest.mark.parametrize(
    ("host", "allowed", "detail"),
    [
        (b"evil.example", ["testserver"], "Host 'evil.example' is not valid or not in ALLOWED_HOSTS"),
        (
            b"testserver.evil.example",
            ["testserver"],
            "Host 'testserver.evil.example' is not valid or not in ALLOWED_HOSTS",
        ),
        (b"testserver/x", ["*"], "Host 'testserver/x' is not valid or not in ALLOWED_HOSTS"),
        (b"a b", ["*"], "Host 'a b' is not valid or not in ALLOWED_HOSTS"),
        (b"host\r\nx", ["*"], "Host 'host\\\\r\\\\nx' is not valid or not in ALLOWED_HOSTS"),
        (b"t\xe9st", ["*"], "Host header is not ASCII"),
    ],
)
def test_bad_host_is_a_bad_request(settings: Any, host: bytes, allowed: list[str], detail: str) -> None:
    """A Host outside ALLOWED_HOSTS, or malformed even under "*", is 4400; the log line is escaped."""
    settings.ALLOWED_HOSTS = allowed
    assert bad_host_detail(scope((b"host", host))) == detail


def test_two_host_headers_are_a_bad_request() -> None:
    """Two Host fields are ambiguous."""
    assert bad_host_detail(scope((b"host", b"a"), (b"host", b"b"))) == "more than one Host header"


def test_missing_host_passes_only_under_a_wildcard(settings: Any) -> None:
    """RFC 6455 requires Host; without one only ALLOWED_HOSTS = ["*"] admits the handshake."""
    settings.ALLOWED_HOSTS = ["*"]
    assert check_host(scope()) is None
    settings.ALLOWED_HOSTS = ["testserver"]
    assert bad_host_detail(scope()) == "no Host header"


def test_forwarded_host_is_used_when_django_is_told_to(settings: Any) -> None:
    """USE_X_FORWARDED_HOST makes X-Forwarded-Host the host, as for Django's HTTP requests."""
    settings.USE_X_FORWARDED_HOST = True
    assert (
        raw_host(scope((b"host", b"backend:8000"), (b"x-forwarded-host", b"chat.example"))) == b"chat.example"
    )


def test_forwarded_host_is_ignored_by_default() -> None:
    """Without USE_X_FORWARDED_HOST, a client's X-Forwarded-Host changes nothing."""
    assert raw_host(scope((b"host", b"testserver"), (b"x-forwarded-host", b"evil.example"))) == b"testserver"
