"""Django session cookies, checked the way ``django.contrib.auth.get_user`` checks them."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from .._types import Scope
from ..batching import each_in_one_hop, loader_for
from ..compiled import lookup_for
from ..credentials import Credential
from ..exceptions import AuthenticationFailed, PermissionDenied
from ..identity import CredentialInfo
from ..identity_cache import CacheConfig, identity_cache
from .base import AuthResult, BaseAuthenticator

#: Session engines that read a session without I/O (the cookie itself holds it, signed).
LOOP_ENGINES = frozenset({"django.contrib.sessions.backends.signed_cookies"})
#: The engine that keeps sessions in ``SESSION_CACHE_ALIAS``: read on the loop when that cache is
#: in this process's memory.
CACHE_ENGINE = "django.contrib.sessions.backends.cache"
#: What :meth:`SessionAuthenticator.check` returns when the user would need a query.
USER_NOT_CACHED = object()


def _session_row(owner: object, session: Any) -> Any:
    """The database session's row if it exists and has not expired, as ``_get_session_from_db``.

    For Django's own database store the lookup by key is a learned statement
    (:mod:`~channels_warden.compiled`) and the expiry is compared here, with the same ``>`` as
    ``expire_date__gt=timezone.now()``; other stores (``cached_db``, subclasses) read it their way.
    """
    from django.contrib.sessions.backends.db import SessionStore

    own = getattr(type(session), "_get_session_from_db", None)
    if own is not getattr(SessionStore, "_get_session_from_db", None):
        return session._get_session_from_db()
    model = session.model
    lookup = lookup_for(
        owner, model, "session_key", lambda keys: model._default_manager.filter(session_key__in=keys)
    )
    rows = lookup.fetch([session.session_key]) if session.session_key else []
    if not rows or rows[0].expire_date <= timezone.now():
        session._session_key = None
        return None
    return rows[0]


def _user(owner: object, backend: Any, user_id: Any) -> Any:
    """``backend.get_user(user_id)``; for Django's ``ModelBackend`` itself, with a learned statement."""
    from django.contrib.auth.backends import ModelBackend

    if type(backend) is not ModelBackend:
        return backend.get_user(user_id)
    model = get_user_model()
    lookup = lookup_for(
        owner, model, model._meta.pk.name, lambda ids: model._default_manager.filter(pk__in=ids)
    )
    rows = lookup.fetch([user_id])
    return rows[0] if rows and backend.user_can_authenticate(rows[0]) else None


def _load(session: Any, owner: object = None) -> dict[str, Any] | None:
    """Load the session's data; ``None`` when no such session exists (forged, expired, flushed).

    The database backend is read through its own row so that the row's ``expire_date`` (the real
    end of the session) is known without a second query.
    """
    get_row = getattr(session, "_get_session_from_db", None)
    if get_row is not None:
        row = get_row() if owner is None else _session_row(owner, session)
        if row is None:
            return None
        data: dict[str, Any] = session.decode(row.session_data)
        session._session_cache = data
        session._warden_expire_date = row.expire_date
        return data
    data = dict(session.items())
    if session.session_key is None or (not data and session.modified):
        # Missing (cache, file backends reset the key) or unreadable (a signed cookie with a bad
        # signature loads as a new, modified session).
        return None
    return data


def reads_without_io(engine: str) -> bool:
    """Whether a session of ``engine`` is read without I/O, so that it may be read on the event loop.

    Signed cookies hold the session themselves. The cache engine does when ``SESSION_CACHE_ALIAS``
    is a local-memory cache (a dictionary of this process). Every other cache Django 5.2 ships does
    network or file I/O, and its ``aget`` is ``get`` in a thread: those sessions take the hop, like
    ``cached_db`` (whose row warden reads for its real expiry date) and the database engine.
    """
    if engine in LOOP_ENGINES:
        return True
    if engine != CACHE_ENGINE:
        return False
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    return type(caches[settings.SESSION_CACHE_ALIAS]) is LocMemCache


def _is_inactive_user(user_id: Any) -> bool:
    """Whether ``user_id`` names a deactivated user, which ``ModelBackend.get_user`` reports as absent.

    Only asked after the backend refused the user, so a valid session costs no extra query.
    """
    model = get_user_model()
    try:
        model._meta.get_field("is_active")
        return model._default_manager.filter(pk=user_id, is_active=False).exists()
    except (FieldDoesNotExist, ValidationError, ValueError, TypeError):
        return False


