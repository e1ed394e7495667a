"""The hostile-input catalog as data: what a client sends, and what warden must answer.

Every case is a request written byte for byte (:class:`Request`) and the outcome the close-code
table promises (:class:`Refused`, :class:`Admitted`, :class:`Denied` or :class:`ServerOrWarden`).
Valid credentials for alice are minted per test (:class:`Creds`); malformed JWTs are signed with the
real key, so that only the malformation can be the reason for a refusal.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .raw import TIMEOUT, RawClient, RawOutcome, handshake_request

#: close code -> (reason, reconnect), from DESIGN.md's table.
TABLE = {
    4400: ("bad_request", "never"),
    4401: ("unauthenticated", "refresh"),
    4403: ("forbidden", "never"),
    4404: ("not_found", "never"),
}


def frame(code: int) -> dict[str, Any]:
    reason, reconnect = TABLE[code]
    return {"type": "warden.disconnect", "code": code, "reason": reason, "reconnect": reconnect}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign_hs256(header: bytes, payload: bytes, key: str) -> str:
    """A compact JWS over raw header and payload bytes (PyJWT refuses to encode some of these)."""
    signing_input = f"{_b64(header)}.{_b64(payload)}"
    signature = hmac.digest(key.encode(), signing_input.encode(), hashlib.sha256)
    return f"{signing_input}.{_b64(signature)}"


@dataclass(frozen=True)
class Creds:
    """Alice's valid credentials and the claims SimpleJWT signs for her."""

    drf: str
    session: str
    jwt: str
    claims: dict[str, Any]
    key: str
    pk: int
    port: int
    now: int = field(default_factory=lambda: int(time.time()))

    def jwt_with(self, **claims: Any) -> str:
        """Alice's access token with ``claims`` laid over the valid ones, signed with the real key."""
        payload = json.dumps({**self.claims, **claims}).encode()
        return sign_hs256(b'{"alg":"HS256","typ":"JWT"}', payload, self.key)

    def jwt_nested_header(self) -> str:
        """A header nested deeper than Python's JSON parser recurses."""
        return sign_hs256(b"[" * 1500 + b"]" * 1500, json.dumps(self.claims).encode(), self.key)


@dataclass(frozen=True)
class Request:
    """One upgrade request. ``host=None`` sends the server's own ``127.0.0.1:<port>``."""

    path: str = "/ws/echo/"
    lines: tuple[bytes, ...] = ()
    host: bytes | None = None
    omit_host: bool = False
    origin: bytes | None = b"http://testserver"


@dataclass(frozen=True)
class Refused:
    """Warden accepted, sent its frame and closed with ``code``; the consumer never answered."""

    code: int


@dataclass(frozen=True)
class Admitted:
    """The consumer answered ``whoami`` as ``user``."""

    user: str = "alice"


@dataclass(frozen=True)
class Denied:
    """Deny mode: HTTP ``status`` with the frame as body where the server can (uvicorn), else 403."""

    status: int
    code: int


@dataclass(frozen=True)
class ServerOrWarden:
    """The server may refuse the request itself before the application runs; otherwise warden's ``code``."""

    code: int


Expectation = Refused | Admitted | Denied | ServerOrWarden


@dataclass(frozen=True)
class Case:
    """A named request builder and its expected outcome; ``secret`` must never be echoed or logged.

    ``server_may_quote`` marks a request that a server refuses itself, before any application runs,
    with an error body quoting the offending header (uvicorn 0.55 with websockets 17 does so for a
    ``Sec-WebSocket-Protocol`` it cannot parse). Warden cannot prevent that; the test records it.
    """

    id: str
    build: Callable[[Creds], Request]
    expect: Expectation
    secret: Callable[[Creds], str] | None = None
    in_path: bool = False
    server_may_quote: bool = False


class CatalogClient(RawClient):
    """:class:`RawClient` with full control of the request line and ``Host``."""

    async def send(self, request: Request) -> tuple[RawOutcome, bytes]:
        """Send ``request``; return what came back and the raw bytes of the response head."""
        lines = list(request.lines)
        if request.origin is not None:
            lines.append(b"Origin: " + request.origin)
        host = request.host or f"127.0.0.1:{self.server.port}".encode()
        data = handshake_request(request.path.encode("latin-1"), host, lines)
        if request.omit_host:
            data = data.replace(b"\r\nHost: " + host, b"", 1)
        reader, writer = await asyncio.open_connection("127.0.0.1", self.server.port)
        try:
            writer.write(data)
            await writer.drain()
            outcome = await asyncio.wait_for(self._read_answer(reader, writer), TIMEOUT)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        echoed = json.dumps(outcome.headers).encode() + outcome.body
        return outcome, echoed


