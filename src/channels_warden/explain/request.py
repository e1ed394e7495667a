"""A handshake described three ways (flags, a raw HTTP request, a browser's "copy as cURL"), as a scope.

``manage.py warden_explain`` replays a handshake without a socket, so it needs the ASGI scope a
server would have built: lower-case header names, the path percent-decoded, the query string raw,
the offered subprotocols split from ``Sec-WebSocket-Protocol`` the way warden reads them.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from .._types import Scope
from ..subprotocols import raw_subprotocols

#: curl options that take a value; every other option is a flag (``--compressed``, ``-i``...).
CURL_VALUE_OPTIONS = frozenset(
    {
        "-X",
        "--request",
        "-d",
        "--data",
        "--data-raw",
        "--data-binary",
        "--data-urlencode",
        "-A",
        "--user-agent",
        "-e",
        "--referer",
        "-o",
        "--output",
        "-u",
        "--user",
        "-m",
        "--max-time",
        "--connect-timeout",
        "-x",
        "--proxy",
    }
)
DEFAULT_PORTS = {"ws": 80, "http": 80, "wss": 443, "https": 443}


class RequestError(ValueError):
    """The described handshake cannot be read; the message says what is missing."""


@dataclass
class ExplainRequest:
    """The URL a client opens and the headers it sends, in order."""

    url: str
    headers: list[tuple[str, str]] = field(default_factory=list)

    def add_cookie(self, pair: str) -> None:
        """Add ``name=value`` to the one ``Cookie`` header, as browsers send it."""
        for index, (name, value) in enumerate(self.headers):
            if name.lower() == "cookie":
                self.headers[index] = (name, f"{value}; {pair}")
                return
        self.headers.append(("Cookie", pair))


def _header(line: str) -> tuple[str, str]:
    name, colon, value = line.partition(":")
    if not colon or not name.strip():
        raise RequestError(f"not a 'Name: value' header: {line[:40]!r}")
    return name.strip(), value.strip()


def from_flags(
    url: str,
    *,
    headers: Sequence[str] = (),
    origin: str | None = None,
    subprotocols: Sequence[str] = (),
    cookies: Sequence[str] = (),
) -> ExplainRequest:
    """``--header``/``-H``, ``--origin``, ``--subprotocol`` (repeatable) and ``--cookie`` flags."""
    request = ExplainRequest(url, [_header(line) for line in headers])
    if origin is not None:
        request.headers.append(("Origin", origin))
    if subprotocols:
        request.headers.append(("Sec-WebSocket-Protocol", ", ".join(subprotocols)))
    for pair in cookies:
        request.add_cookie(pair)
    return request


def from_curl(command: str) -> ExplainRequest:
    """A browser's "copy as cURL (bash)" command line: the URL, ``-H`` headers and ``-b`` cookies."""
    try:
        words = shlex.split(command.replace("\\\r\n", " ").replace("\\\n", " "))
    except ValueError as exc:
        raise RequestError(f"cannot split the curl command: {exc}") from None
    if not words or words[0] != "curl":
        raise RequestError("a curl command starts with 'curl'")
    request = ExplainRequest("")
    items = iter(words[1:])
    for word in items:
        if word in ("-H", "--header"):
            request.headers.append(_header(next(items, "")))
        elif word in ("-b", "--cookie"):
            request.add_cookie(next(items, ""))
        elif word == "--url":
            request.url = next(items, "")
        elif word in CURL_VALUE_OPTIONS:
            next(items, None)
        elif word.startswith("-"):
            continue
        elif not request.url:
            request.url = word
    if not request.url:
        raise RequestError("the curl command names no URL")
    return request


def from_raw_http(text: str, *, secure: bool = False) -> ExplainRequest:
    """A raw request as pasted from a proxy or a browser's "raw headers" view."""
    lines = text.replace("\r\n", "\n").strip("\n").split("\n")
    method, _, rest = lines[0].partition(" ")
    target = rest.rsplit(" ", 1)[0] if rest.rstrip().endswith(("HTTP/1.1", "HTTP/1.0")) else rest
    if method.upper() != "GET" or not target.strip():
        raise RequestError("a raw WebSocket handshake starts with 'GET <path> HTTP/1.1'")
    headers = []
    for line in lines[1:]:
        if not line.strip():
            break
        headers.append(_header(line))
    target = target.strip()
    if "://" in target:
        return ExplainRequest(target, headers)
    host = next((value for name, value in headers if name.lower() == "host"), None)
    if host is None:
        raise RequestError("the raw request has no Host header (and no absolute URL)")
    return ExplainRequest(f"{'wss' if secure else 'ws'}://{host}{target}", headers)


def from_pasted(text: str, *, secure: bool = False) -> ExplainRequest:
    """A curl command or a raw request, whichever ``text`` is."""
    stripped = text.strip()
    if not stripped:
        raise RequestError("nothing to explain: give a URL, a raw request or a curl command")
    if stripped.startswith("curl "):
        return from_curl(stripped)
    return from_raw_http(stripped, secure=secure)


def to_scope(request: ExplainRequest, *, client: str = "127.0.0.1") -> Scope:
    """The ``websocket`` scope a server would build for this handshake."""
    parts = urlsplit(request.url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    if scheme not in ("ws", "wss") or not parts.hostname:
        raise RequestError(f"not a ws://, wss://, http:// or https:// URL: {request.url[:60]!r}")
    headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in request.headers]
    if not any(name == b"host" for name, _ in headers):
        headers.insert(0, (b"host", parts.netloc.rpartition("@")[2].encode("latin-1")))
    scope: Scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": scheme,
        "path": unquote(parts.path or "/"),
        "raw_path": (parts.path or "/").encode("latin-1"),
        "query_string": parts.query.encode("latin-1"),
        "root_path": "",
        "headers": headers,
        "client": [client, 0],
        "server": [parts.hostname, parts.port or DEFAULT_PORTS[scheme]],
    }
    scope["subprotocols"] = raw_subprotocols(scope) or []
    return scope