def _expires_at(session: Any) -> float:
    expire_date = getattr(session, "_warden_expire_date", None) or session.get_expiry_date()
    return float(expire_date.timestamp())


class SessionAuthenticator(BaseAuthenticator):
    """Django's session cookie, as set by ``django.contrib.auth.login``.

    Honours the session auth hash (a password change ends every other session, as in Django),
    ``AUTHENTICATION_BACKENDS`` and ``SECRET_KEY_FALLBACKS``. Session and user are read in one thread
    hop (two queries with the database backend; one when ``IDENTITY_CACHE`` is on and the user is
    cached: see :mod:`~channels_warden.identity_cache`). A session without a user is anonymous
    (``None``); a session key that matches no session, or a user whose hash no longer matches, is a
    rejection.
    """

    name = "session"
    default_schemes = ("session",)
    #: The session itself is never cached, the user it names may be (``user_cache``).
    caches_users = True

    def __init__(self, schemes: Iterable[str] | None = None, engine: str | None = None) -> None:
        super().__init__(schemes)
        #: The session engine to read the cookie with; ``None``: ``settings.SESSION_ENGINE``.
        self.engine = engine

    async def authenticate(
        self, credential: Credential, scope: Scope, user_cache: CacheConfig | None = None
    ) -> AuthResult | None:
        if user_cache is not None and reads_without_io(self.engine or settings.SESSION_ENGINE):
            # A signed-cookie session, or one in a local-memory cache, is read without I/O; with its
            # user cached the whole check runs on the event loop, with no thread hop.
            found = self.check(credential.secret, scope.get("session"), user_cache, cached_only=True)
            if found is not USER_NOT_CACHED:
                return found  # type: ignore[return-value]
        # Handshakes that overlap a lookup in flight share the next thread hop (each still reads its
        # own session row: the session backend is pluggable and loads one session at a time).
        loader = loader_for(self, "sessions", each_in_one_hop(self.authenticate_sync))
        result: AuthResult | None = await loader.load((credential.secret, scope.get("session"), user_cache))
        return result

    def authenticate_sync(
        self, session_key: str, session: Any = None, user_cache: CacheConfig | None = None
    ) -> AuthResult | None:
        """The blocking part; runs in a worker thread."""
        found = self.check(session_key, session, user_cache, cached_only=False)
        return found  # type: ignore[return-value]

    def check(
        self, session_key: str, session: Any, user_cache: CacheConfig | None, *, cached_only: bool
    ) -> AuthResult | object | None:
        """The whole check; with ``cached_only``, :data:`USER_NOT_CACHED` instead of loading a user."""
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, load_backend

        engine = self.engine or settings.SESSION_ENGINE
        if session is None or session.session_key != session_key or engine != settings.SESSION_ENGINE:
            session = import_module(engine).SessionStore(session_key)
        data = _load(session, self)
        if data is None:
            raise AuthenticationFailed("session does not exist or has expired")
        user_id = data.get(SESSION_KEY)
        if user_id is None:
            return None
        backend_path = data.get(BACKEND_SESSION_KEY)
        if not isinstance(backend_path, str) or backend_path not in settings.AUTHENTICATION_BACKENDS:
            raise AuthenticationFailed("session names an authentication backend that is not configured")
        user = None if user_cache is None else identity_cache.get_user(backend_path, user_id)
        if user is None:
            if cached_only:
                return USER_NOT_CACHED
            generation = identity_cache.generation
            user = _user(self, load_backend(backend_path), user_id)
            if user is None:
                if _is_inactive_user(user_id):
                    raise PermissionDenied("session user is inactive")
                raise AuthenticationFailed("session user is deleted or refused by its backend")
            if not getattr(user, "is_active", True):
                raise PermissionDenied("session user is inactive")
            if user_cache is not None:
                identity_cache.put_user(backend_path, user, config=user_cache, generation=generation)
        if hasattr(user, "get_session_auth_hash"):
            session_hash = data.get(HASH_SESSION_KEY) or ""
            hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
            if not any(constant_time_compare(session_hash, known) for known in hashes):
                raise AuthenticationFailed("session auth hash mismatch (password changed)")
        return user, CredentialInfo(expires_at=_expires_at(session), session_key=session_key)
