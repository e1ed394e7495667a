"""Refusals that explain themselves to the developer, in the server log, never to the client.

The client of a refused socket gets the stable reason word of its close code and nothing else: a
reason that said which check failed would tell an attacker what to try next. The developer who wrote
that client needs the opposite, so each refusal is logged as one line that names the check that
failed, the transport, the detail, and a hint when the mistake is a common one:

* a JWT offered as the only subprotocol (the tutorials' ``new WebSocket(url, token)``) while
  :class:`~channels_warden.transports.RawJWTSubprotocolTransport` is off;
* a token in the query string while no :class:`~channels_warden.transports.QueryStringTransport`
  reads that parameter;
* a SimpleJWT refresh token sent as an access token (the authenticator attaches that hint);
* an Origin missing from ``ALLOWED_ORIGINS`` (the line names the Origin and the list);
* a cookie credential without a trusted Origin;
* a path no route matches.

Hints are built from the scope and the settings and never quote a credential: they name query
parameters from a fixed list, never their values. Levels: ``WARNING`` for every refusal when
``DEBUG`` is on, so the first refusal a developer meets shows with Django's default logging;
otherwise ``INFO`` for 4401 (routine: expired and wrong tokens) and ``WARNING`` for the rest. A live
socket's end (4498 expiry, a failed refresh) is logged as ``closed``, not ``refused``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

from django.conf import settings as django_settings

from ._types import Scope
from .codes import CloseCode
from .conf import WardenSettings, warden_settings
from .exceptions import (
    AuthTimeout,
    ConnectionExpired,
    MissingCredentials,
    NotFound,
    OriginRejected,
    Rejection,
    Revoked,
    ServiceUnavailable,
    TooManyConnections,
)
from .logging import loggable_path
from .origins import Origin, read_origin
from .transports import QueryStringTransport, RawJWTSubprotocolTransport

logger = logging.getLogger("channels_warden.auth")

RAW_JWT_TRANSPORT = "channels_warden.transports.RawJWTSubprotocolTransport"
QUERY_TRANSPORT = "channels_warden.transports.QueryStringTransport"
#: Query parameters tutorials put tokens in. Only these names are ever quoted, never a value.
TOKEN_PARAMETERS = ("token", "access_token", "access", "jwt", "auth_token", "key", "auth")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_HEX_KEY = re.compile(r"[0-9a-f]{40}")
#: Rejection classes and the check they come from when the raiser named none.
_CHECKS: tuple[tuple[type[Rejection], str], ...] = (
    (OriginRejected, "origin"),
    (NotFound, "route"),
    (AuthTimeout, "first message"),
    (MissingCredentials, "policy"),
    (TooManyConnections, "limit"),
    (ConnectionExpired, "expiry"),
    (Revoked, "revocation"),
    (ServiceUnavailable, "internal"),
)


def failed_check(rejection: Rejection) -> str:
    """The name of the check that refused: the raiser's, else the one its class stands for."""
    if rejection.check:
        return rejection.check
    for cls, name in _CHECKS:
        if isinstance(rejection, cls):
            return name
    if rejection.transport:
        return f"transport {rejection.transport}"
    return "handshake"


def configured(transports: Iterable[Any], cls: type) -> list[Any]:
    return [transport for transport in transports if isinstance(transport, cls)]


def raw_jwt_hint(scope: Scope, transports: Iterable[Any]) -> str | None:
    """A JWT as the only subprotocol, which nothing reads unless the compatibility transport is on."""
    offered = list(scope.get("subprotocols") or ())
    if len(offered) != 1 or not _JWT.fullmatch(str(offered[0])):
        return None
    if configured(transports, RawJWTSubprotocolTransport):
        return None
    return (
        "the client offered a JWT as its only subprotocol (new WebSocket(url, token)); warden ignores "
        f"it unless {RAW_JWT_TRANSPORT} is in WARDEN['EXTRA_TRANSPORTS'], which echoes the token "
        "(system check W003), so a browser fails the socket (1006); better, offer "
        "['warden', 'bearer.<token>'] (docs/migration.md)"
    )


def _query_values(scope: Scope) -> dict[str, str]:
    values: dict[str, str] = {}
    query = scope.get("query_string", b"")
    text = query.decode("latin-1") if isinstance(query, bytes) else str(query)
    for pair in text.split("&"):
        name, _, value = pair.partition("=")
        if name.lower() in TOKEN_PARAMETERS and value:
            values.setdefault(name.lower(), value)
    return values


def query_token_hint(scope: Scope, transports: Iterable[Any]) -> str | None:
    """A token-named query parameter that no query transport reads (they are off by default)."""
    read = {str(getattr(t, "parameter", "")) for t in configured(transports, QueryStringTransport)}
    for name, value in _query_values(scope).items():
        if name in read:
            continue
        scheme = "token" if _HEX_KEY.fullmatch(value) else "bearer"
        return (
            f"the query string carries {name!r}, which no transport reads (query-string tokens are off: "
            "URLs end up in access logs and history); prefer a one-time ticket (TicketTransport) or the "
            "subprotocol, or "
            f"add {{'CLASS': '{QUERY_TRANSPORT}', 'OPTIONS': {{'parameter': {name!r}, 'scheme': "
            f"{scheme!r}}}}} to WARDEN['EXTRA_TRANSPORTS'] (system check W002; docs/migration.md)"
        )
    return None


def _origin(scope: Scope) -> Origin | None:
    try:
        return read_origin(scope.get("headers", []))
    except Rejection:  # malformed or repeated: the detail says so already
        return None


