"""manage.py warden_explain against the test project's routes: each step, each verdict, no secret."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from rest_framework_simplejwt.tokens import RefreshToken

from channels_warden.testing import credential_for

pytestmark = pytest.mark.usefixtures("transactional_db")


def explain(*args: str, stdin: str | None = None) -> list[str]:
    """The command's output lines, with the step column's padding squeezed to one space."""
    out = io.StringIO()
    options: dict[str, Any] = {"stdout": out}
    if stdin is not None:
        options["stdin"] = io.StringIO(stdin)
    call_command("warden_explain", *args, **options)
    return [" ".join(line.split()) for line in out.getvalue().splitlines()]


def steps(lines: list[str], step: str) -> list[str]:
    return [line[len(step) + 1 :] for line in lines if line.startswith(f"{step} ")]


def test_admission_names_transport_authenticator_and_user(alice: Any) -> None:
    """A DRF token in the Authorization header: found by 'header', judged by drf_token, admitted as alice."""
    token = credential_for(alice, "drf")
    lines = explain("ws://testserver/ws/echo/", "-H", f"Authorization: Token {token}")
    assert steps(lines, "transport") == [
        "session (SessionCookieTransport): nothing",
        "header (AuthorizationHeaderTransport): token credential [40 characters]",
        "subprotocol (SubprotocolTransport): nothing",
        "cookie (CookieTransport): nothing",
    ]
    assert steps(lines, "authenticator") == [
        "session: does not judge 'token' credentials",
        f"drf_token: token from header: valid for user 'alice' (pk {alice.pk})",
    ]
    assert (steps(lines, "result"), token in "\n".join(lines)) == (["admitted"], False)


def test_route_and_policy_of_a_guarded_route(alice: Any) -> None:
    """The route through the project's routers, and the guard that decides: IsStaff refuses alice (4403)."""
    token = credential_for(alice, "drf")
    lines = explain("ws://testserver/ws/staff/", "-H", f"Authorization: Token {token}")
    assert steps(lines, "route") == [
        "ProtocolTypeRouter['websocket'] > URLRouter '' > SessionScopeMiddleware > "
        "WardenMiddleware > URLRouter 'ws/staff/' > guard() > tests.project.consumers.EchoConsumer"
    ]
    assert steps(lines, "policy") == [
        "guard(): allow_anonymous=False, first_message=False, permissions=[IsStaff]"
    ]
    assert steps(lines, "refused") == ["4403 forbidden; check permission IsStaff: IsStaff refused the user"]
    assert steps(lines, "result") == ["close 4403 forbidden"]


def test_origin_refusal_names_the_origin_and_the_list() -> None:
    """An Origin off the allow-list: 4403 with the hint naming both, and what the client gets."""
    lines = explain("ws://testserver/ws/echo/", "--origin", "http://localhost:5173")
    assert steps(lines, "hint") == [
        "the Origin 'http://localhost:5173' is not in WARDEN['ALLOWED_ORIGINS'] = ['http://testserver', "
        "'http://localhost:3000']; add it (scheme://host[:port], exactly as the browser sends it) if that "
        "front end is yours"
    ]
    assert steps(lines, "client gets") == [
        'accept, then the frame {"type": "warden.disconnect", "code": 4403, "reason": "forbidden", '
        '"reconnect": "never"}, then close 4403'
    ]


def test_refresh_token_refusal_shows_its_claims_not_the_token(alice: Any) -> None:
    """A refresh token as the access token: its type claim is shown, the token never, and the hint."""
    refresh = str(RefreshToken.for_user(alice))
    lines = explain(
        "ws://testserver/ws/echo/", "--subprotocol", "warden", "--subprotocol", f"bearer.{refresh}"
    )
    text = "\n".join(lines)
    assert (refresh in text, refresh.split(".")[2] in text) == (False, False)
    assert steps(lines, "refused") == [
        "4401 unauthenticated; check authenticator simplejwt: JWT refused by SimpleJWT: Token has wrong type"
    ]
    assert steps(lines, "hint")[0].startswith("the JWT is a refresh token (token_type 'refresh')")
    assert "token_type='refresh'" in steps(lines, "transport")[2]


