"""The hostile-input catalog, on uvicorn and daphne: every case ends the way the close-code table says.

The cases live in :mod:`tests.e2e.hostile_table`: malformed JWT claims of every JSON type, each
transport with a malformed token, credential cookies named twice, subprotocols a server could read
two ways, paths no route matches, Origin scheme variants and bad ``Host`` headers. Each one is sent
byte for byte and must be refused with its documented code (or admitted as alice where the input is
valid). Where a server refuses a request itself before the application runs, the test asserts the
promise instead of the server's status: never admitted, no 5xx, the credential never echoed, and the
server still serves the next client. The last test reads the server log this suite produced: no
``Traceback``, and none of the credentials it sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from importlib.metadata import version
from typing import Any

import pytest

from .conftest import LiveServer, start_server
from .helpers import access_claims, create_user, mint, signing_key
from .hostile_table import (
    CLAIM_CASES,
    COOKIE_CASES,
    HOST_CASES,
    ORIGIN_CASES,
    PATH_CASES,
    STRICT_HOST_CASES,
    SUBPROTOCOL_CASES,
    TRANSPORT_CASES,
    Admitted,
    Case,
    CatalogClient,
    Creds,
    Denied,
    Refused,
    Request,
    frame,
)

SERVER_PACKAGES = {"uvicorn": ("uvicorn", "websockets"), "daphne": ("daphne", "autobahn")}
#: Secrets each server was sent by this module: (secret, whether it travelled in the path).
SENT: dict[str, list[tuple[str, bool]]] = {}
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
#: daphne's access log is written straight to stdout, not through ``logging``, so no filter can
#: mask a path there: a credential pasted into a path shows up in those lines (docs/security.md).
_DAPHNE_ACCESS = re.compile(r'"WS(?:CONNECTING|CONNECT|REJECT|DISCONNECT) ')


@pytest.fixture(scope="module")
def log_start(server: LiveServer) -> int:
    """Where this module's part of the (session-wide) server log begins."""
    return len(server.log())