# -- how each transport carries a bearer token ---------------------------------------------------


def via_header(token: str) -> Request:
    return Request(lines=(f"Authorization: Bearer {token}".encode(),))


def via_cookie(token: str) -> Request:
    return Request(lines=(f"Cookie: access_token={token}".encode(),))


def via_subprotocol(token: str) -> Request:
    return Request(lines=(f"Sec-WebSocket-Protocol: warden, bearer.{token}".encode(),))


def via_query(token: str) -> Request:
    return Request(path=f"/query/ws/echo/?token={token}")


TRANSPORTS: dict[str, Callable[[str], Request]] = {
    "header": via_header,
    "cookie": via_cookie,
    "subprotocol": via_subprotocol,
    "query": via_query,
}

# -- JWT claims: every JSON type for every claim ----------------------------------------------------

#: claim -> JSON type -> (value from the creds, expected). Values of the right type and range are
#: admitted as alice; every other one is 4401, never a 4500.
CLAIMS: dict[str, dict[str, tuple[Callable[[Creds], Any], Expectation]]] = {
    claim: {
        "string": (lambda c: str(c.now + 300), Refused(4401)),
        "number": (lambda c: c.now + 300, Admitted()),
        "float": (lambda c: c.now + 300.5, Admitted()),
        "huge_int": (lambda c: 10**30, Refused(4401)),
        "bool": (lambda c: True, Refused(4401)),
        "null": (lambda c: None, Refused(4401)),
        "list": (lambda c: [c.now + 300], Refused(4401)),
        "object": (lambda c: {"t": c.now + 300}, Refused(4401)),
    }
    for claim in ("exp",)
}
for _claim in ("nbf", "iat"):
    CLAIMS[_claim] = {
        "string": (lambda c: str(c.now - 10), Refused(4401)),
        "number": (lambda c: c.now - 10, Admitted()),
        "float": (lambda c: c.now - 10.5, Admitted()),
        "huge_int": (lambda c: 10**30, Refused(4401)),
        "bool": (lambda c: True, Refused(4401)),
        "null": (lambda c: None, Refused(4401)),
        "list": (lambda c: [c.now - 10], Refused(4401)),
        "object": (lambda c: {"t": c.now - 10}, Refused(4401)),
    }
_NOT_A_STRING: dict[str, tuple[Callable[[Creds], Any], Expectation]] = {
    "number": (lambda c: 1, Refused(4401)),
    "float": (lambda c: 1.5, Refused(4401)),
    "huge_int": (lambda c: 10**30, Refused(4401)),
    "bool": (lambda c: True, Refused(4401)),
    "null": (lambda c: None, Refused(4401)),
    "list": (lambda c: [1], Refused(4401)),
    "object": (lambda c: {"a": 1}, Refused(4401)),
}
CLAIMS["jti"] = {"string": (lambda c: "a-fresh-id", Admitted()), **_NOT_A_STRING}
CLAIMS["token_type"] = {"string": (lambda c: "refresh", Refused(4401)), **_NOT_A_STRING}
CLAIMS["aud"] = {"string": (lambda c: "another-audience", Refused(4401)), **_NOT_A_STRING}
CLAIMS["iss"] = {"string": (lambda c: "https://evil.example", Refused(4401)), **_NOT_A_STRING}
CLAIMS["user_id"] = {
    **_NOT_A_STRING,
    "string": (lambda c: str(c.pk), Admitted()),
    "number": (lambda c: c.pk, Admitted()),
}


def _claim_case(claim: str, kind: str, value: Callable[[Creds], Any], expect: Expectation) -> Case:
    return Case(
        f"{claim}-{kind}",
        lambda c: via_subprotocol(c.jwt_with(**{claim: value(c)})),
        expect,
    )


