"""WardenMiddlewareStack redacts Channels' per-connection copy of the scope in place.

Channels' ``SessionMiddleware`` gives the next application a dict of its own for each connection
(``InstanceSessionWrapper.scope = dict(scope)``, seen in channels 4.2.0 and 4.3.2), so warden under
it does not copy the scope again (one dict less per socket). These tests hold what that relies on:
the scope the server (or an outer router) passed in is never changed, and the application still
gets a scope without the credential. If a Channels release stops copying, the first test fails.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from channels_warden import WardenMiddleware, WardenMiddlewareStack
from tests.inprocess import RecordingApp, SentMessages, jwt_for, queue_receive

pytestmark = [pytest.mark.usefixtures("stop_revocation_listener"), pytest.mark.django_db(transaction=True)]

#: The session cookie stays in the application's scope by design (``scope["session"]`` needs it);
#: a JWT in ``Authorization`` is a credential warden removes, so redaction shows.
SETTINGS = {
    "AUTHENTICATORS": [
        {"CLASS": "channels_warden.authenticators.SimpleJWTAuthenticator", "OPTIONS": {"mode": "stateless"}}
    ]
}


def _scope(token: str) -> dict[str, Any]:
    return {
        "type": "websocket",
        "path": "/ws/",
        "raw_path": b"/ws/",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"origin", b"http://testserver"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"cookie", b"theme=dark"),
        ],
        "subprotocols": [],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def _connect(application: Any, scope: dict[str, Any]) -> SentMessages:
    sent = SentMessages()
    await application(
        scope, queue_receive({"type": "websocket.connect"}, {"type": "websocket.disconnect"}), sent
    )
    return sent


async def test_the_callers_scope_is_untouched_and_the_app_sees_no_session_cookie(make_user: Any) -> None:
    user = await sync_to_async(make_user)()
    token = jwt_for(user)
    scope = _scope(token)
    before = copy.deepcopy(scope)
    inner = RecordingApp()
    sent = await _connect(WardenMiddlewareStack(inner, settings=SETTINGS), scope)
    assert sent[0]["type"] == "websocket.accept"
    assert scope == before  # nothing added, nothing removed, the header list as it was
    assert inner.scope is not scope
    assert str(inner.scope["user"].pk) == str(user.pk)
    assert [name for name, _ in inner.scope["headers"]] == [b"host", b"origin", b"cookie"]
    assert inner.scope["cookies"] == {"theme": "dark"}
    assert "session" in inner.scope


async def test_the_stack_does_not_copy_what_the_session_middleware_copied(make_user: Any) -> None:
    """The application gets the session middleware's own dict, redacted: no second copy."""
    user = await sync_to_async(make_user)()
    token = jwt_for(user)
    seen: list[dict[str, Any]] = []
    inner = RecordingApp()
    stack = WardenMiddlewareStack(inner, settings=SETTINGS)
    session_middleware = stack.inner  # CookieMiddleware -> SessionMiddleware -> WardenMiddleware
    warden = session_middleware.inner
    assert isinstance(warden, WardenMiddleware)

    async def spy(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope)  # the dict SessionMiddleware hands to warden
        await warden(scope, receive, send)

    session_middleware.inner = spy
    await _connect(stack, _scope(token))
    assert inner.scope is seen[0]


async def test_plain_middleware_still_copies(make_user: Any) -> None:
    """Outside the stack, the scope is the caller's: warden copies it before redacting."""
    user = await sync_to_async(make_user)()
    token = jwt_for(user)
    scope = _scope(token)
    before = copy.deepcopy(scope)
    inner = RecordingApp()
    from channels.sessions import CookieMiddleware, SessionMiddleware

    # Cookie and session middleware outside a plain WardenMiddleware: warden may not assume the
    # scope is its own, so the session middleware's dict is copied as before.
    seen: list[dict[str, Any]] = []
    warden = WardenMiddleware(inner, settings=SETTINGS)

    async def spy(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope)
        await warden(scope, receive, send)

    await _connect(CookieMiddleware(SessionMiddleware(spy)), scope)
    assert scope == before
    assert inner.scope is not seen[0]
    assert any(name == b"authorization" for name, _ in seen[0]["headers"])
    assert not any(name == b"authorization" for name, _ in inner.scope["headers"])
