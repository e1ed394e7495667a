"""Transports find credentials in a handshake's scope; they never judge them.

Each transport is a pure function of the scope: :meth:`Transport.find` returns a
:class:`~channels_warden.credentials.Credential` or ``None`` and raises
:class:`~channels_warden.exceptions.BadRequest` for input that is malformed, and
:meth:`Transport.redact` removes what it found from the copy of the scope the application sees.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from django.conf import settings

from ._types import Scope
from .cookies import MAX_COOKIE_HEADER_BYTES, cookie_header, cookie_value, without_cookie
from .credentials import SESSION_KEY, TOKEN, Credential, checked_secret
from .exceptions import BadRequest
from .query_string import query_parameter, without_query_parameter

_TOKEN_SHAPE = TOKEN
MAX_SUBPROTOCOLS = 16
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def header_values(scope: Scope, name: bytes) -> list[bytes]:
    """All values of one header (names in ASGI scopes are lower-case)."""
    return [value for key, value in scope.get("headers", ()) if key == name]


def without_header(scope: Scope, name: bytes) -> list[Any]:
    """The scope's headers minus every occurrence of ``name``.

    The entries kept are the server's own, not copies: a held socket keeps this list, and a new
    pair per header would cost about 60 bytes each for as long as the socket is open.
    """
    return [header for header in scope.get("headers", ()) if header[0] != name]


class Transport:
    """Base class. Subclasses set :attr:`name` and implement :meth:`find` (and :meth:`redact`)."""

    name: ClassVar[str] = "transport"
    #: Whether browsers attach this credential by themselves (it then needs a trusted Origin).
    ambient: ClassVar[bool] = False

    def find(self, scope: Scope, *, max_bytes: int) -> Credential | None:
        """Return the credential carried by this transport, ``None`` if it carries none."""
        raise NotImplementedError

    def redact(self, scope: Scope) -> None:
        """Remove this transport's credential from ``scope`` (the application's copy)."""

    def accept_subprotocol(self, scope: Scope) -> str | None:
        """The subprotocol the server must echo for a client using this transport, if any."""
        return None


class AuthorizationHeaderTransport(Transport):
    """``Authorization: <keyword> <token>`` for non-browser clients (mobile apps, services).

    Args:
        keywords: maps the header keyword (matched case-insensitively) to a credential scheme.
    """

    name = "header"

    def __init__(self, keywords: Mapping[str, str] | None = None) -> None:
        keywords = keywords or {"Bearer": "bearer", "Token": "token"}
        self.keywords = {key.lower(): scheme.lower() for key, scheme in keywords.items()}

    def find(self, scope: Scope, *, max_bytes: int) -> Credential | None:
        values = header_values(scope, b"authorization")
        if not values:
            return None
        if len(values) > 1:
            raise BadRequest("more than one Authorization header")
        keyword, space, token = values[0].partition(b" ")
        if not space or not token:
            raise BadRequest("Authorization header is not '<keyword> <token>'")
        scheme = self.keywords.get(keyword.decode("latin-1").lower())
        if scheme is None:
            raise BadRequest("Authorization header uses an unknown keyword")
        secret = checked_secret(token, max_bytes=max_bytes, what="Authorization token")
        return Credential(scheme, secret, self.name)

    def redact(self, scope: Scope) -> None:
        # Also when the header held no credential of ours (``Basic ...``): the application never
        # sees an Authorization header. Without one, the server's header list is shared, not copied.
        if any(key == b"authorization" for key, _ in scope.get("headers", ())):
            scope["headers"] = without_header(scope, b"authorization")


class CookieTransport(Transport):
    """A token in a named cookie (exact name match; named twice is a 4400, see :mod:`.cookies`).

    Args:
        cookie: the cookie's name.
        scheme: what the token is, e.g. ``bearer`` for a JWT or ``token`` for a DRF token.
    """

    name = "cookie"
    ambient = True
    shape = _TOKEN_SHAPE

    def __init__(self, cookie: str = "access_token", scheme: str = "bearer") -> None:
        self.cookie = cookie
        self.scheme = scheme.lower()

    def cookie_name(self) -> str:
        return self.cookie

    def find(self, scope: Scope, *, max_bytes: int) -> Credential | None:
        value = cookie_value(scope, self.cookie_name())
        if value is None:
            return None
        secret = checked_secret(
            value, max_bytes=max_bytes, what=f"cookie {self.cookie_name()!r}", shape=self.shape
        )
        return Credential(self.scheme, secret, self.name, ambient=True)

    def redact(self, scope: Scope) -> None:
        name = self.cookie_name()
        header = cookie_header(scope)
        if header is None:
            return
        kept = without_cookie(header, name)
        if kept == header:
            return
        headers = without_header(scope, b"cookie")
        headers.append((b"cookie", kept.encode("latin-1")))
        scope["headers"] = headers
        if isinstance(scope.get("cookies"), dict):
            scope["cookies"] = {key: value for key, value in scope["cookies"].items() if key != name}


class SessionCookieTransport(CookieTransport):
    """Django's session cookie (``SESSION_COOKIE_NAME``). The application keeps its session."""

    name = "session"
    shape = SESSION_KEY

    def __init__(self) -> None:
        super().__init__(cookie="", scheme="session")

    def cookie_name(self) -> str:
        return str(settings.SESSION_COOKIE_NAME)

    def redact(self, scope: Scope) -> None:
        """Leave the cookie: ``scope["session"]`` and ``channels.auth.login`` rely on it."""