CLAIM_CASES = [
    _claim_case(claim, kind, value, expect)
    for claim, kinds in CLAIMS.items()
    for kind, (value, expect) in kinds.items()
]

# -- each transport, each malformed token -------------------------------------------------------------

_MALFORMED_TOKENS: dict[str, Callable[[Creds], str]] = {
    "exp-numeric-string": lambda c: c.jwt_with(exp=str(c.now + 300)),
    "exp-beyond-9999": lambda c: c.jwt_with(exp=10**13),
    "header-nested-1500-deep": lambda c: c.jwt_nested_header(),
}

TRANSPORT_CASES = [
    Case(f"{transport}-{name}", lambda c, t=carry, m=token: t(m(c)), Refused(4401))
    for transport, carry in TRANSPORTS.items()
    for name, token in _MALFORMED_TOKENS.items()
]

# -- duplicate credential cookies -------------------------------------------------------------------

COOKIE_CASES = [
    Case(
        "session-twice-in-one-field",
        lambda c: Request(lines=(f"Cookie: sessionid={c.session}; sessionid={c.session[::-1]}".encode(),)),
        Refused(4400),
        secret=lambda c: c.session,
    ),
    Case(
        "session-in-two-fields",
        lambda c: Request(
            lines=(f"Cookie: sessionid={c.session[::-1]}".encode(), f"Cookie: sessionid={c.session}".encode())
        ),
        Refused(4400),
        secret=lambda c: c.session,
    ),
    Case(
        "access-token-twice",
        lambda c: Request(
            lines=(f"Cookie: access_token={c.jwt}; theme=dark; access_token={c.jwt}".encode(),)
        ),
        Refused(4400),
        secret=lambda c: c.jwt,
    ),
    Case(
        "session-once-among-other-fields",
        lambda c: Request(lines=(b"Cookie: theme=dark", f"Cookie: sessionid={c.session}".encode())),
        Admitted(),
        secret=lambda c: c.session,
    ),
]

# -- subprotocols read from the raw header ------------------------------------------------------------

SUBPROTOCOL_CASES = [
    Case(
        "percent-encoded-comma",
        lambda c: Request(lines=(f"Sec-WebSocket-Protocol: warden%2Cbearer.{c.jwt}".encode(),)),
        Refused(4400),
        secret=lambda c: c.jwt,
    ),
    Case(
        "percent-encoded-marker",
        lambda c: Request(lines=(f"Sec-WebSocket-Protocol: %77arden, bearer.{c.jwt}".encode(),)),
        Refused(4400),
        secret=lambda c: c.jwt,
    ),
    Case(
        "empty-entry",
        lambda c: Request(lines=(f"Sec-WebSocket-Protocol: warden, , bearer.{c.jwt}".encode(),)),
        Refused(4400),
        secret=lambda c: c.jwt,
    ),
    Case(
        "separator-in-entry",
        lambda c: Request(lines=(f"Sec-WebSocket-Protocol: warden, bearer.{c.jwt}/x".encode(),)),
        ServerOrWarden(4400),
        secret=lambda c: c.jwt,
        server_may_quote=True,
    ),
    Case(
        "split-over-two-fields",
        lambda c: Request(
            lines=(b"Sec-WebSocket-Protocol: warden", f"Sec-WebSocket-Protocol: bearer.{c.jwt}".encode())
        ),
        Admitted(),
        secret=lambda c: c.jwt,
    ),
    Case(
        "marker-twice",
        lambda c: Request(lines=(f"Sec-WebSocket-Protocol: warden, warden, bearer.{c.jwt}".encode(),)),
        ServerOrWarden(4400),
        secret=lambda c: c.jwt,
    ),
]

# -- paths no route matches ----------------------------------------------------------------------------

#: A 40-hex string shaped like a DRF token, and a JWT-shaped one; neither is anyone's credential.
PATH_DRF = "9f" * 20


def _path_jwt(c: Creds) -> str:
    return c.jwt_with(jti="in-the-path")


