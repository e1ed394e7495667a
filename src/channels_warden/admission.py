"""The handshake pipeline: origin, credentials, authenticators, redaction.

:func:`authenticate_handshake` is the only place that decides *who* a client is. It runs the
transports (pure) and the authenticators (which may do I/O), then builds the application's copy of
the scope with every credential removed. It raises a :class:`~channels_warden.exceptions.Rejection`
for every refusal; the caller turns that into close codes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from ._types import Scope
from .conf import WardenSettings
from .credentials import Credential
from .exceptions import AuthenticationFailed, BadRequest, ConflictingCredentials, OriginRejected, Rejection
from .hosts import check_host, is_secure, raw_host
from .identity import AuthInfo
from .identity_cache import identity_cache
from .origins import Origin, is_same_origin, read_origin
from .subprotocols import raw_subprotocols

logger = logging.getLogger("channels_warden.auth")


@dataclass(frozen=True, slots=True)
class Admission:
    """The outcome of a successful handshake check."""

    auth: AuthInfo
    app_scope: Scope


def origin_is_trusted(origin: Origin | None, scope: Scope, settings: WardenSettings) -> bool:
    """Whether the Origin is on the allow-list or, when allowed, the server's own (scheme included)."""
    if origin is None:
        return False
    if origin in settings.allowed_origins:
        return True
    if not settings.ALLOW_SAME_ORIGIN:
        return False
    host = raw_host(scope)
    return is_same_origin(origin, None if host is None else host.decode("latin-1"), secure=is_secure(scope))


def check_origin(scope: Scope, settings: WardenSettings) -> bool:
    """Apply the Origin rules that do not depend on credentials; return whether the Origin is trusted."""
    origin = read_origin(scope.get("headers", []))
    trusted = origin_is_trusted(origin, scope, settings)
    if origin is None:
        if not settings.ALLOW_MISSING_ORIGIN:
            raise OriginRejected("no Origin header (set ALLOW_MISSING_ORIGIN for non-browser clients)")
    elif settings.allowed_origins and not trusted:
        raise OriginRejected(f"Origin {origin} is not in ALLOWED_ORIGINS")
    return trusted


def find_credentials(scope: Scope, settings: WardenSettings) -> list[Credential]:
    """Every credential the configured transports find, explicit ones before cookies."""
    max_bytes = settings.MAX_CREDENTIAL_BYTES
    found = []
    for transport in settings.transports:
        try:
            credential = transport.find(scope, max_bytes=max_bytes)
        except Rejection as exc:
            exc.transport = exc.transport or transport.name
            exc.check = exc.check or f"transport {transport.name}"
            raise
        if credential is not None:
            found.append(credential)
    return sorted(found, key=_is_ambient) if len(found) > 1 else found


def _is_ambient(credential: Credential) -> bool:
    return credential.ambient


def _identity(user: Any) -> str:
    return str(getattr(user, "pk", None))


async def cached_authenticate(
    authenticator: Any, credential: Credential, scope: Scope, settings: WardenSettings
) -> Any:
    """``authenticator.authenticate``, through the identity cache when it is on and may be used."""
    config = settings.identity_cache
    if config is not None and authenticator.caches_users:
        return await authenticator.authenticate(credential, scope, user_cache=config)
    if config is None or not authenticator.cacheable:
        return await authenticator.authenticate(credential, scope)
    cached = identity_cache.get(credential, authenticator)
    if cached is not None:
        return cached
    generation = identity_cache.generation
    result = await authenticator.authenticate(credential, scope)
    if result is not None:
        identity_cache.put(credential, authenticator, *result, config=config, generation=generation)
    return result


async def _authenticate(credential: Credential, scope: Scope, settings: WardenSettings) -> AuthInfo | None:
    handled = False
    for authenticator in settings.authenticators:
        if authenticator.handles(credential):
            handled = True
            try:
                result = await cached_authenticate(authenticator, credential, scope, settings)
            except Rejection as exc:
                exc.check = exc.check or f"authenticator {authenticator.name}"
                raise
            if result is None:
                continue  # "absent" (the contract in authenticators/base.py): the next one may judge it
            user, info = result
            return AuthInfo.from_credential(
                user, info, authenticator=authenticator.name, transport=credential.transport
            )
    if handled:
        return None
    refused = BadRequest(
        f"no authenticator accepts {credential.scheme!r} credentials from {credential.transport}"
    )
    refused.check = "authenticators"
    raise refused


async def authenticate_handshake(
    scope: Scope, settings: WardenSettings, *, owns_scope: bool = False
) -> Admission:
    """Decide who the client is, or raise the rejection that explains why not.

    ``owns_scope``: the caller's ``scope`` is a copy made for this one connection (see
    :func:`~channels_warden.middleware.WardenMiddlewareStack`), so it is redacted in place.
    """
    try:
        check_host(scope)
    except Rejection as exc:
        exc.check = exc.check or "host"
        raise
    trusted = check_origin(scope, settings)
    credentials = find_credentials(scope, settings)
    if not trusted and any(credential.ambient for credential in credentials):
        refused = OriginRejected("cookie credentials from an Origin that is not trusted")
        refused.check = "cookie origin"
        refused.transport = next(credential.transport for credential in credentials if credential.ambient)
        raise refused
    identities: list[AuthInfo] = []
    for credential in credentials:
        try:
            info = await _authenticate(credential, scope, settings)
        except AuthenticationFailed as exc:
            if credential.ambient and identities:
                # A stale cookie next to a valid explicit credential: the cookie proves nothing here.
                logger.info(
                    "ignored invalid %s credential next to a valid one: %s", credential.transport, exc.detail
                )
                continue
            exc.transport = exc.transport or credential.transport
            raise
        except Rejection as exc:
            exc.transport = exc.transport or credential.transport
            raise
        if info is not None:
            identities.append(info)
    if len({_identity(info.user) for info in identities}) > 1:
        transports = ", ".join(str(info.transport) for info in identities)
        raise ConflictingCredentials(f"credentials from {transports} name different users")
    auth = identities[0] if identities else AuthInfo.anonymous()
    return Admission(auth=auth, app_scope=redacted_scope(scope, settings, auth, copy=not owns_scope))


def redacted_scope(scope: Scope, settings: WardenSettings, auth: AuthInfo, *, copy: bool = True) -> Scope:
    """The application's scope: credentials removed, ``user`` and ``auth`` set.

    A copy, as ASGI asks of a middleware that changes the scope, unless ``copy`` is false because
    the scope is already this connection's own.
    """
    app_scope = dict(scope) if copy else scope
    for transport in settings.transports:
        transport.redact(app_scope)
    app_scope["user"] = auth.user
    app_scope["auth"] = auth
    return app_scope


def accept_subprotocol(scope: Scope, settings: WardenSettings) -> str | None:
    """The subprotocol warden must echo when it accepts (marker, or a raw JWT in compatibility mode).

    Only an entry of the raw header qualifies: daphne's list may hold entries it percent-decoded,
    and autobahn drops a connection whose selected protocol is not in the header it parsed.
    """
    if not scope.get("subprotocols"):
        return None  # a server may only echo what the client offered
    raw = raw_subprotocols(scope)
    for transport in settings.transports:
        try:
            protocol = transport.accept_subprotocol(scope)
        except BadRequest:
            continue
        if protocol is not None:
            return str(protocol) if raw is None or protocol in raw else None
    return None