def _subprotocols(scope: Scope) -> list[str]:
    offered = list(scope.get("subprotocols") or ())
    if len(offered) > MAX_SUBPROTOCOLS:
        raise BadRequest(f"more than {MAX_SUBPROTOCOLS} subprotocols offered")
    return offered


class SubprotocolTransport(Transport):
    """``Sec-WebSocket-Protocol: warden, <scheme>.<token>``: the browser's header-free path.

    The server echoes the marker protocol (``warden`` by default), never the token, which is what
    makes Chrome keep the connection. Entries whose prefix is not one of ``schemes`` are left to
    the application (``chat.v1`` is a protocol, not a credential).

    Args:
        protocol: the marker protocol; defaults to the ``SUBPROTOCOL`` setting.
        schemes: credential schemes recognised as ``<scheme>.<token>`` entries.
    """

    name = "subprotocol"

    def __init__(self, protocol: str | None = None, schemes: Iterable[str] = ("bearer", "token")) -> None:
        self._protocol = protocol
        self.schemes = frozenset(scheme.lower() for scheme in schemes)

    @property
    def protocol(self) -> str:
        if self._protocol is not None:
            return self._protocol
        from . import conf  # conf builds transports: imported here, not at the top

        return str(conf.warden_settings.SUBPROTOCOL)

    def _is_credential(self, entry: str) -> bool:
        scheme, dot, _ = entry.partition(".")
        return bool(dot) and scheme.lower() in self.schemes

    def find(self, scope: Scope, *, max_bytes: int) -> Credential | None:
        offered = _subprotocols(scope)
        if not offered:
            return None
        protocol = self.protocol
        markers = offered.count(protocol)
        entries = [entry for entry in offered if self._is_credential(entry)]
        if not markers and not entries:
            return None
        if "" in offered:
            raise BadRequest("empty subprotocol entry")
        if markers > 1:
            raise BadRequest(f"subprotocol {protocol!r} offered more than once")
        if entries and not markers:
            raise BadRequest(f"credential subprotocol offered without the {protocol!r} marker")
        if len(entries) > 1:
            raise BadRequest("more than one credential subprotocol offered")
        if not entries:
            return None
        scheme, _, token = entries[0].partition(".")
        secret = checked_secret(token, max_bytes=max_bytes, what="subprotocol token")
        return Credential(scheme.lower(), secret, self.name)

    def redact(self, scope: Scope) -> None:
        offered = list(scope.get("subprotocols") or ())
        if not offered:
            return
        protocol = self.protocol
        kept = [entry for entry in offered if entry != protocol and not self._is_credential(entry)]
        if kept != offered:
            scope["subprotocols"] = kept
            scope["headers"] = without_header(scope, b"sec-websocket-protocol")

    def accept_subprotocol(self, scope: Scope) -> str | None:
        protocol = self.protocol
        return protocol if protocol in (scope.get("subprotocols") or ()) else None


class RawJWTSubprotocolTransport(Transport):
    """Compatibility: a bare JWT as the only offered subprotocol, as the seed-era clients send it.

    Chrome fails any handshake whose response does not echo one of the offered protocols, so this
    mode has to echo the token back in a response header. Prefer :class:`SubprotocolTransport`;
    system check ``channels_warden.W003`` warns while this transport is enabled.
    """

    name = "subprotocol_jwt"

    def _entry(self, scope: Scope) -> str | None:
        offered = _subprotocols(scope)
        if len(offered) == 1 and _JWT.fullmatch(offered[0]):
            return offered[0]
        return None

    def find(self, scope: Scope, *, max_bytes: int) -> Credential | None:
        entry = self._entry(scope)
        if entry is None:
            return None
        return Credential(
            "bearer", checked_secret(entry, max_bytes=max_bytes, what="subprotocol JWT"), self.name
        )

    def redact(self, scope: Scope) -> None:
        if self._entry(scope) is not None:
            scope["subprotocols"] = []
            scope["headers"] = without_header(scope, b"sec-websocket-protocol")

    def accept_subprotocol(self, scope: Scope) -> str | None:
        return self._entry(scope)


class QueryStringTransport(Transport):
    """``?token=...``. Off by default: URLs end up in access logs, proxies and browser history.

    Enabling it raises system check ``channels_warden.W002``; add
    :class:`~channels_warden.logging.RedactCredentialsFilter` to your server's loggers.

    Args:
        parameter: the query parameter's name.
        scheme: what the token is.
    """

    name = "query"

    def __init__(self, parameter: str = "token", scheme: str = "bearer") -> None:
        self.parameter = parameter
        self.scheme = scheme.lower()

    def find(self, scope: Scope, *, max_bytes: int) -> Credential | None:
        secret = query_parameter(scope, self.parameter, max_bytes=max_bytes)
        return None if secret is None else Credential(self.scheme, secret, self.name)

    def redact(self, scope: Scope) -> None:
        scope["query_string"] = without_query_parameter(scope, self.parameter)


__all__ = [
    "MAX_COOKIE_HEADER_BYTES",
    "AuthorizationHeaderTransport",
    "CookieTransport",
    "QueryStringTransport",
    "RawJWTSubprotocolTransport",
    "SessionCookieTransport",
    "SubprotocolTransport",
    "Transport",
    "header_values",
    "query_parameter",
    "without_query_parameter",
]
