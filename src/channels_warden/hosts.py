"""The handshake's ``Host`` and scheme, judged the way Django judges them for HTTP requests.

Django refuses an HTTP request whose ``Host`` is not in ``ALLOWED_HOSTS``; Channels does not, for
WebSockets. Without that check a DNS-rebinding page (``http://evil.example`` resolving to your
server) opens sockets with ``Host: evil.example`` and ``Origin: http://evil.example``, which a
same-origin check compares equal. So warden validates ``Host`` with Django's own functions and
defaults (``.localhost``, ``127.0.0.1`` and ``[::1]`` when ``DEBUG`` is on and the list is empty),
and refuses a bad one with 4400.

The scheme follows Django's ``HttpRequest.scheme``: ``SECURE_PROXY_SSL_HEADER`` when the proxy sent
that header, else the ASGI scope's ``scheme`` (``ws`` when the server gives none, as daphne does).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http.request import split_domain_port, validate_host

from ._types import Scope
from .exceptions import BadRequest

#: ``ALLOWED_HOSTS`` Django uses when ``DEBUG`` is on and the setting is empty.
DEBUG_ALLOWED_HOSTS = (".localhost", "127.0.0.1", "[::1]")
#: Most characters of a refused Host quoted in the log.
MAX_LOGGED_HOST = 100


def _header(scope: Scope, name: bytes) -> bytes | None:
    """One header's value; repeated fields are joined with commas, as Django's ASGI handler does."""
    values = [value for key, value in scope.get("headers", ()) if key == name]
    return b",".join(values) if values else None


def _meta_header_name(meta_key: str) -> bytes:
    """``HTTP_X_FORWARDED_PROTO`` (a ``request.META`` key) as the header name ``x-forwarded-proto``."""
    return meta_key.removeprefix("HTTP_").replace("_", "-").lower().encode("latin-1")


def is_secure(scope: Scope) -> bool:
    """Whether the client reached the site over TLS (``https``/``wss``), as Django decides it."""
    proxy_header = settings.SECURE_PROXY_SSL_HEADER
    if proxy_header:
        try:
            meta_key, secure_value = proxy_header
        except ValueError:
            raise ImproperlyConfigured(
                "The SECURE_PROXY_SSL_HEADER setting must be a tuple containing two values."
            ) from None
        value = _header(scope, _meta_header_name(meta_key))
        if value is not None:
            first = value.decode("latin-1").split(",", 1)[0].strip()
            return first == secure_value
    return scope.get("scheme", "ws") in ("wss", "https")


def allowed_hosts() -> list[str]:
    """``ALLOWED_HOSTS``, with Django's localhost defaults under ``DEBUG``."""
    hosts = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not hosts:
        return list(DEBUG_ALLOWED_HOSTS)
    return hosts


def raw_host(scope: Scope) -> bytes | None:
    """The host the client asked for: ``X-Forwarded-Host`` when ``USE_X_FORWARDED_HOST``, else ``Host``."""
    if settings.USE_X_FORWARDED_HOST:
        forwarded = _header(scope, b"x-forwarded-host")
        if forwarded is not None:
            return forwarded
    hosts = [value for key, value in scope.get("headers", ()) if key == b"host"]
    if len(hosts) > 1:
        raise BadRequest("more than one Host header")
    return hosts[0] if hosts else None


def check_host(scope: Scope) -> str | None:
    """The validated ``host[:port]``; ``BadRequest`` (4400) when it is malformed or not allowed.

    A handshake without ``Host`` (RFC 6455 requires one) passes only when ``ALLOWED_HOSTS``
    contains ``"*"``, where Django too would accept whatever server name it fell back to.
    """
    allowed = allowed_hosts()
    raw = raw_host(scope)
    if raw is None:
        if "*" in allowed:
            return None
        raise BadRequest("no Host header")
    try:
        host = raw.decode("ascii")
    except UnicodeDecodeError:
        raise BadRequest("Host header is not ASCII") from None
    domain, _ = split_domain_port(host)
    if not domain or not validate_host(domain, allowed):
        shown = host[:MAX_LOGGED_HOST].encode("unicode_escape").decode("ascii")
        raise BadRequest(f"Host {shown!r} is not valid or not in ALLOWED_HOSTS")
    return host
