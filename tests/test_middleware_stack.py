"""WardenMiddlewareStack: one copy of a websocket scope, with cookies and session as Channels has them.

For a websocket, the stack's :class:`~channels_warden.session_scope.SessionScopeMiddleware` makes
the connection's own copy of the scope (``cookies`` and ``session`` added) and warden redacts that
copy in place: one dict per socket where Channels' cookie and session middleware, followed by
warden's redaction, made three. These tests hold the scope the server (or an outer router) passed
in unchanged, the application's scope redacted, and ``cookies``/``session`` equal to what Channels'
own middleware builds (channels 4.2.0 and 4.3.2).
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


async def test_the_stack_copies_a_websocket_scope_once(make_user: Any) -> None:
    """The application gets the dict the stack made for this connection: warden did not copy it."""
    user = await sync_to_async(make_user)()
    token = jwt_for(user)
    seen: list[dict[str, Any]] = []
    inner = RecordingApp()
    stack = WardenMiddlewareStack(inner, settings=SETTINGS)
    warden = stack.inner
    assert isinstance(warden, WardenMiddleware)

    async def spy(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope)  # the dict the stack hands to warden
        await warden(scope, receive, send)

    stack.inner = spy
    scope = _scope(token)
    sent = SentMessages()
    await stack(scope, queue_receive({"type": "websocket.connect"}, {"type": "websocket.disconnect"}), sent)
    assert seen[0] is not scope
    assert inner.scope is seen[0]
    assert inner.send is not None


@pytest.mark.parametrize(
    "cookie_headers",
    [
        [],
        [b"theme=dark"],
        [b"sessionid=abc; theme=dark", b"theme=light"],  # Channels reads the first header only
        [b'a="quoted"; b=2; =empty; c'],
    ],
)
async def test_cookies_and_session_are_what_channels_builds(cookie_headers: list[bytes]) -> None:
    """``scope["cookies"]`` and the session's key match Channels' CookieMiddleware + SessionMiddleware."""
    from channels.sessions import SessionMiddlewareStack

    def scope_with_cookies() -> dict[str, Any]:
        headers = [(b"host", b"testserver"), *((b"cookie", value) for value in cookie_headers)]
        return {"type": "websocket", "path": "/ws/", "headers": headers, "subprotocols": []}

    async def capture(application: Any) -> dict[str, Any]:
        captured: dict[str, Any] = {}

        async def app(scope: Any, receive: Any, send: Any) -> None:
            captured.update(scope)

        await application(app)(scope_with_cookies(), queue_receive(), SentMessages())
        return captured

    from channels_warden.session_scope import SessionScopeMiddleware

    ours, theirs = await capture(SessionScopeMiddleware), await capture(SessionMiddlewareStack)
    assert ours["cookies"] == theirs["cookies"]
    assert type(ours["session"]) is type(theirs["session"])
    assert ours["session"].session_key == theirs["session"].session_key
    assert set(ours) == set(theirs)


async def test_an_outer_session_is_passed_through() -> None:
    """A scope that already has a session (an outer session middleware) keeps that very object."""
    from channels_warden.session_scope import SessionScopeMiddleware

    outer_session = object()
    captured: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        captured.update(scope)

    scope = {"type": "websocket", "path": "/ws/", "headers": [], "subprotocols": [], "session": outer_session}
    await SessionScopeMiddleware(app)(scope, queue_receive(), SentMessages())
    assert captured["session"] is outer_session


async def test_http_scopes_go_through_channels_session_middleware() -> None:
    """Other scope types keep Channels' middleware, whose send wrapper saves a modified session."""
    from channels.sessions import InstanceSessionWrapper

    from channels_warden.session_scope import SessionScopeMiddleware

    sends: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        sends.append(send)

    scope = {"type": "http", "path": "/", "headers": [], "method": "GET"}
    await SessionScopeMiddleware(app)(scope, queue_receive(), SentMessages())
    assert isinstance(getattr(sends[0], "__self__", None), InstanceSessionWrapper)


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
