"""Origin parsing and trust, as pure functions.

A browser always sends ``Origin`` on a WebSocket handshake and cannot forge it, which makes it the
defence against cross-site WebSocket hijacking: any page can open a socket to your server, and the
browser attaches your cookies to it. Origins are compared as ``(scheme, host, port)`` with default
ports filled in, so ``https://a.example`` and ``https://a.example:443`` are the same origin.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from django.core.exceptions import ImproperlyConfigured

from .exceptions import OriginRejected

MAX_ORIGIN_BYTES = 1024
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}

_ORIGIN = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.-]*)://"
    r"(?P<host>\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)"
    r"(?::(?P<port>[0-9]{1,5}))?"
)
_HOST = re.compile(r"(?P<host>\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(?::(?P<port>[0-9]{1,5}))?")


@dataclass(frozen=True, slots=True)
class Origin:
    """A serialised origin: scheme, host and port (``None`` when the scheme has no default port)."""

    scheme: str
    host: str
    port: int | None

    def __str__(self) -> str:
        if self.port is None or DEFAULT_PORTS.get(self.scheme) == self.port:
            return f"{self.scheme}://{self.host}"
        return f"{self.scheme}://{self.host}:{self.port}"


def parse_origin(value: str) -> Origin:
    """Parse an ``Origin`` value; raise ``ValueError`` for anything but ``scheme://host[:port]``."""
    if len(value) > MAX_ORIGIN_BYTES:
        raise ValueError("origin too long")
    match = _ORIGIN.fullmatch(value.lower())
    if match is None:
        raise ValueError("not a scheme://host[:port] origin")
    scheme, host, port_text = match.group("scheme", "host", "port")
    port = int(port_text) if port_text else DEFAULT_PORTS.get(scheme)
    if port is not None and not 0 < port < 65536:
        raise ValueError("port out of range")
    return Origin(scheme, host, port)


def parse_allowed_origin(value: object) -> Origin:
    """Parse one ``ALLOWED_ORIGINS`` entry, explaining how to fix a bad one."""
    if not isinstance(value, str):
        raise ImproperlyConfigured(f"WARDEN ALLOWED_ORIGINS entries must be strings, not {value!r}.")
    try:
        return parse_origin(value)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"WARDEN ALLOWED_ORIGINS entry {value!r} is not a full origin ({exc}); "
            "write it as scheme://host[:port] with no path, e.g. 'https://app.example.com'."
        ) from exc


def read_origin(headers: list[tuple[bytes, bytes]]) -> Origin | None:
    """Return the handshake's Origin, ``None`` when absent; raise ``OriginRejected`` when malformed."""
    values = [value for name, value in headers if name == b"origin"]
    if not values:
        return None
    if len(values) > 1:
        raise OriginRejected("more than one Origin header")
    try:
        return _parse_header_value(values[0])
    except (UnicodeDecodeError, ValueError) as exc:
        # Covers "null" (sandboxed frames, file:// pages), which no allow-list entry can match.
        raise OriginRejected(f"malformed Origin header: {exc}") from None


@lru_cache(maxsize=256)
def _parse_header_value(value: bytes) -> Origin:
    """``parse_origin`` of a raw header, remembered: browsers send the same few origins again and again.

    Only successes are kept (a refused value raises every time), and ``Origin`` is immutable.
    """
    return parse_origin(value.decode("ascii"))


#: The Origin schemes of a page that may open a socket to a plain or a TLS server (RFC 6454: the
#: scheme is part of the origin; a WebSocket's ``ws``/``wss`` pair with ``http``/``https``).
SAME_ORIGIN_SCHEMES = {False: ("http", "ws"), True: ("https", "wss")}


def is_same_origin(origin: Origin, host: str | None, *, secure: bool) -> bool:
    """Whether the Origin names the scheme, host and port the client connected to.

    Args:
        origin: the handshake's Origin.
        host: the ``host[:port]`` the client asked for (its ``Host`` header, validated).
        secure: whether the client reached the server over TLS (see :func:`~.hosts.is_secure`).

    A hostile page cannot make a browser send a ``Host`` that differs from the URL it opens, nor an
    ``Origin`` other than its own, so equal scheme, host and port mean the page came from this site.
    An ``https`` page and a plain ``ws`` server on the same host are different origins.
    """
    if host is None or origin.scheme not in SAME_ORIGIN_SCHEMES[secure]:
        return False
    match = _HOST.fullmatch(host.lower())
    if match is None or match.group("host") != origin.host:
        return False
    port_text = match.group("port")
    host_port = int(port_text) if port_text else (443 if secure else 80)
    return host_port == origin.port