PATH_CASES = [
    Case("unknown", lambda c: Request(path="/ws/nowhere/"), Refused(4404)),
    Case(
        "unknown-with-valid-token",
        lambda c: Request(path="/ws/nowhere/", lines=via_header(c.jwt).lines),
        Refused(4404),
        secret=lambda c: c.jwt,
    ),
    Case(
        "jwt-in-path",
        lambda c: Request(path=f"/ws/{_path_jwt(c)}/"),
        Refused(4404),
        secret=_path_jwt,
        in_path=True,
    ),
    Case(
        "drf-token-in-path",
        lambda c: Request(path=f"/ws/echo/{PATH_DRF}/"),
        Refused(4404),
        secret=lambda c: PATH_DRF,
        in_path=True,
    ),
    Case(
        "token-in-query-of-unknown-path",
        lambda c: Request(path=f"/ws/nowhere/?token={c.drf}"),
        Refused(4404),
        secret=lambda c: c.drf,
    ),
    Case("crlf-in-path", lambda c: Request(path="/ws/%0d%0aInjected:%20yes/"), ServerOrWarden(4404)),
    Case("unknown-in-deny-mode", lambda c: Request(path="/deny/ws/nowhere/"), Denied(404, 4404)),
    Case("root", lambda c: Request(path="/"), Refused(4404)),
]

# -- Origin scheme variants with a session cookie ---------------------------------------------------------


def _session_from(origin: Callable[[Creds], bytes], *lines: bytes) -> Callable[[Creds], Request]:
    return lambda c: Request(lines=(f"Cookie: sessionid={c.session}".encode(), *lines), origin=origin(c))


ORIGIN_CASES = [
    Case("same-origin-http", _session_from(lambda c: f"http://127.0.0.1:{c.port}".encode()), Admitted()),
    Case("same-origin-ws", _session_from(lambda c: f"ws://127.0.0.1:{c.port}".encode()), Admitted()),
    Case(
        "https-on-plain-server",
        _session_from(lambda c: f"https://127.0.0.1:{c.port}".encode()),
        Refused(4403),
    ),
    Case("wss-on-plain-server", _session_from(lambda c: f"wss://127.0.0.1:{c.port}".encode()), Refused(4403)),
    Case("other-port", _session_from(lambda c: f"http://127.0.0.1:{c.port + 1}".encode()), Refused(4403)),
]

# -- Host: malformed ones are refused even under ALLOWED_HOSTS = ["*"] --------------------------------------

HOST_CASES = [
    Case(
        "userinfo-in-host",
        lambda c: Request(lines=via_header(c.jwt).lines, host=b"evil@127.0.0.1"),
        Refused(4400),
        secret=lambda c: c.jwt,
    ),
    Case(
        "path-in-host",
        lambda c: Request(lines=via_header(c.jwt).lines, host=b"127.0.0.1/x"),
        Refused(4400),
        secret=lambda c: c.jwt,
    ),
    Case(
        "two-hosts",
        lambda c: Request(lines=(*via_header(c.jwt).lines, b"Host: evil.example"), host=None),
        ServerOrWarden(4400),
        secret=lambda c: c.jwt,
    ),
]

#: On a server whose ALLOWED_HOSTS is 127.0.0.1 and localhost (the test servers' own names).
STRICT_HOST_CASES = [
    Case("listed-host", lambda c: Request(lines=via_header(c.jwt).lines), Admitted(), secret=lambda c: c.jwt),
    Case(
        "localhost",
        lambda c: Request(lines=via_header(c.jwt).lines, host=f"localhost:{c.port}".encode()),
        Admitted(),
        secret=lambda c: c.jwt,
    ),
    Case(
        "unlisted-host",
        lambda c: Request(lines=via_header(c.jwt).lines, host=b"evil.example"),
        Refused(4400),
        secret=lambda c: c.jwt,
    ),
    Case(
        "suffix-of-listed-host",
        lambda c: Request(lines=via_header(c.jwt).lines, host=b"127.0.0.1.evil.example"),
        Refused(4400),
        secret=lambda c: c.jwt,
    ),
    Case(
        "dns-rebinding-page",
        lambda c: Request(
            lines=(f"Cookie: sessionid={c.session}".encode(),),
            host=b"evil.example",
            origin=b"http://evil.example",
        ),
        Refused(4400),
        secret=lambda c: c.session,
    ),
    Case(
        "no-host",
        lambda c: Request(lines=via_header(c.jwt).lines, omit_host=True),
        ServerOrWarden(4400),
        secret=lambda c: c.jwt,
    ),
]
