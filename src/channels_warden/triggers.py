"""Django events that close live sockets, connected when the app is ready.

==========================================  ==================================================
event                                       sockets closed (4499, reason)
==========================================  ==================================================
``user_logged_out``                         that session's (``logout``)
password saved (``set_password`` + save)    the user's, except the changing session's when
                                            :mod:`channels_warden.http` middleware is on
                                            (``password_changed``)
user saved with ``is_active=False``         all the user's (``user_inactive``)
user deleted                                all the user's (``user_deleted``)
DRF ``Token`` deleted                       those opened with that token (``token_deleted``)
knox ``AuthToken`` deleted                  those opened with that token (``token_deleted``)
SimpleJWT refresh token blacklisted         all the user's SimpleJWT sockets
                                            (``token_blacklisted``): an access token does not
                                            name the refresh token it came from
==========================================  ==================================================

Every broadcast waits for the transaction that made the change to commit
(``transaction.on_commit``; at once outside a transaction), and is dropped if it rolls back. Each
process applies it, and purges its identity cache, only when the change is visible to a new
handshake: a handshake that still read the old row began before the message arrived, and the
revocation journal (:mod:`.journal`) closes the socket it opens. For the same reason a logout
deletes the session from the store *before* broadcasting (Django flushes it only after
``user_logged_out``).

Besides these, every other save of a user (a demotion from staff, new groups) is broadcast, once
its transaction commits, as a ``warden.purge`` message: each process forgets what its identity cache
holds of that user, and no socket closes.

A revocation that cannot be broadcast (channel layer down) is logged as an error and does not fail
the request that caused it: a logout must still log out.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from asgiref.sync import async_to_sync
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from .http import current_request_session
from .revocation import PURGE_TYPE, broadcast, revocation_message

logger = logging.getLogger("channels_warden.revocation")


def broadcast_quietly(message: dict[str, Any]) -> None:
    """Broadcast from sync code; log (never raise) when the channel layer is unavailable."""
    try:
        async_to_sync(broadcast)(message)
    except Exception:  # a failed broadcast must not turn a logout into a 500
        logger.exception(
            "could not broadcast %s (%s): matching sockets stay open until they expire",
            message.get("type"),
            message.get("reason", ""),
        )


def revoke(*, using: str | None = None, **criteria: Any) -> None:
    """Broadcast a revocation once the current transaction on ``using`` commits (now outside one)."""
    message = revocation_message(**criteria)
    transaction.on_commit(functools.partial(broadcast_quietly, message), using=using)


def on_logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    session_key = getattr(session, "session_key", None)
    if session is not None and session_key:
        try:
            session.delete(session_key)  # Django's flush() follows this signal; be gone before we tell
        except Exception:  # the broadcast still goes out; flush() will try again
            logger.exception("could not delete the session before broadcasting its logout")
        revoke(session_key=session_key, reason="logout")


def on_user_saved(sender: Any, instance: Any, created: bool, using: str | None = None, **kwargs: Any) -> None:
    """One decision per committed save: revoke (which also purges), purge only, or nothing.

    A deactivation or a password change revokes the user's sockets, and every process purges its
    identity cache as it applies the revocation. Any other save (a demotion from staff, new groups)
    purges the cached identities without closing a socket. A save of ``last_login`` alone (every
    login) changes nothing a permission reads and is skipped. Purging before the commit would let a
    concurrent handshake re-cache the old row, so every message waits for it.
    """
    if created:
        return
    if not getattr(instance, "is_active", True):
        revoke(using=using, user=instance.pk, reason="user_inactive")
    elif getattr(instance, "_password", None) is not None:
        request_session = current_request_session()
        keep = None
        if request_session is not None:
            request_session.password_changed = True
            keep = request_session.session_key
        revoke(using=using, user=instance.pk, except_session=keep, reason="password_changed")
    else:
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and set(update_fields) == {"last_login"}:
            return
        message = {"type": PURGE_TYPE, "user": str(instance.pk)}
        transaction.on_commit(functools.partial(broadcast_quietly, message), using=using)


def on_user_deleted(sender: Any, instance: Any, using: str | None = None, **kwargs: Any) -> None:
    revoke(using=using, user=instance.pk, reason="user_deleted")


def on_token_deleted(sender: Any, instance: Any, using: str | None = None, **kwargs: Any) -> None:
    revoke(using=using, token=instance, reason="token_deleted")


def on_token_blacklisted(
    sender: Any, instance: Any, created: bool, using: str | None = None, **kwargs: Any
) -> None:
    user_id = getattr(instance.token, "user_id", None)
    if created and user_id is not None:
        revoke(using=using, user=user_id, authenticator="simplejwt", reason="token_blacklisted")


def connect_triggers() -> None:
    """Connect every trigger whose app is installed (called from ``AppConfig.ready``)."""
    user_model = get_user_model()
    user_logged_out.connect(on_logged_out, dispatch_uid="channels_warden.logout")
    post_save.connect(on_user_saved, sender=user_model, dispatch_uid="channels_warden.user_saved")
    post_delete.connect(on_user_deleted, sender=user_model, dispatch_uid="channels_warden.user_deleted")
    optional = (
        ("authtoken", "Token", post_delete, on_token_deleted),
        ("knox", "AuthToken", post_delete, on_token_deleted),
        ("token_blacklist", "BlacklistedToken", post_save, on_token_blacklisted),
    )
    for app_label, model_name, signal, receiver in optional:
        if _installed(app_label):
            model = apps.get_model(app_label, model_name)
            signal.connect(receiver, sender=model, dispatch_uid=f"channels_warden.{app_label}.{model_name}")


def _installed(app_label: str) -> bool:
    try:
        apps.get_app_config(app_label)
    except LookupError:
        return False
    return True