def test_unknown_path_lists_the_routes(alice: Any) -> None:
    """A path no route matches: 4404 and the patterns of the router where matching stopped."""
    token = credential_for(alice, "drf")
    lines = explain("ws://testserver/ws/nowhere/", "-H", f"Authorization: Token {token}")
    route = steps(lines, "route")[1]
    prefix = "no route below warden matches; the routes are ["
    assert route.startswith(prefix)
    listed = route.removeprefix(prefix).rstrip("]").split(", ")
    assert listed[:8] == [
        "'ws/echo/'",
        "'ws/sync/'",
        "'ws/raw/'",
        "'ws/public/'",
        "'ws/staff/'",
        "'ws/perm/'",
        "'ws/room/<slug:room>/'",
        "'ws/first/'",
    ]
    assert steps(lines, "result") == ["close 4404 not_found"]


def test_a_profile_prefix_uses_that_warden_s_settings(alice: Any) -> None:
    """/deny/... is decided by the deny profile's middleware: the client gets an HTTP 401."""
    lines = explain("ws://testserver/deny/ws/echo/")
    assert steps(lines, "client gets") == [
        "HTTP 401 (deny mode; a plain 403 on a server without the websocket.http.response extension), "
        'WWW-Authenticate: Bearer realm="websocket", the disconnect frame as its body'
    ]


def test_raw_request_on_stdin(alice: Any) -> None:
    """A pasted raw request: its session cookie is found, masked, and admits alice."""
    key = credential_for(alice, "session")
    raw = (
        "GET /ws/echo/ HTTP/1.1\r\nHost: testserver\r\nOrigin: http://testserver\r\n"
        f"Cookie: sessionid={key}\r\n\r\n"
    )
    lines = explain("-", stdin=raw)
    assert (lines[2], steps(lines, "result"), key in "\n".join(lines)) == (
        "Cookie: sessionid=[32 characters]",
        ["admitted"],
        False,
    )


def test_copy_as_curl_on_stdin(alice: Any) -> None:
    """A browser's "copy as cURL" with a raw JWT subprotocol: 4401 and the compatibility hint."""
    jwt = credential_for(alice, "jwt")
    curl = (
        "curl 'ws://testserver/ws/echo/' \\\n  -H 'Origin: http://localhost:3000' \\\n"
        f"  -H 'Sec-WebSocket-Protocol: {jwt}' \\\n  -H 'Sec-WebSocket-Version: 13' \\\n  --compressed"
    )
    lines = explain("-", stdin=curl)
    text = "\n".join(lines)
    assert (jwt in text, steps(lines, "result")) == (False, ["close 4401 unauthenticated"])
    assert "RawJWTSubprotocolTransport is in WARDEN['EXTRA_TRANSPORTS']" in steps(lines, "hint")[0]


@pytest.mark.parametrize(
    ("kind", "args"),
    [
        ("drf", ("-H", "Authorization: Token {secret}")),
        ("jwt", ("--subprotocol", "warden", "--subprotocol", "bearer.{secret}")),
        ("session", ("--cookie", "sessionid={secret}")),
        ("knox", ("-H", "Authorization: Token {secret}")),
        ("drf", ("--cookie", "access_token={secret}")),
    ],
)
def test_no_credential_kind_is_ever_printed(alice: Any, kind: Any, args: tuple[str, ...]) -> None:
    """Whatever the credential and wherever it travels, the output never holds it (nor half of it)."""
    secret = credential_for(alice, kind)
    path = "/knox/ws/echo/" if kind == "knox" else "/ws/echo/"
    lines = explain(f"ws://testserver{path}", *(arg.format(secret=secret) for arg in args))
    text = "\n".join(lines)
    assert (secret in text, secret[len(secret) // 2 :] in text, len(steps(lines, "result"))) == (
        False,
        False,
        1,
    )


def test_a_bad_description_is_a_command_error() -> None:
    """A raw request without a request line says what it expected."""
    with pytest.raises(CommandError, match=r"^a raw WebSocket handshake starts with 'GET <path> HTTP/1.1'$"):
        explain("-", stdin="Host: testserver\n\n")


def test_an_authenticator_that_raises_is_a_4500_without_its_message(
    alice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database error while deciding: 4500 as on a real server, naming only the error's type."""
    from django.db import OperationalError

    from channels_warden.authenticators import DRFTokenAuthenticator

    token = credential_for(alice, "drf")

    async def broken(self: Any, credential: Any, scope: Any) -> None:
        raise OperationalError(f"no such row for {credential.secret}")

    monkeypatch.setattr(DRFTokenAuthenticator, "authenticate", broken)
    lines = explain("ws://testserver/ws/echo/", "-H", f"Authorization: Token {token}")
    assert steps(lines, "error") == [
        "OperationalError raised while deciding; the server fails closed and logs the traceback"
    ]
    assert steps(lines, "result") == ["close 4500 internal"]
    assert token not in "\n".join(lines)
