"""Signals for observability. Receivers may be sync or async; they are sent with ``asend``.

=======================  =====================================================================
``connection_admitted``  ``scope``, ``auth``: a socket passed the handshake and was accepted
``connection_rejected``  ``scope``, ``code``, ``reason``, ``detail``: a handshake was refused
``connection_refreshed`` ``scope``, ``auth``: an in-band refresh extended a live socket
``connection_revoked``   ``scope``, ``auth``, ``reason``: a revocation closed a live socket
``connection_closed``    ``scope``, ``auth``, ``code``: a live socket ended, for any reason
=======================  =====================================================================

Receivers never see a secret: ``scope`` is :func:`signal_scope` (a copy with every transport's
credential removed, the session cookie and ``scope["session"]`` too, and without the ``warden``
connection object that leads back to the raw scope), and ``auth`` is :func:`signal_auth` (the
session key blanked; ``token_id`` is a non-secret id). That holds for refused handshakes too, whose
scope still carried the credential. ``detail`` says which check failed; it never contains the
credential.

The sender is always :class:`~channels_warden.connection.Connection`. The signals cache their
receivers per sender (``use_caching``), so a handshake asks "does anyone listen?" with a dictionary
lookup and sends nothing when nobody does.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.conf import settings as django_settings
from django.dispatch import Signal
from django.http import parse_cookie

from ._types import Scope
from .deferred import unwrap

connection_admitted = Signal(use_caching=True)
connection_rejected = Signal(use_caching=True)
connection_refreshed = Signal(use_caching=True)
connection_revoked = Signal(use_caching=True)
connection_closed = Signal(use_caching=True)

#: Scope keys a signal receiver never gets: the session (its key is the cookie's secret) and the
#: warden connection (which holds the server's scope).
_WITHHELD = ("session", "warden")


def _without_cookie(scope: Scope, name: str) -> None:
    headers = scope.get("headers") or ()
    if not any(key == b"cookie" for key, _ in headers):
        return
    kept_headers = []
    for key, value in headers:
        if key == b"cookie":
            jar = parse_cookie(value.decode("latin-1"))
            if name not in jar:
                kept_headers.append((key, value))
                continue
            kept = "; ".join(f"{cookie}={text}" for cookie, text in jar.items() if cookie != name)
            if kept:
                kept_headers.append((key, kept.encode("latin-1")))
        else:
            kept_headers.append((key, value))
    scope["headers"] = kept_headers
    if isinstance(scope.get("cookies"), dict):
        scope["cookies"] = {key: value for key, value in scope["cookies"].items() if key != name}


def signal_scope(scope: Scope, settings: Any) -> Scope:
    """A copy of ``scope`` safe to hand to any receiver: no credential of any transport in it."""
    safe = {key: value for key, value in scope.items() if key not in _WITHHELD}
    for transport in settings.transports:
        transport.redact(safe)
    _without_cookie(safe, str(django_settings.SESSION_COOKIE_NAME))
    if safe.get("auth") is not None:
        safe["auth"] = signal_auth(unwrap(safe["auth"]))
    if safe.get("user") is not None:
        safe["user"] = unwrap(safe["user"])
    if isinstance(safe.get("headers"), list | tuple):
        safe["headers"] = list(safe["headers"])
    if isinstance(safe.get("subprotocols"), list | tuple):
        safe["subprotocols"] = list(safe["subprotocols"])
    return safe


def signal_auth(auth: Any) -> Any:
    """``auth`` without its session key (the session cookie's value)."""
    if auth is None or getattr(auth, "session_key", None) is None:
        return auth
    return replace(auth, session_key=None)