@pytest.fixture(scope="module")
def strict_server(
    server: LiveServer, django_db_setup: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The same kind of server with ``ALLOWED_HOSTS = ["127.0.0.1", "localhost"]``."""
    from django.conf import settings

    log_path = tmp_path_factory.mktemp(f"strict-{server.kind}") / "server.log"
    env = {
        "WARDEN_TEST_DB": str(settings.DATABASES["default"]["NAME"]),
        "WARDEN_TEST_ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    live = start_server(server.kind, log_path, env=env)
    yield live
    live.stop()


async def alice_creds(make_user: Any, port: int) -> Creds:
    user = await create_user(make_user)
    return Creds(
        drf=await mint(user, "drf"),
        session=await mint(user, "session"),
        jwt=await mint(user, "jwt"),
        claims=access_claims(user),
        key=signing_key(),
        pk=int(user.pk),
        port=port,
    )


def secrets_of(case: Case, creds: Creds, request: Request) -> list[tuple[str, bool]]:
    """Every credential the request carries (minted, malformed or pasted into the path)."""
    sent = " ".join([request.path, *(line.decode("latin-1") for line in request.lines)])
    found = {secret for secret in (creds.drf, creds.session, creds.jwt) if secret in sent}
    found.update(_JWT.findall(sent))
    if case.secret is not None:
        found.add(case.secret(creds))
    in_path = {secret for secret in found if secret in request.path and case.in_path}
    return [(secret, secret in in_path) for secret in sorted(found)]


async def run_case(case: Case, server: LiveServer, creds: Creds, report_figure: Any) -> None:
    """Send the case's request and assert its expected outcome, then the credential's absence."""
    request = case.build(creds)
    secrets = secrets_of(case, creds, request)
    SENT.setdefault(server.kind, []).extend(secrets)
    outcome, echoed = await CatalogClient(server).send(request)
    expect = case.expect
    if isinstance(expect, Refused):
        assert (outcome.status, outcome.whoami, outcome.frame, outcome.close_code) == (
            101,
            None,
            frame(expect.code),
            expect.code,
        )
    elif isinstance(expect, Admitted):
        assert (outcome.status, (outcome.whoami or {}).get("user")) == (101, expect.user)
    elif isinstance(expect, Denied):
        if server.kind == "uvicorn":  # the websocket.http.response extension: a real HTTP answer
            assert (outcome.status, json.loads(outcome.body)) == (expect.status, frame(expect.code))
        else:  # daphne has no such extension; a close before accept is its plain 403
            assert (outcome.status, outcome.whoami) == (403, None)
    elif outcome.status == 101:
        assert (outcome.whoami, outcome.frame, outcome.close_code) == (None, frame(expect.code), expect.code)
    else:
        assert outcome.whoami is None
        assert outcome.status is None or 400 <= outcome.status < 500, outcome.status
        report_figure(f"{server.kind} refused {case.id} itself: HTTP {outcome.status}")
        await assert_still_serving(server)
    # What warden and the server sent back (the consumer's own report of its scope, whoami, aside:
    # the session cookie stays in the application's scope by design).
    answer = repr((outcome.status, outcome.headers, outcome.body, outcome.frame, outcome.close_reason))
    quoted = [secret for secret, _ in secrets if secret.encode() in echoed or secret in answer]
    if quoted and case.server_may_quote and outcome.status != 101:
        # The server's own refusal, before the application ran: recorded with versions, not hidden.
        versions = ", ".join(f"{name} {version(name)}" for name in SERVER_PACKAGES[server.kind])
        report_figure(f"{versions}: HTTP {outcome.status} body quotes the request header")
        return
    assert quoted == []


async def assert_still_serving(server: LiveServer) -> None:
    """The next plain client is answered as usual (no credentials: 4401)."""
    outcome, _ = await CatalogClient(server).send(Request())
    assert (outcome.status, outcome.close_code) == (101, 4401)


def ids(cases: list[Case]) -> list[str]:
    return [case.id for case in cases]


pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("case", CLAIM_CASES, ids=ids(CLAIM_CASES))
async def test_jwt_claim_of_every_json_type(
    server: LiveServer, log_start: int, make_user: Any, report_figure: Any, case: Case
) -> None:
    """Each claim of each JSON type: the right type and range admit alice, anything else is 4401."""
    await run_case(case, server, await alice_creds(make_user, server.port), report_figure)


@pytest.mark.parametrize("case", TRANSPORT_CASES, ids=ids(TRANSPORT_CASES))
async def test_transport_with_a_malformed_token(
    server: LiveServer, log_start: int, make_user: Any, report_figure: Any, case: Case
) -> None:
    """Header, cookie, subprotocol and query each refuse a malformed JWT with 4401."""
    await run_case(case, server, await alice_creds(make_user, server.port), report_figure)


@pytest.mark.parametrize("case", COOKIE_CASES, ids=ids(COOKIE_CASES))
async def test_credential_cookie_named_twice(
    server: LiveServer, log_start: int, make_user: Any, report_figure: Any, case: Case
) -> None:
    """A session or token cookie named twice (one field or two) is 4400; named once it is admitted."""
    await run_case(case, server, await alice_creds(make_user, server.port), report_figure)


@pytest.mark.parametrize("case", SUBPROTOCOL_CASES, ids=ids(SUBPROTOCOL_CASES))
async def test_subprotocols_read_the_same_on_both_servers(
    server: LiveServer, log_start: int, make_user: Any, report_figure: Any, case: Case
) -> None:
    """Percent-encoded, empty or non-token entries are 4400 on both servers; a split header is fine."""
    await run_case(case, server, await alice_creds(make_user, server.port), report_figure)


@pytest.mark.parametrize("case", PATH_CASES, ids=ids(PATH_CASES))
async def test_path_no_route_matches(
    server: LiveServer, log_start: int, make_user: Any, report_figure: Any, case: Case
) -> None:
    """An unknown path is 4404 (HTTP 404 in deny mode), never a 500 or a dropped connection."""
    await run_case(case, server, await alice_creds(make_user, server.port), report_figure)


@pytest.mark.parametrize("case", ORIGIN_CASES, ids=ids(ORIGIN_CASES))
async def test_origin_scheme_variants(
    server: LiveServer, log_start: int, make_user: Any, report_figure: Any, case: Case
) -> None:
    """Same origin means same scheme too: an https or wss page is not a plain server's own."""
    await run_case(case, server, await alice_creds(make_user, server.port), report_figure)


@pytest.mark.parametrize("case", HOST_CASES, ids=ids(HOST_CASES))
async def test_malformed_host(
    server: LiveServer, log_start: int, make_user: Any, report_figure: Any, case: Case
) -> None:
    """A Host Django would call invalid is 4400 even under ALLOWED_HOSTS = ["*"]."""
    await run_case(case, server, await alice_creds(make_user, server.port), report_figure)


@pytest.mark.parametrize("case", STRICT_HOST_CASES, ids=ids(STRICT_HOST_CASES))
async def test_host_outside_allowed_hosts(
    strict_server: LiveServer, log_start: int, make_user: Any, report_figure: Any, case: Case
) -> None:
    """With a real ALLOWED_HOSTS, an unlisted Host is 4400, DNS-rebinding pages included."""
    await run_case(case, strict_server, await alice_creds(make_user, strict_server.port), report_figure)


def test_server_logs_hold_no_traceback_and_no_credential(
    server: LiveServer, strict_server: LiveServer, log_start: int
) -> None:
    """This suite's server output has no traceback and none of the credentials it sent."""
    logs = {"main": server.log()[log_start:], "strict": strict_server.log()}
    sent = SENT.get(server.kind, [])
    lines = [(name, line) for name, text in logs.items() for line in text.splitlines()]
    leaks = [
        (name, secret[:12])
        for name, line in lines
        for secret, in_path in sent
        if secret in line and not (in_path and _DAPHNE_ACCESS.search(line))
    ]
    assert (
        [line for _, line in lines if "Traceback" in line],
        leaks,
        "4404 not_found" in logs["main"],
        "4400 bad_request" in logs["strict"],
    ) == ([], [], True, True)
