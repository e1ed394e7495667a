"""SessionAuthenticator against real session rows: the checks django.contrib.auth.get_user makes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from importlib import import_module
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.models import Session
from django.utils import timezone

from channels_warden.authenticators.session import SessionAuthenticator
from channels_warden.compiled import _LOOKUPS
from channels_warden.credentials import Credential
from channels_warden.exceptions import AuthenticationFailed, PermissionDenied
from channels_warden.identity_cache import CacheConfig, identity_cache
from channels_warden.testing import session_key_for

pytestmark = pytest.mark.django_db

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
PLAIN_BACKEND = "tests.test_authenticators_session.PlainUserBackend"


class PlainUser:
    """A user from a backend that has no password, hence no session auth hash."""

    is_active = True
    is_authenticated = True

    def __init__(self, pk: str) -> None:
        self.pk = pk


class PlainUserBackend:
    """An authentication backend (e.g. SSO) whose users carry no session auth hash."""

    def get_user(self, user_id: str) -> PlainUser:
        return PlainUser(user_id)


def store(session_key: str | None = None) -> Any:
    return import_module(django_settings.SESSION_ENGINE).SessionStore(session_key)


def logged_in_session(user: Any, **overrides: Any) -> str:
    """A session as django.contrib.auth.login leaves it, with some keys replaced."""
    session = store()
    session.update(
        {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: MODEL_BACKEND,
            HASH_SESSION_KEY: user.get_session_auth_hash(),
            **overrides,
        }
    )
    session.save()
    return str(session.session_key)


def refusal(session_key: str) -> AuthenticationFailed:
    with pytest.raises(AuthenticationFailed) as exc_info:
        SessionAuthenticator().authenticate_sync(session_key)
    return exc_info.value


def test_logged_in_session_is_its_user(make_user: Any) -> None:
    """A session made by login() authenticates its user."""
    user = make_user()
    result = SessionAuthenticator().authenticate_sync(session_key_for(user))
    assert result is not None
    assert result[0] == user


def test_two_queries_session_row_and_user(make_user: Any, django_assert_num_queries: Any) -> None:
    """One query for the session row (with its expiry), one for the user."""
    user = make_user()
    key = session_key_for(user)
    with django_assert_num_queries(2):
        result = SessionAuthenticator().authenticate_sync(key)
    assert result is not None
    assert result[0] == user


def test_session_from_the_scope_is_reused(make_user: Any, django_assert_num_queries: Any) -> None:
    """The scope's session object (SessionMiddleware's) is loaded in the same two queries and cached."""
    key = session_key_for(make_user())
    session = store(key)
    with django_assert_num_queries(2):
        SessionAuthenticator().authenticate_sync(key, session)
    with django_assert_num_queries(0):
        assert session[SESSION_KEY] is not None


def test_scope_session_for_another_key_is_not_used(make_user: Any) -> None:
    """A scope session whose key differs from the cookie's is ignored; the cookie's key decides."""
    alice, bob = make_user("alice"), make_user("bob")
    result = SessionAuthenticator().authenticate_sync(session_key_for(alice), store(session_key_for(bob)))
    assert result is not None
    assert result[0] == alice


def test_expires_at_is_the_rows_expire_date(make_user: Any) -> None:
    """expires_at is the database row's expire_date, the real end of the session."""
    key = session_key_for(make_user())
    Session.objects.filter(pk=key).update(expire_date=timezone.now() + timedelta(minutes=5))
    result = SessionAuthenticator().authenticate_sync(key)
    assert result is not None
    assert result[1].expires_at == Session.objects.get(pk=key).expire_date.timestamp()


def test_credential_info_carries_the_session_key(make_user: Any) -> None:
    """The session key is recorded (for revocation), with no claims and no token id."""
    key = session_key_for(make_user())
    result = SessionAuthenticator().authenticate_sync(key)
    assert result is not None
    assert (result[1].session_key, dict(result[1].claims), result[1].token_id) == (key, {}, None)


