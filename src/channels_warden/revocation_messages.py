"""What a revocation says: the channel-layer messages that close or rekey sockets.

Pure functions and constants, no I/O: :mod:`channels_warden.revocation` sends these messages to every
process and applies them there. A revocation names sockets by user, session or token id (all given
must match); the caller may give a user as an instance or a primary key, a token as its id or as a
DRF/knox token instance.
"""

from __future__ import annotations

from typing import Any

from .codes import CloseCode

GROUP = "warden.revocations"
MESSAGE_TYPE = "warden.revoke"
REKEY_TYPE = "warden.rekey"
#: A user was saved: forget what the identity cache holds of them (no socket closes).
PURGE_TYPE = "warden.purge"


def _token_id(token: Any) -> str | None:
    """Accept a token id (as in ``scope["auth"].token_id``) or a DRF/knox token instance."""
    if token is None or isinstance(token, str):
        return token
    from .authenticators.base import token_digest

    if hasattr(token, "digest"):  # knox AuthToken
        return f"knox:{token.digest[:32]}"
    if hasattr(token, "key"):  # DRF Token
        return token_digest(token.key, "drf")
    raise TypeError(f"token must be a token id string or a DRF/knox token, not {type(token).__name__}")


def user_reference(user: Any) -> str | None:
    """Accept a user instance, a primary key, or ``None``."""
    if user is None or isinstance(user, str):
        return user
    if isinstance(user, int) and not isinstance(user, bool):
        return str(user)
    return str(user.pk)


def revocation_message(
    *,
    user: Any = None,
    session_key: str | None = None,
    token: Any = None,
    except_session: str | None = None,
    authenticator: str | None = None,
    code: int = CloseCode.REVOKED,
    reason: str = "revoked",
) -> dict[str, Any]:
    """The group message for a revocation; raises ``ValueError`` when it would match nothing."""
    key = user_reference(user)
    token_id = _token_id(token)
    if key is None and session_key is None and token_id is None:
        raise ValueError("disconnect() needs at least one of user, session_key or token")
    return {
        "type": MESSAGE_TYPE,
        "user": key,
        "session_key": session_key,
        "token_id": token_id,
        "except_session": except_session,
        "authenticator": authenticator,
        "code": int(code),
        "reason": reason,
    }
