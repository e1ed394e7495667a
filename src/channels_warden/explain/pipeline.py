"""Run one handshake through warden's real pipeline, recording each step, with no socket.

The same functions the middleware calls decide here (``check_host``, ``check_subprotocols``,
``authenticate_handshake``, ``check_permissions``), on a copy of the route's settings whose transports
and authenticators are wrapped to record what each one found or answered. What cannot be decided
without a live server is said, not guessed: one-time tickets are not redeemed (that would use them
up), connection limits and the throttle count live sockets and failures of the running servers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError

from .._types import Scope
from ..admission import accept_subprotocol, authenticate_handshake, check_origin
from ..conf import WardenSettings, warden_settings
from ..credentials import Credential
from ..exceptions import MissingCredentials, NotFound, Rejection, ServiceUnavailable
from ..hints import failed_check, hints_for
from ..hosts import check_host
from ..permissions import check_permissions
from ..rejection import close_messages, www_authenticate
from ..subprotocols import check_subprotocols
from ..tickets import TicketAuthenticator
from .masking import masked, shown_subprotocol
from .routes import Route


@dataclass
class Explanation:
    """What a client would get, and the steps that decided it (lines of text, secrets masked)."""

    steps: list[tuple[str, str]] = field(default_factory=list)
    code: int | None = None
    user: Any = None
    rejection: Rejection | None = None

    def add(self, step: str, text: str) -> None:
        self.steps.append((step, text))


class RecordingTransport:
    """A transport that tells the explanation what it found."""

    def __init__(self, transport: Any, explanation: Explanation) -> None:
        self._transport, self._explanation = transport, explanation
        self.name, self.ambient = transport.name, transport.ambient

    def find(self, scope: Scope, *, max_bytes: int) -> Credential | None:
        label = f"{self.name} ({type(self._transport).__name__})"
        try:
            found: Credential | None = self._transport.find(scope, max_bytes=max_bytes)
        except Rejection as exc:
            self._explanation.add("transport", f"{label}: malformed: {exc.detail}")
            raise
        what = "nothing" if found is None else f"{found.scheme} credential {masked(found.secret)}"
        self._explanation.add("transport", f"{label}: {what}")
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class RecordingAuthenticator:
    """An authenticator that tells the explanation what it answered; tickets are only looked at."""

    def __init__(self, authenticator: Any, explanation: Explanation) -> None:
        self._authenticator, self._explanation = authenticator, explanation
        self.name, self.schemes = authenticator.name, authenticator.schemes
        self.cacheable, self.caches_users = False, False

    def handles(self, credential: Credential) -> bool:
        handles = bool(self._authenticator.handles(credential))
        if not handles:
            self._explanation.add(
                "authenticator", f"{self.name}: does not judge {credential.scheme!r} credentials"
            )
        return handles

    async def authenticate(self, credential: Credential, scope: Scope) -> Any:
        source = f"{self.name}: {credential.scheme} from {credential.transport}"
        if isinstance(self._authenticator, TicketAuthenticator):
            self._explanation.add("authenticator", f"{source}: not redeemed (single use: it would be spent)")
            return None
        try:
            result = await self._authenticator.authenticate(credential, scope)
        except Rejection as exc:
            self._explanation.add(
                "authenticator", f"{source}: refused ({exc.code} {exc.reason}: {exc.detail})"
            )
            raise
        if result is None:
            self._explanation.add("authenticator", f"{source}: absent (the next authenticator may judge it)")
        else:
            self._explanation.add("authenticator", f"{source}: valid for {describe_user(result[0])}")
        return result


def describe_user(user: Any) -> str:
    if not getattr(user, "is_authenticated", False):
        return "an anonymous user"
    username = user.get_username() if hasattr(user, "get_username") else str(user)
    return f"user {username!r} (pk {getattr(user, 'pk', None)!r})"


def recording_settings(settings: WardenSettings, explanation: Explanation) -> WardenSettings:
    """The route's settings with recording transports and authenticators and no identity cache."""
    copy = WardenSettings(getattr(settings, "_overrides", None))
    copy.__dict__["transports"] = tuple(RecordingTransport(t, explanation) for t in settings.transports)
    copy.__dict__["authenticators"] = tuple(
        RecordingAuthenticator(a, explanation) for a in settings.authenticators
    )
    copy.__dict__["identity_cache"] = None
    return copy


def _policy(route: Route, settings: WardenSettings) -> tuple[bool, tuple[Any, ...], bool, str]:
    guard = route.guard
    allow_anonymous = guard.allow_anonymous if guard and guard.allow_anonymous is not None else None
    permissions = guard.permissions if guard and guard.permissions is not None else None
    first_message = guard.first_message if guard and guard.first_message is not None else None
    where = "guard()" if guard else "the defaults (no guard() on this route)"
    return (
        bool(settings.ALLOW_ANONYMOUS) if allow_anonymous is None else allow_anonymous,
        tuple(settings.default_permissions) if permissions is None else tuple(permissions),
        bool(settings.FIRST_MESSAGE_AUTH) if first_message is None else first_message,
        where,
    )


def _refuse(explanation: Explanation, scope: Scope, rejection: Rejection, settings: WardenSettings) -> None:
    explanation.code, explanation.rejection = int(rejection.code), rejection
    explanation.add(
        "refused",
        f"{int(rejection.code)} {rejection.reason}; check {failed_check(rejection)}: {rejection.detail}",
    )
    for hint in hints_for(scope, rejection, settings):
        explanation.add("hint", hint)


