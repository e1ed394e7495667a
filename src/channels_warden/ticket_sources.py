"""Is the credential a ticket was issued with still valid? Asked when the ticket is redeemed.

A ticket stands for the credential it was bought with, so it must die with it: a ticket issued to a
session that has since logged out, been flushed or lost its auth hash (password change), or with a
DRF or knox token that has since been deleted, is refused with 4401 even within its 30 seconds.
The check reads the truth (the session store, the token table), not a signal, so it also holds
when the session or token went away without one (``clearsessions``, a ``QuerySet.delete()``).

Sources checked: sessions (``session_key``), DRF tokens (``drf:`` token ids, in the model of the
configured ``DRFTokenAuthenticator``) and knox tokens (``knox:``). A SimpleJWT access token has no
server-side state to look up; its ``exp`` still bounds the ticket (``source_expires_at``), and a
revocation of its user voids the user's tickets (:func:`channels_warden.tickets.void_user_tickets`).
Token ids of other kinds, set by project code calling ``issue_ticket`` itself, are not checked.
"""

from __future__ import annotations

import hmac
from typing import Any

from django.apps import apps
from django.utils import timezone

from .exceptions import AuthenticationFailed, PermissionDenied, Rejection


def session_user(session_key: str, user_id: str) -> Any:
    """The user of the session a ticket came from, judged as a session handshake would judge it.

    Raises:
        AuthenticationFailed: the session is gone, anonymous, names another user, or no longer
            matches the user's password.
        PermissionDenied: the user is inactive.
    """
    from .authenticators.session import SessionAuthenticator

    try:
        result = SessionAuthenticator().authenticate_sync(session_key)
    except PermissionDenied:
        raise PermissionDenied("ticket user is inactive") from None
    except Rejection as exc:
        raise AuthenticationFailed(
            f"the session the ticket was issued from has ended ({exc.detail})"
        ) from None
    if result is None or str(result[0].pk) != user_id:
        raise AuthenticationFailed("the session the ticket was issued from is no longer this user's")
    return result[0]


def _drf_token_model() -> Any:
    from .conf import warden_settings

    label = next(
        (getattr(a, "model", None) for a in warden_settings.authenticators if a.name == "drf_token"),
        "authtoken.Token",
    )
    return apps.get_model(str(label))


def _drf_token_exists(digest: str, user: Any) -> bool:
    from .authenticators.base import token_digest

    keys = _drf_token_model()._default_manager.filter(user=user).values_list("key", flat=True)
    return any(hmac.compare_digest(token_digest(key, "drf"), digest) for key in keys)


def _knox_token_exists(digest: str, user: Any) -> bool:
    from knox.models import get_token_model

    prefix = digest.removeprefix("knox:")
    tokens = get_token_model()._default_manager.filter(user=user, digest__startswith=prefix)
    now = timezone.now()
    return any(token.expiry is None or token.expiry > now for token in tokens)


def check_token_source(token_id: str, user: Any) -> None:
    """Raise 4401 when the DRF or knox token a ticket was issued with no longer exists."""
    try:
        if token_id.startswith("drf:"):
            exists = _drf_token_exists(token_id, user)
        elif token_id.startswith("knox:"):
            exists = _knox_token_exists(token_id, user)
        else:
            return
    except (LookupError, ImportError):  # the token app is gone: the token cannot be valid
        exists = False
    if not exists:
        raise AuthenticationFailed("the token the ticket was issued with has been deleted or has expired")