def origin_hint(scope: Scope, rejection: Rejection, settings: WardenSettings) -> str | None:
    """Name the Origin and the allow-list, or explain why a cookie needs a trusted Origin."""
    origin = _origin(scope)
    allowed = list(settings.ALLOWED_ORIGINS) if not isinstance(settings.ALLOWED_ORIGINS, str) else []
    if rejection.check == "cookie origin":
        where = f"the Origin {str(origin)!r}" if origin else "no Origin header"
        return (
            f"a cookie credential came with {where}: browsers attach cookies to sockets that any page "
            "opens, so warden reads them only from an Origin in WARDEN['ALLOWED_ORIGINS'] "
            f"(now {allowed!r}) or the server's own; add the front end's origin there, or send a "
            "token in the subprotocol or an Authorization header instead"
        )
    if origin is None:
        if _has_header(scope, b"origin"):
            return None  # malformed or repeated: the detail says which
        return (
            "the handshake has no Origin header, which browsers always send: a non-browser client "
            "needs WARDEN['ALLOW_MISSING_ORIGIN'] = True (cookies still need a trusted Origin)"
        )
    return (
        f"the Origin {str(origin)!r} is not in WARDEN['ALLOWED_ORIGINS'] = {allowed!r}; add it "
        "(scheme://host[:port], exactly as the browser sends it) if that front end is yours"
    )


def _has_header(scope: Scope, name: bytes) -> bool:
    return any(key == name for key, _ in scope.get("headers", ()))


def route_hint(scope: Scope) -> str:
    path = str(scope.get("path", ""))
    if path and not path.endswith("/"):
        return (
            "no route matches; the path has no trailing slash, and URLRouter does not redirect like "
            "APPEND_SLASH: check the client's URL against websocket_urlpatterns (warden_explain lists them)"
        )
    return "no route in the URLRouter below warden matches; `manage.py warden_explain <url>` lists the routes"


def hints_for(scope: Scope, rejection: Rejection | None, settings: WardenSettings) -> list[str]:
    """Every hint that applies to this refusal (``None``: the client left before authenticating)."""
    if rejection is not None and rejection.hint:
        return [rejection.hint]
    if isinstance(rejection, OriginRejected):
        hint = origin_hint(scope, rejection, settings)
        return [hint] if hint else []
    if isinstance(rejection, NotFound):
        return [route_hint(scope)]
    no_credential = rejection is None or isinstance(rejection, MissingCredentials | AuthTimeout)
    if not no_credential:
        return []
    try:
        transports = settings.transports
    except Exception:  # noqa: BLE001  (a broken setting is system check E001's to report)
        return []
    found = (raw_jwt_hint(scope, transports), query_token_hint(scope, transports))
    return [hint for hint in found if hint]


def refusal_level(code: int) -> int:
    """``WARNING`` for every refusal under ``DEBUG``; otherwise ``INFO`` for 4401, ``WARNING`` else."""
    if getattr(django_settings, "DEBUG", False):
        return logging.WARNING
    return logging.INFO if code == CloseCode.UNAUTHENTICATED else logging.WARNING


def _describe(
    scope: Scope, rejection: Rejection, transport: str | None, settings: WardenSettings
) -> tuple[str, tuple[Any, ...]]:
    client = scope.get("client") or ("-", 0)
    hints = hints_for(scope, rejection, settings)
    return (
        "%s websocket %s from %s via %s: %d %s; check %s: %s%s",
        (
            loggable_path(scope.get("path", "?")),
            client[0],
            transport or "-",
            rejection.code,
            rejection.reason,
            failed_check(rejection),
            rejection.detail or rejection.reason,
            "".join(f"; hint: {hint}" for hint in hints),
        ),
    )


def log_rejection(
    scope: Scope, rejection: Rejection, transport: str | None, settings: WardenSettings | None = None
) -> None:
    """One line per refused handshake: check, transport, detail, hints; never the credential."""
    settings = settings or warden_settings
    message, args = _describe(scope, rejection, transport, settings)
    logger.log(
        refusal_level(rejection.code),
        message,
        "refused",
        *args,
        extra={"warden_code": int(rejection.code), "warden_reason": rejection.reason},
    )


def log_live_close(
    scope: Scope, rejection: Rejection, transport: str | None, settings: WardenSettings | None = None
) -> None:
    """One line when warden closes a socket that was open (expiry, a failed refresh): not a refusal."""
    settings = settings or warden_settings
    message, args = _describe(scope, rejection, transport, settings)
    routine = rejection.code in (CloseCode.TOKEN_EXPIRED, CloseCode.REVOKED, CloseCode.UNAUTHENTICATED)
    logger.log(
        logging.INFO if routine else logging.WARNING,
        message,
        "closed",
        *args,
        extra={"warden_code": int(rejection.code), "warden_reason": rejection.reason},
    )


def log_abandoned(scope: Scope, settings: WardenSettings | None = None) -> None:
    """A client left a first-message route before sending ``warden.auth``; say why it may have."""
    settings = settings or warden_settings
    client = scope.get("client") or ("-", 0)
    hints = hints_for(scope, None, settings)
    logger.log(
        refusal_level(CloseCode.UNAUTHENTICATED) if hints else logging.INFO,
        "websocket %s from %s closed by the client before it authenticated (first-message route)%s",
        loggable_path(scope.get("path", "?")),
        client[0],
        "".join(f"; hint: {hint}" for hint in hints),
    )