def test_anonymous_session_is_none() -> None:
    """A session without a user is 'absent': the client is anonymous, not refused."""
    session = store()
    session["cart"] = [1, 2]
    session.save()
    assert SessionAuthenticator().authenticate_sync(str(session.session_key)) is None


def test_forged_key_is_refused() -> None:
    """A key that names no session is a rejection, never anonymous."""
    assert refusal("abcdefghijklmnopqrstuvwxyz012345").detail == "session does not exist or has expired"


def test_short_forged_key_is_refused() -> None:
    """A key Django considers invalid (too short) is refused the same way."""
    assert refusal("abc").detail == "session does not exist or has expired"


def test_expired_session_is_refused(make_user: Any) -> None:
    """A session past its expire_date is refused."""
    key = session_key_for(make_user())
    Session.objects.filter(pk=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    assert refusal(key).detail == "session does not exist or has expired"


def test_password_change_ends_the_session(make_user: Any) -> None:
    """After a password change the session's auth hash no longer matches: refused, as in Django."""
    user = make_user()
    key = session_key_for(user)
    user.set_password("a new password")
    user.save()
    assert refusal(key).detail == "session auth hash mismatch (password changed)"


def test_missing_hash_is_refused(make_user: Any) -> None:
    """A session without the auth hash is refused."""
    key = logged_in_session(make_user(), **{HASH_SESSION_KEY: ""})
    assert refusal(key).detail == "session auth hash mismatch (password changed)"


def test_secret_key_fallbacks_hash_is_accepted(make_user: Any, settings: Any) -> None:
    """A session made under a rotated-out SECRET_KEY still works while that key is a fallback."""
    user = make_user()
    old_key = settings.SECRET_KEY
    key = session_key_for(user)
    settings.SECRET_KEY = "rotated-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
    settings.SECRET_KEY_FALLBACKS = [old_key]
    result = SessionAuthenticator().authenticate_sync(key)
    assert result is not None
    assert result[0] == user


def test_hash_from_an_unknown_key_is_refused(make_user: Any, settings: Any) -> None:
    """A session hash made with a key that is neither current nor a fallback is refused."""
    user = make_user()
    current_key = settings.SECRET_KEY
    settings.SECRET_KEY = "some-other-secret-key-0123456789abcdefghijklmnopqrstuv"
    stale_hash = user.get_session_auth_hash()
    settings.SECRET_KEY = current_key
    key = logged_in_session(user, **{HASH_SESSION_KEY: stale_hash})
    assert refusal(key).detail == "session auth hash mismatch (password changed)"


def test_backend_no_longer_configured_is_refused(make_user: Any, settings: Any) -> None:
    """A session logged in through a backend removed from AUTHENTICATION_BACKENDS is refused."""
    key = session_key_for(make_user())
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.AllowAllUsersModelBackend"]
    assert refusal(key).detail == "session names an authentication backend that is not configured"


def test_session_without_backend_is_refused(make_user: Any) -> None:
    """A session naming a user but no backend is refused."""
    user = make_user()
    key = logged_in_session(user, **{BACKEND_SESSION_KEY: None})
    assert refusal(key).detail == "session names an authentication backend that is not configured"


def test_deleted_user_is_refused(make_user: Any) -> None:
    """A session whose user was deleted is refused."""
    user = make_user()
    key = logged_in_session(user)
    user.delete()
    assert refusal(key).detail == "session user is deleted or refused by its backend"


def test_inactive_user_is_forbidden(make_user: Any) -> None:
    """ModelBackend hides inactive users; warden tells them from deleted ones and answers 4403."""
    key = session_key_for(make_user(is_active=False))
    with pytest.raises(PermissionDenied) as exc_info:
        SessionAuthenticator().authenticate_sync(key)
    assert (exc_info.value.code, exc_info.value.detail) == (4403, "session user is inactive")


def test_deleted_user_costs_one_more_query(make_user: Any, django_assert_num_queries: Any) -> None:
    """Only a refused user pays for the inactive-or-deleted lookup (session, user, lookup)."""
    user = make_user()
    key = logged_in_session(user)
    user.delete()
    with django_assert_num_queries(3):
        detail = refusal(key).detail
    assert detail == "session user is deleted or refused by its backend"


def test_inactive_user_of_a_permissive_backend_is_forbidden(make_user: Any, settings: Any) -> None:
    """A backend that returns inactive users still cannot open a socket for them: 4403."""
    backend = "django.contrib.auth.backends.AllowAllUsersModelBackend"
    settings.AUTHENTICATION_BACKENDS = [backend]
    key = logged_in_session(make_user(is_active=False), **{BACKEND_SESSION_KEY: backend})
    with pytest.raises(PermissionDenied) as exc_info:
        SessionAuthenticator().authenticate_sync(key)
    assert (exc_info.value.code, exc_info.value.detail) == (4403, "session user is inactive")


def test_cache_session_engine(make_user: Any, settings: Any) -> None:
    """With a non-database engine the session is loaded through its store, expiry from the store."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    user = make_user()
    key = session_key_for(user)
    result = SessionAuthenticator().authenticate_sync(key)
    assert result is not None
    assert (result[0], result[1].session_key, result[1].expires_at is not None) == (user, key, True)


def test_cache_session_engine_forged_key_is_refused(settings: Any) -> None:
    """With the cache engine a key that names no session is refused as well."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    assert refusal("abcdefghijklmnopqrstuvwxyz012345").detail == "session does not exist or has expired"


@pytest.mark.django_db(transaction=True)
async def test_authenticate_uses_the_scope_session(make_user: Any) -> None:
    """The async entry point passes scope['session'] to the blocking part in one thread hop."""
    from channels.db import database_sync_to_async

    user = await database_sync_to_async(make_user)()
    key = await database_sync_to_async(session_key_for)(user)
    session = store(key)
    result = await SessionAuthenticator().authenticate(
        Credential("session", key, "session", ambient=True), {"session": session}
    )
    assert result is not None
    assert (result[0].pk, session._session_cache[SESSION_KEY]) == (user.pk, str(user.pk))


def test_handles_session_scheme_only() -> None:
    """The session authenticator claims 'session' credentials and no others."""
    authenticator = SessionAuthenticator()
    assert (
        authenticator.handles(Credential("session", "k", "session")),
        authenticator.handles(Credential("bearer", "k", "header")),
    ) == (True, False)


def test_backend_users_without_a_session_hash_are_trusted(settings: Any) -> None:
    """Users without get_session_auth_hash skip the hash check, as django.contrib.auth.get_user does."""
    settings.AUTHENTICATION_BACKENDS = [MODEL_BACKEND, PLAIN_BACKEND]
    session = store()
    session.update({SESSION_KEY: "sso-42", BACKEND_SESSION_KEY: PLAIN_BACKEND})
    session.save()
    result = SessionAuthenticator().authenticate_sync(str(session.session_key))
    assert result is not None
    assert (type(result[0]), result[0].pk) == (PlainUser, "sso-42")


def test_unparsable_user_id_of_a_refused_user_is_not_inactive(settings: Any) -> None:
    """When a backend refuses a user id the user table cannot even parse, the session is a plain 4401."""

    settings.AUTHENTICATION_BACKENDS = [MODEL_BACKEND, "tests.test_authenticators_session.RefusingBackend"]
    session = store()
    session.update(
        {
            SESSION_KEY: "not-a-number",
            BACKEND_SESSION_KEY: "tests.test_authenticators_session.RefusingBackend",
        }
    )
    session.save()
    assert refusal(str(session.session_key)).detail == "session user is deleted or refused by its backend"


class RefusingBackend:
    """A backend that knows no user at all."""

    def get_user(self, user_id: str) -> None:
        return None


def test_signed_cookie_session_logged_in(make_user: Any, settings: Any) -> None:
    """With the signed_cookies engine, a session signed by this server is its user."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    user = make_user()
    key = session_key_for(user)
    admitted, _ = SessionAuthenticator().authenticate_sync(key)
    assert admitted == user


def test_signed_cookie_session_with_a_bad_signature_is_refused(make_user: Any, settings: Any) -> None:
    """A tampered signed cookie is a rejection, not an anonymous session."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    key = session_key_for(make_user())
    with pytest.raises(AuthenticationFailed):
        SessionAuthenticator().authenticate_sync(key[:-2] + ("AA" if not key.endswith("AA") else "BB"))


# -- with IDENTITY_CACHE: the session is read every time, its user may come from the cache ---------

USER_CACHE = CacheConfig(ttl=60, max_entries=100)


@pytest.fixture
def user_cache() -> Iterator[CacheConfig]:
    identity_cache.clear()
    yield USER_CACHE
    identity_cache.clear()


def test_a_cached_user_saves_the_user_query(
    make_user: Any, user_cache: CacheConfig, django_assert_num_queries: Any
) -> None:
    """The second session of a user costs one query (its row); the user arrives as a copy."""
    user = make_user()
    authenticator, phone, laptop = SessionAuthenticator(), session_key_for(user), session_key_for(user)
    with django_assert_num_queries(2):
        first = authenticator.authenticate_sync(phone, None, user_cache)
    with django_assert_num_queries(1):
        second = authenticator.authenticate_sync(laptop, None, user_cache)
    assert first is not None
    assert second is not None
    assert (second[0], second[0] is first[0]) == (user, False)


def test_a_deleted_session_is_refused_though_its_user_is_cached(
    make_user: Any, user_cache: CacheConfig
) -> None:
    """Sessions are never cached: a flushed or deleted session is refused on the next handshake."""
    user = make_user()
    key = session_key_for(user)
    SessionAuthenticator().authenticate_sync(key, None, user_cache)
    store(key).delete()
    with pytest.raises(AuthenticationFailed, match="does not exist"):
        SessionAuthenticator().authenticate_sync(key, None, user_cache)


def test_a_purged_user_is_read_again_and_its_new_hash_refuses_old_sessions(
    make_user: Any, user_cache: CacheConfig
) -> None:
    """A password change revokes by user, which purges the cached user: old sessions stop working."""
    user = make_user()
    key = session_key_for(user)
    SessionAuthenticator().authenticate_sync(key, None, user_cache)
    user.set_password("a new password")
    user.save()
    identity_cache.purge(user=str(user.pk))  # what every process's revocation listener does
    with pytest.raises(AuthenticationFailed, match="hash mismatch"):
        SessionAuthenticator().authenticate_sync(key, None, user_cache)


def test_a_purge_during_the_user_query_keeps_the_result_out(make_user: Any, user_cache: CacheConfig) -> None:
    """A user read before a purge is not stored after it (the generation moved on)."""
    user = make_user()
    generation = identity_cache.generation
    identity_cache.purge(user=str(user.pk))
    identity_cache.put_user(MODEL_BACKEND, user, config=user_cache, generation=generation)
    assert identity_cache.get_user(MODEL_BACKEND, user.pk) is None


def test_inactive_users_are_refused_and_never_cached(make_user: Any, user_cache: CacheConfig) -> None:
    """Only users that passed every check are remembered."""
    user = make_user()
    key = session_key_for(user)
    user.is_active = False
    user.save()
    with pytest.raises(PermissionDenied):
        SessionAuthenticator().authenticate_sync(key, None, user_cache)
    assert identity_cache.get_user(MODEL_BACKEND, user.pk) is None


def test_cached_users_expire_and_purges_are_scoped(make_user: Any) -> None:
    """An entry lives TTL seconds; purges of a token or of another authenticator leave users alone."""
    identity_cache.clear()
    user = make_user()
    identity_cache.put_user(MODEL_BACKEND, user, config=USER_CACHE, generation=identity_cache.generation)
    identity_cache.purge(user=str(user.pk), authenticator="simplejwt")
    identity_cache.purge(token_id="drf:1")
    assert identity_cache.get_user(MODEL_BACKEND, user.pk) == user
    short = CacheConfig(ttl=0.001, max_entries=1)
    identity_cache.put_user(MODEL_BACKEND, user, config=short, generation=identity_cache.generation)
    time.sleep(0.01)
    assert identity_cache.get_user(MODEL_BACKEND, user.pk) is None
    other = make_user("other")
    for each in (user, other):  # MAX_ENTRIES 1: the older one goes
        identity_cache.put_user(MODEL_BACKEND, each, config=short, generation=identity_cache.generation)
    assert len(identity_cache._users) == 1
    identity_cache.clear()


# -- signed-cookie sessions: no thread hop when the user is cached ---------------------------------

SIGNED = "django.contrib.sessions.backends.signed_cookies"


def _logged_in_session(user: Any, engine: str) -> str:
    """The key of a session of ``engine`` in which ``user`` is logged in, as ``login()`` leaves it."""
    store = import_module(engine).SessionStore()
    store.update(
        {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: django_settings.AUTHENTICATION_BACKENDS[0],
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
    )
    store.save()
    return str(store.session_key)


def _signed_session(user: Any) -> str:
    return _logged_in_session(user, SIGNED)


@pytest.mark.django_db(transaction=True)
async def test_signed_cookie_session_with_a_cached_user_makes_no_thread_hop(
    make_user: Any, user_cache: CacheConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first handshake loads the user in a hop; the next is judged on the event loop alone."""
    from channels.db import database_sync_to_async

    user = await database_sync_to_async(make_user)()
    credential = Credential(scheme="session", secret=_signed_session(user), transport="session")
    first, _ = await SessionAuthenticator(engine=SIGNED).authenticate(credential, {}, user_cache=user_cache)

    def no_hop(*args: Any) -> Any:
        raise AssertionError("a thread hop was made")

    monkeypatch.setattr(SessionAuthenticator, "authenticate_sync", no_hop)
    second, info = await SessionAuthenticator(engine=SIGNED).authenticate(
        credential, {}, user_cache=user_cache
    )
    assert (first.pk, second.pk, info.session_key) == (user.pk, user.pk, credential.secret)
    assert second is not first


@pytest.mark.django_db(transaction=True)
async def test_signed_cookie_on_the_loop_still_checks_the_auth_hash(
    make_user: Any, user_cache: CacheConfig
) -> None:
    """A session signed before a password change is refused from the cache too (auth hash)."""
    from channels.db import database_sync_to_async

    user = await database_sync_to_async(make_user)()
    stale = _signed_session(user)
    await SessionAuthenticator(engine=SIGNED).authenticate(
        Credential(scheme="session", secret=stale, transport="session"), {}, user_cache=user_cache
    )
    cached = identity_cache.get_user(django_settings.AUTHENTICATION_BACKENDS[0], user.pk)
    cached.password = "pbkdf2_sha256$1$salt$changed"
    identity_cache.put_user(
        django_settings.AUTHENTICATION_BACKENDS[0],
        cached,
        config=user_cache,
        generation=identity_cache.generation,
    )
    with pytest.raises(AuthenticationFailed) as exc_info:
        await SessionAuthenticator(engine=SIGNED).authenticate(
            Credential(scheme="session", secret=stale, transport="session"), {}, user_cache=user_cache
        )
    assert exc_info.value.detail == "session auth hash mismatch (password changed)"


def test_engine_option_reads_the_cookie_with_that_engine(make_user: Any) -> None:
    """With the database engine configured, engine= reads a signed cookie all the same."""
    user = make_user()
    admitted, _ = SessionAuthenticator(engine=SIGNED).authenticate_sync(_signed_session(user))
    assert admitted == user


def test_one_authenticator_judges_like_django_once_its_statements_are_learned(
    make_user: Any, django_assert_num_queries: Any
) -> None:
    """After two sessions teach the statements: valid, expired, flushed and deactivated, as get_user."""
    authenticator = SessionAuthenticator()
    users = [make_user(f"user{n}") for n in range(5)]
    keys = [session_key_for(user) for user in users]
    for key in keys[:2]:
        authenticator.authenticate_sync(key)
    with django_assert_num_queries(2):
        admitted, info = authenticator.authenticate_sync(keys[2])
    assert (admitted.pk, info.session_key) == (users[2].pk, keys[2])
    learned = _LOOKUPS[authenticator].values()
    assert [lookup._statements["default"] is not None for lookup in learned] == [True, True]
    Session.objects.filter(pk=keys[3]).update(expire_date=timezone.now() - timedelta(seconds=1))
    with pytest.raises(AuthenticationFailed, match="session does not exist or has expired"):
        authenticator.authenticate_sync(keys[3])
    with pytest.raises(AuthenticationFailed, match="session does not exist or has expired"):
        authenticator.authenticate_sync("x" * 32)
    users[4].is_active = False
    users[4].save()
    with pytest.raises(PermissionDenied, match="session user is inactive"):
        authenticator.authenticate_sync(keys[4])


# -- sessions in a local-memory cache: read on the loop as well --------------------------------------

CACHE_ENGINE = "django.contrib.sessions.backends.cache"


def _cache_session(user: Any) -> str:
    return _logged_in_session(user, CACHE_ENGINE)


def test_which_engines_are_read_without_io(settings: Any) -> None:
    """Signed cookies and a local-memory session cache: yes; a cache over the network, files, db: no."""
    from channels_warden.authenticators.session import reads_without_io

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "files": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": "unused"},
        "redis": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1",
        },
    }
    settings.SESSION_CACHE_ALIAS = "default"
    assert reads_without_io(SIGNED)
    assert reads_without_io(CACHE_ENGINE)
    assert not reads_without_io("django.contrib.sessions.backends.db")
    assert not reads_without_io("django.contrib.sessions.backends.cached_db")
    for alias in ("files", "redis"):
        settings.SESSION_CACHE_ALIAS = alias
        assert not reads_without_io(CACHE_ENGINE), alias


@pytest.mark.django_db(transaction=True)
async def test_a_local_memory_cache_session_with_a_cached_user_makes_no_thread_hop(
    make_user: Any, user_cache: CacheConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sessions in this process's memory: once the user is cached, judged on the event loop alone."""
    from channels.db import database_sync_to_async

    user = await database_sync_to_async(make_user)()
    key = await database_sync_to_async(_cache_session)(user)
    credential = Credential(scheme="session", secret=key, transport="session")
    authenticator = SessionAuthenticator(engine=CACHE_ENGINE)
    first, _ = await authenticator.authenticate(credential, {}, user_cache=user_cache)

    def no_hop(*args: Any) -> Any:
        raise AssertionError("a thread hop was made")

    monkeypatch.setattr(SessionAuthenticator, "authenticate_sync", no_hop)
    second, info = await authenticator.authenticate(credential, {}, user_cache=user_cache)
    assert (first.pk, second.pk, info.session_key) == (user.pk, user.pk, key)
    import_module(CACHE_ENGINE).SessionStore(key).delete()  # logout elsewhere: the session is gone
    with pytest.raises(AuthenticationFailed) as exc_info:
        await authenticator.authenticate(credential, {}, user_cache=user_cache)
    assert exc_info.value.detail == "session does not exist or has expired"


@pytest.mark.django_db(transaction=True)
async def test_a_session_cache_over_the_network_still_takes_the_hop(
    make_user: Any, user_cache: CacheConfig, settings: Any, tmp_path: Any
) -> None:
    """With the session cache on another backend, the blocking part runs in a worker thread."""
    import threading

    from channels.db import database_sync_to_async

    settings.CACHES = {
        **settings.CACHES,
        "files": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": "/tmp/warden-sessions",
        },
    }
    settings.SESSION_CACHE_ALIAS = "files"
    user = await database_sync_to_async(make_user)()
    key = await database_sync_to_async(_cache_session)(user)
    threads: list[threading.Thread] = []
    original = SessionAuthenticator.authenticate_sync

    def recording(self: Any, *args: Any) -> Any:
        threads.append(threading.current_thread())
        return original(self, *args)

    authenticator = SessionAuthenticator(engine=CACHE_ENGINE)
    credential = Credential(scheme="session", secret=key, transport="session")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SessionAuthenticator, "authenticate_sync", recording)
        for _ in range(2):
            admitted, _ = await authenticator.authenticate(credential, {}, user_cache=user_cache)
            assert admitted.pk == user.pk
    assert len(threads) == 2
    assert all(thread is not threading.main_thread() for thread in threads)
