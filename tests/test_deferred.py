"""First-message identities reach every copy of the scope through a shared proxy."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User

from channels_warden.deferred import DeferredIdentity, resolve_identity, unwrap
from channels_warden.identity import AuthInfo


def test_a_router_copy_sees_the_user_set_after_it_was_made() -> None:
    """URLRouter copies the scope before the auth frame; the copy still sees the user afterwards."""
    scope = {"user": DeferredIdentity(AnonymousUser()), "auth": DeferredIdentity(AuthInfo.anonymous())}
    routed = dict(scope, url_route={"kwargs": {}})
    alice = User(pk=1, username="alice")
    resolve_identity((scope,), alice, AuthInfo(user=alice, authenticator="simplejwt"))
    assert (routed["user"].username, routed["user"].is_authenticated, routed["auth"].authenticator) == (
        "alice",
        True,
        "simplejwt",
    )


def test_the_proxy_passes_for_what_it_stands_for() -> None:
    """isinstance sees the object behind the proxy, before and after it is resolved."""
    user = DeferredIdentity(AnonymousUser())
    before = isinstance(user, AnonymousUser)
    user.resolve(User(pk=1))
    assert (before, isinstance(user, User), unwrap(user).pk, unwrap("plain")) == (True, True, 1, "plain")
