"""Exceptions that end a handshake or a live connection.

Every exception carries the close code and the public reason it turns into, plus a ``detail`` that is
written to the server log only. ``detail`` must never contain the credential itself.

Exception tree::

    WardenError
    └── Rejection                      carries code, reason, detail, retry_after
        ├── BadRequest                 4400  malformed credential or auth message
        │   └── ConflictingCredentials 4400  two credentials name different users
        ├── AuthenticationFailed       4401  missing, invalid or expired credentials
        │   ├── MissingCredentials     4401  no credential was presented at all
        │   └── CredentialExpired      4401  reason "token_expired"
        ├── PermissionDenied           4403  authenticated but not allowed
        │   ├── InsufficientPermission 4403  a permission class refused the user
        │   └── OriginRejected         4403  Origin missing, malformed or not allowed
        ├── NotFound                   4404  no route below warden matches the path
        ├── AuthTimeout                4408  no warden.auth frame in time
        ├── TooManyConnections         4429  rate or connection limit, with retry_after
        ├── ConnectionExpired          4498  the credential of a live socket ended
        ├── Revoked                    4499  logout, password change, deactivation...
        └── ServiceUnavailable         4500  a dependency failed: fail closed

    ``Rejection(detail, code=...)`` builds a rejection for any code of the table.
"""

from __future__ import annotations

from .codes import CloseCode


class WardenError(Exception):
    """Root of every exception raised by channels-warden."""


class Rejection(WardenError):
    """A reason to refuse or close a connection.

    Args:
        detail: what exactly failed, for the server log. Never include the secret.
        reason: the public word sent to the client; defaults to the code's reason. It must not say
            which check failed beyond what the code already says.
        retry_after: seconds a client should wait, for codes that ask it to back off.
        code: the close code, for a rejection that has no class of its own.
    """

    code: CloseCode = CloseCode.INTERNAL

    def __init__(
        self,
        detail: str = "",
        *,
        reason: str | None = None,
        retry_after: int | None = None,
        code: int | None = None,
    ):
        if code is not None:
            self.code = CloseCode(code)
        self.detail = detail
        self.reason = reason or self.code.reason
        self.retry_after = retry_after
        #: Name of the transport whose credential failed, when known (for the log line only).
        self.transport: str | None = None
        #: Whether the handshake throttle has already accounted for this refusal (it is counted once).
        self.throttled = False
        #: Which check refused (``"authenticator simplejwt"``, ``"permission IsStaff"``), for the log.
        self.check: str | None = None
        #: What the developer probably got wrong, for the log only; never holds the secret.
        self.hint: str | None = None
        super().__init__(detail or self.reason)


class BadRequest(Rejection):
    """The client sent something that is not a credential at all (4400)."""

    code = CloseCode.BAD_REQUEST


class ConflictingCredentials(BadRequest):
    """Two transports carried valid credentials for different users (4400)."""


class AuthenticationFailed(Rejection):
    """Credentials are required, or were present and invalid (4401)."""

    code = CloseCode.UNAUTHENTICATED


class MissingCredentials(AuthenticationFailed):
    """No transport found a credential on a route that requires one (4401).

    Kept apart from an invalid credential because RFC 6750 (section 3.1) wants deny mode's
    ``WWW-Authenticate`` challenge to carry no ``error`` when the client presented no token.
    """


class CredentialExpired(AuthenticationFailed):
    """The credential was valid once and has expired (4401, reason ``token_expired``)."""

    def __init__(self, detail: str = "credential expired") -> None:
        super().__init__(detail, reason="token_expired")


class PermissionDenied(Rejection):
    """The user is known but not allowed here (4403)."""

    code = CloseCode.FORBIDDEN


class InsufficientPermission(PermissionDenied):
    """An authenticated user was refused by a permission class (4403).

    RFC 6750's ``insufficient_scope``: the credential is fine, the user may not do this. Origin
    refusals and inactive users are plain :class:`PermissionDenied`, where no other token would help.
    """


class OriginRejected(PermissionDenied):
    """The Origin header is missing, malformed or not on the allow-list (4403)."""


class NotFound(Rejection):
    """No route below warden matches the handshake's path (4404): a client error, never a 500."""

    code = CloseCode.NOT_FOUND


class AuthTimeout(Rejection):
    """A first-message route got no ``warden.auth`` frame within ``AUTH_TIMEOUT`` (4408)."""

    code = CloseCode.AUTH_TIMEOUT


class TooManyConnections(Rejection):
    """A rate or connection limit was hit (4429); ``retry_after`` says when to try again."""

    code = CloseCode.TOO_MANY


class ConnectionExpired(Rejection):
    """The credential of a live socket ended and was not refreshed in time (4498)."""

    code = CloseCode.TOKEN_EXPIRED


class Revoked(Rejection):
    """A revocation (logout, password change, deactivation, deleted token) closed the socket (4499)."""

    code = CloseCode.REVOKED


class ServiceUnavailable(Rejection):
    """A dependency (database, cache, channel layer) failed; the connection fails closed (4500)."""

    code = CloseCode.INTERNAL
