"""A per-process cache of verified token credentials (opt-in): warm handshakes skip the work.

``WARDEN["IDENTITY_CACHE"] = {"TTL": 60, "MAX_ENTRIES": 10000}`` lets a process remember, for a token
it has verified, the user and credential info, so that the next handshake with the same token costs
a hash and a dictionary lookup instead of a database query (DRF tokens, SimpleJWT database mode) or a
signature check (SimpleJWT stateless mode). Only authenticators that declare ``cacheable = True``
take part; sessions, knox tokens and tickets never do (they change or are consumed on use).

Sessions get half of it: the session row is read on every handshake (a session is mutable server
state: flushed, cycled, written by HTTP views, and ``scope["session"]`` must arrive loaded), but the
user it names comes from :meth:`IdentityCache.get_user`, so a warm session handshake makes one query
instead of two. The session auth hash is still compared with the cached user's, every time.

Safety rules:

* an entry belongs to one configuration: its key includes the authenticator's *fingerprint* (its
  class and options, such as ``mode``, ``token_class`` and ``schemes``), so two middleware stacks
  with different options for one authenticator class never answer from each other's entries;
* an entry never outlives its credential (``expires_at``) nor ``TTL`` seconds;
* every save of a user (a demotion from staff, a changed group, a changed e-mail) purges that
  user's entries **in every process**, once the transaction commits (``triggers``), so that
  authorization attributes read from a cached user are never older than the last committed save;
* every revocation (logout, deactivation, deletion, token deletion, blacklisting, ``disconnect()``)
  purges the matching entries **in every process**, in the listener, before any socket is closed;
* a handshake that was already verifying when a purge happened does not store its result
  (generation check), so a purge cannot be undone by a request in flight;
* the cache keys are SHA-256 digests; secrets are not kept.

What it cannot see: changes that bypass Django's signals (``QuerySet.update(is_active=False)``, rows
deleted in SQL). Such changes take effect within ``TTL`` seconds; call ``disconnect(user=...)`` after
them to apply them at once.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model

from .credentials import Credential
from .identity import CredentialInfo
from .registry import user_key


@dataclass(frozen=True)
class CacheConfig:
    """The ``IDENTITY_CACHE`` setting, validated."""

    ttl: float = 60.0
    max_entries: int = 10_000

    @classmethod
    def from_setting(cls, value: Mapping[str, Any] | None) -> CacheConfig | None:
        if value is None:
            return None
        ttl, max_entries = value.get("TTL", 60), value.get("MAX_ENTRIES", 10_000)
        if (
            set(value) - {"TTL", "MAX_ENTRIES"}
            or not isinstance(ttl, int | float)
            or ttl <= 0
            or not isinstance(max_entries, int)
            or max_entries < 1
        ):
            raise ImproperlyConfigured(
                "WARDEN IDENTITY_CACHE must look like {'TTL': 60, 'MAX_ENTRIES': 10000}, "
                f"not {dict(value)!r}."
            )
        return cls(ttl=float(ttl), max_entries=max_entries)


@dataclass(frozen=True, slots=True)
class _Entry:
    user: Any
    info: CredentialInfo
    authenticator: str
    user_key: str | None
    expires: float


def _own_copy(user: Any) -> Any:
    """A copy of a model instance, so that consumers cannot change each other's user.

    Other users (SimpleJWT's ``TokenUser`` reads its token and cannot be shallow-copied: its
    ``__getattr__`` recurses) are shared as they are.
    """
    return copy.copy(user) if isinstance(user, Model) else user


def _canonical(value: Any) -> Any:
    """A JSON-able, order-independent form of an option value (sets sorted, objects by ``repr``)."""
    if isinstance(value, set | frozenset):
        return sorted(repr(item) for item in value)
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _canonical(item) for key, item in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


def config_fingerprint(authenticator: Any) -> str:
    """What makes an authenticator's verdict: its class and every option it was built with.

    Two instances with equal options share entries (a ``WARDEN`` reload builds new instances); two
    with different options never do. An instance whose options cannot be read (``__slots__``) gets
    a fingerprint of its own. Computed once per instance.
    """
    found = getattr(authenticator, "_warden_fingerprint", None)
    if isinstance(found, str):
        return found
    cls = type(authenticator)
    try:
        options = {k: v for k, v in vars(authenticator).items() if k != "_warden_fingerprint"}
        described = json.dumps(_canonical(options), sort_keys=True)
    except TypeError:
        described = f"instance {id(authenticator)}"
    fingerprint = hashlib.sha256(f"{cls.__module__}.{cls.__qualname__}\0{described}".encode()).hexdigest()
    with contextlib.suppress(AttributeError):  # a __slots__ class: computed again next time
        authenticator._warden_fingerprint = fingerprint
    return fingerprint


def _digest(credential: Credential, fingerprint: str) -> str:
    return hashlib.sha256(f"{fingerprint}\0{credential.scheme}\0{credential.secret}".encode()).hexdigest()


def _store(entries: OrderedDict[Any, Any], key: Any, value: Any, max_entries: int) -> None:
    """Put ``value`` as the newest entry, dropping the oldest beyond ``max_entries``."""
    entries[key] = value
    entries.move_to_end(key)
    while len(entries) > max_entries:
        entries.popitem(last=False)


class IdentityCache:
    """Verified credentials of this process, with indexes for purging by user and token id."""

    def __init__(self) -> None:
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        #: Users by (backend path, user key), for sessions. Read and written from the database
        #: thread, purged from the event loop: hence the lock.
        self._users: OrderedDict[tuple[str, str], tuple[Any, float]] = OrderedDict()
        self._users_lock = threading.Lock()
        self.generation = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, credential: Credential, authenticator: Any) -> tuple[Any, CredentialInfo] | None:
        """What ``authenticator`` (this very configuration) said of ``credential``, or ``None``.

        The user is a copy.
        """
        key = _digest(credential, config_fingerprint(authenticator))
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires <= time.time():
            del self._entries[key]
            return None
        return _own_copy(entry.user), entry.info

    def put(
        self,
        credential: Credential,
        authenticator: Any,
        user: Any,
        info: CredentialInfo,
        *,
        config: CacheConfig,
        generation: int,
    ) -> None:
        """Remember a verified credential, unless a purge happened since ``generation`` was read."""
        if generation != self.generation:
            return
        expires = time.time() + config.ttl
        if info.expires_at is not None:
            expires = min(expires, info.expires_at)
        entry = _Entry(_own_copy(user), info, str(authenticator.name), user_key(user), expires)
        _store(
            self._entries, _digest(credential, config_fingerprint(authenticator)), entry, config.max_entries
        )

    def get_user(self, backend: str, user_id: Any) -> Any:
        """A copy of the cached user ``user_id`` of authentication backend ``backend``, or ``None``."""
        key = (backend, str(user_id))
        with self._users_lock:
            found = self._users.get(key)
            if found is None:
                return None
            if found[1] <= time.time():
                del self._users[key]
                return None
            return _own_copy(found[0])

    def put_user(self, backend: str, user: Any, *, config: CacheConfig, generation: int) -> None:
        """Remember a user a backend returned, unless a purge happened since ``generation`` was read."""
        key = (backend, str(user.pk))
        with self._users_lock:
            if generation != self.generation:
                return
            _store(self._users, key, (_own_copy(user), time.time() + config.ttl), config.max_entries)

    def purge(
        self, *, user: str | None = None, token_id: str | None = None, authenticator: str | None = None
    ) -> int:
        """Forget the entries of a user and/or a token (optionally of one authenticator only)."""
        if user is None and token_id is None:
            return 0
        with self._users_lock:
            self.generation += 1
            if user is not None and token_id is None and authenticator in (None, "session"):
                for user_entry in [entry for entry in self._users if entry[1] == user]:
                    del self._users[user_entry]
        doomed = [
            key
            for key, entry in self._entries.items()
            if (user is None or entry.user_key == user)
            and (token_id is None or entry.info.token_id == token_id)
            and (authenticator is None or entry.authenticator == authenticator)
        ]
        for key in doomed:
            del self._entries[key]
        return len(doomed)

    def clear(self) -> None:
        with self._users_lock:
            self.generation += 1
            self._entries.clear()
            self._users.clear()


identity_cache = IdentityCache()
