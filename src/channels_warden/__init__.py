"""channels-warden: authentication and authorization for every Django Channels WebSocket.

Importing this package is safe anywhere in ``asgi.py``, before or after
``get_asgi_application()``: nothing here touches models or reads settings at import time.
"""

from __future__ import annotations

from .codes import CloseCode
from .exceptions import (
    AuthenticationFailed,
    BadRequest,
    ConflictingCredentials,
    CredentialExpired,
    InsufficientPermission,
    MissingCredentials,
    NotFound,
    OriginRejected,
    PermissionDenied,
    Rejection,
    ServiceUnavailable,
    WardenError,
)
from .identity import AuthInfo, CredentialInfo
from .middleware import WardenMiddleware, WardenMiddlewareStack
from .permissions import AllowAny, BasePermission, HasPerm, IsAuthenticated, IsStaff, IsSuperuser
from .policy import guard

__version__ = "0.1.0.dev0"

__all__ = [
    "AllowAny",
    "AuthInfo",
    "AuthenticationFailed",
    "BadRequest",
    "BasePermission",
    "CloseCode",
    "ConflictingCredentials",
    "CredentialExpired",
    "CredentialInfo",
    "HasPerm",
    "InsufficientPermission",
    "IsAuthenticated",
    "IsStaff",
    "IsSuperuser",
    "MissingCredentials",
    "NotFound",
    "OriginRejected",
    "PermissionDenied",
    "Rejection",
    "ServiceUnavailable",
    "WardenError",
    "WardenMiddleware",
    "WardenMiddlewareStack",
    "guard",
]