async def explain(scope: Scope, route: Route) -> Explanation:
    """Decide ``scope``'s handshake as the middleware and the route's guard would."""
    explanation = Explanation()
    if route.warden is None:
        explanation.add("warden", "no WardenMiddleware on this path: warden does not see this socket")
        return explanation
    settings = route.warden.settings
    scope = dict(route.warden_scope)
    try:
        host = check_host(scope)
        explanation.add("host", f"{host or '(none)'}: allowed by ALLOWED_HOSTS")
        check_subprotocols(scope)
        offered = [shown_subprotocol(str(entry)) for entry in scope.get("subprotocols") or ()]
        echo = accept_subprotocol(scope, settings)
        shown_echo = "nothing" if echo is None else shown_subprotocol(echo)
        listed = ", ".join(offered) or "none"
        explanation.add("subprotocols", f"offered {listed}; the server would echo {shown_echo}")
        if offered and echo is None:
            explanation.add("subprotocols", "a browser fails a socket that echoes none of its offers (1006)")
        trusted = check_origin(scope, settings)
        explanation.add("origin", "trusted" if trusted else "not trusted (no cookie credential may be used)")
        if settings.handshake_throttle is not None:
            explanation.add(
                "throttle", "HANDSHAKE_THROTTLE is on: not evaluated (it counts the servers' failures)"
            )
        admission = await authenticate_handshake(scope, recording_settings(settings, explanation))
    except Rejection as exc:
        _refuse(explanation, scope, exc, settings)
        return explanation
    except Exception as exc:  # noqa: BLE001  (as the middleware does: any error fails closed)
        _fail_closed(explanation, scope, exc, settings)
        return explanation
    auth = admission.auth
    explanation.add(
        "identity", f"{describe_user(auth.user)} via {auth.transport or '-'} ({auth.authenticator or '-'})"
    )
    if not route.found:
        explanation.add("route", f"no route below warden matches; the routes are {route.unmatched}")
        _refuse(explanation, scope, NotFound("no route below warden matches the path"), settings)
        return explanation
    allow_anonymous, permissions, first_message, where = _policy(route, settings)
    explanation.add(
        "policy",
        f"{where}: allow_anonymous={allow_anonymous}, first_message={first_message}, "
        f"permissions={list(permissions)}",
    )
    if first_message and not auth.is_authenticated:
        explanation.add(
            "policy",
            f"no credential in the handshake: warden accepts and waits {settings.AUTH_TIMEOUT} s for a "
            "warden.auth frame; the outcome depends on that frame (none: 4408 auth_timeout)",
        )
        for hint in hints_for(scope, None, settings):
            explanation.add("hint", hint)
        return explanation
    route_scope = {**admission.app_scope, **route.route_scope, "user": auth.user, "auth": auth}
    for key in ("headers", "query_string", "subprotocols"):
        route_scope[key] = admission.app_scope.get(key, route_scope.get(key))
    try:
        if not allow_anonymous and not auth.is_authenticated:
            raise MissingCredentials("no credentials on a route that requires them")
        for permission in permissions:
            await check_permissions([permission], route_scope, auth)
            explanation.add("permission", f"{permission!r}: allowed")
    except Rejection as exc:
        _refuse(explanation, scope, exc, settings)
        return explanation
    except Exception as exc:  # noqa: BLE001  (a permission that raised: fail closed)
        _fail_closed(explanation, scope, exc, settings)
        return explanation
    if settings.connection_limit is not None:
        explanation.add(
            "limit", "CONNECTION_LIMIT is on: not evaluated (it counts the servers' live sockets)"
        )
    explanation.code, explanation.user = None, auth.user
    explanation.add("admitted", f"{describe_user(auth.user)}; the application gets websocket.connect")
    return explanation


def _fail_closed(explanation: Explanation, scope: Scope, error: Exception, settings: WardenSettings) -> None:
    """An authenticator or permission raised: the server would close with 4500.

    Only the error's type is shown: a database error's text may quote the credential it looked up.
    """
    name = type(error).__name__
    explanation.add("error", f"{name} raised while deciding; the server fails closed and logs the traceback")
    if isinstance(error, DatabaseError):
        explanation.add("hint", "is the database reachable, and migrated (manage.py migrate)?")
    _refuse(explanation, scope, ServiceUnavailable(f"{name} raised; failing closed"), settings)


def client_sees(explanation: Explanation, scope: Scope, settings: WardenSettings | None) -> str | None:
    """What the client receives for a refusal, in the configured reject mode."""
    rejection = explanation.rejection
    if rejection is None:
        return None
    settings = settings or warden_settings
    if settings.REJECT_MODE == "deny":
        challenge = www_authenticate(rejection, str(settings.REALM))
        header = "" if challenge is None else f", WWW-Authenticate: {challenge.decode('ascii')}"
        return (
            f"HTTP {rejection.code.http_status} (deny mode; a plain 403 on a server without the "
            f"websocket.http.response extension){header}, the disconnect frame as its body"
        )
    messages = close_messages(rejection, accepted=False, subprotocol=accept_subprotocol(scope, settings))
    frame = next((m.get("text") for m in messages if m.get("type") == "websocket.send"), None)
    return f"accept, then the frame {frame}, then close {int(rejection.code)}"


__all__ = ["Explanation", "client_sees", "explain"]
