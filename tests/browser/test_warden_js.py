"""warden.js on its own, in Chromium, with a hand-driven fake WebSocket instead of a server.

Each test runs one scenario in the page and asserts, in Python, what the client did: which
subprotocols it offered, what it sent, which events it dispatched, whether it reconnected.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route

from .conftest import ROOT

WARDEN_JS = ROOT / "src" / "channels_warden" / "static" / "channels_warden" / "warden.js"
FAKE_SOCKET_JS = ROOT / "tests" / "browser" / "fake_socket.js"
HARNESS = """<!doctype html><title>warden.js harness</title>
<script type="module">
  import * as warden from "/warden.js";
  import * as fake from "/fake_socket.js";
  Object.assign(window, warden, fake);
  const made = [];
  window.make = (options = {}) => {
    const defaults = { WebSocket: fake.FakeSocket, settle: 10 };
    made.push(new warden.WardenSocket("ws://chat.test/ws/", { ...defaults, ...options }));
    return made.at(-1);
  };
  // Between tests: stop every client (and its timers), forget every fake socket.
  window.reset = () => {
    made.splice(0).forEach((socket) => socket.close());
    fake.FakeSocket.all.length = 0;
  };
  window.ready = true;
</script>"""


def serve(route: Route) -> None:
    path = route.request.url.removeprefix("http://warden.test")
    if path == "/":
        route.fulfill(body=HARNESS, content_type="text/html")
    elif path == "/warden.js":
        route.fulfill(path=WARDEN_JS, content_type="text/javascript")
    elif path == "/fake_socket.js":
        route.fulfill(path=FAKE_SOCKET_JS, content_type="text/javascript")
    else:
        route.fulfill(status=404)


@pytest.fixture(scope="module")
def harness(browser: Browser) -> Iterator[Page]:
    """The harness page at http://warden.test/, served by Playwright itself (no server)."""
    context = browser.new_context()
    context.route("http://warden.test/**", serve)
    page = context.new_page()
    page.goto("http://warden.test/")
    page.wait_for_function("window.ready === true")
    yield page
    context.close()


@pytest.fixture
def run(harness: Page) -> Iterator[Callable[[str], Any]]:
    """Run the body of an async JavaScript function in the harness page; return its result."""

    def evaluate(body: str) -> Any:
        return harness.evaluate(f"async () => {{ {body} }}")

    yield evaluate
    harness.evaluate("reset()")


def test_subprotocol_auth_offers_the_marker_the_token_and_the_app_protocols(
    run: Callable[[str], Any],
) -> None:
    """auth "subprotocol" offers ["warden", "bearer.<token>", ...protocols] on the given URL."""
    offered = run("""
        make({ auth: "subprotocol", getToken: async () => "abc", protocols: ["chat.v1"] });
        await until(() => FakeSocket.all.length === 1);
        return [FakeSocket.last().url, FakeSocket.last().protocols];
    """)
    assert offered == ["ws://chat.test/ws/", ["warden", "bearer.abc", "chat.v1"]]


def test_control_frames_never_reach_the_application(run: Callable[[str], Any]) -> None:
    """warden.* frames are consumed; JSON and plain-text application frames are delivered."""
    messages = run("""
        const events = record(make());
        await until(() => FakeSocket.all.length === 1);
        const socket = FakeSocket.last();
        socket.open();
        socket.receive({ type: "warden.refreshed", expires_at: null });
        socket.receive({ type: "warden.future_frame" });
        socket.receive({ type: "message", text: "hi" });
        socket.receive("plain text");
        return events.filter((event) => event.type === "message").map((event) => event.detail);
    """)
    assert messages == [{"type": "message", "text": "hi"}, "plain text"]


def test_group_frames_become_denied_and_left_events(run: Callable[[str], Any]) -> None:
    """warden.denied and warden.left raise "denied" and "left"; the application's handler never sees them."""
    events = run("""
        const events = record(make());
        await until(() => FakeSocket.all.length === 1);
        const socket = FakeSocket.last();
        socket.open();
        socket.receive({ type: "warden.denied", group: "chat.private", reason: "forbidden" });
        socket.receive({ type: "warden.left", group: "chat.team", reason: "removed" });
        socket.receive({ type: "left", room: "team" });
        return events.filter((event) => event.type !== "status");
    """)
    denied = {"type": "warden.denied", "group": "chat.private", "reason": "forbidden"}
    left = {"type": "warden.left", "group": "chat.team", "reason": "removed"}
    assert events == [
        {"type": "denied", "detail": denied},
        {"type": "left", "detail": left},
        {"type": "message", "detail": {"type": "left", "room": "team"}},
    ]


def test_4401_fetches_a_fresh_token_then_reconnects(run: Callable[[str], Any]) -> None:
    """After 4401 getToken is asked for a fresh token and the next socket offers it at once."""
    result = run("""
        const calls = [];
        make({ auth: "subprotocol", getToken: async (how) => (calls.push(how), `token-${calls.length}`) });
        await until(() => FakeSocket.all.length === 1);
        FakeSocket.last().open();
        FakeSocket.last().drop(4401, { reason: "token_expired", reconnect: "refresh" });
        await until(() => FakeSocket.all.length === 2);
        return { calls, protocols: FakeSocket.last().protocols };
    """)
    assert result == {
        "calls": [{"refresh": False}, {"refresh": True}],
        "protocols": ["warden", "bearer.token-2"],
    }


@pytest.mark.parametrize(
    ("code", "reason"),
    [(4400, "bad_request"), (4403, "forbidden"), (4404, "not_found"), (4409, "replaced"), (4499, "logout")],
)
def test_terminal_codes_stop_and_report_the_reason(run: Callable[[str], Any], code: int, reason: str) -> None:
    """4400, 4403, 4404, 4409 and 4499 end the socket for good, with the frame's code and reason."""
    result = run(f"""
        const socket = make({{ auth: "subprotocol", getToken: async () => "t" }});
        const events = record(socket);
        await until(() => FakeSocket.all.length === 1);
        FakeSocket.last().open();
        FakeSocket.last().drop({code}, {{ reason: "{reason}", reconnect: "never" }});
        await tick(100);
        const statuses = events.filter((event) => event.type === "status").map((event) => event.detail);
        return {{ state: socket.state, sockets: FakeSocket.all.length, last: statuses.at(-1) }};
    """)
    assert result == {
        "state": "closed",
        "sockets": 1,
        "last": {"state": "closed", "code": code, "reason": reason},
    }


def test_4429_waits_the_frames_retry_after(run: Callable[[str], Any]) -> None:
    """A 4429 frame's retry_after (seconds) sets the reconnect delay, whatever the backoff says."""
    result = run("""
        const socket = make({ minBackoff: 10 });
        const events = record(socket);
        await until(() => FakeSocket.all.length === 1);
        FakeSocket.last().open();
        FakeSocket.last().drop(4429, { reason: "too_many", reconnect: "backoff", retry_after: 2 });
        await tick(200);
        return { status: events.at(-1).detail, sockets: FakeSocket.all.length };
    """)
    assert result["sockets"] == 1
    status = result["status"]
    assert (status["state"], status["code"], status["reason"]) == ("reconnecting", 4429, "too_many")
    assert 2000 <= status["retryIn"] <= 2010


def test_network_loss_reconnects_and_flushes_queued_messages_in_order(run: Callable[[str], Any]) -> None:
    """Frames sent after a 1006 are queued, then sent in order on the next socket once it opens."""
    result = run("""
        const socket = make({ minBackoff: 20 });
        const events = record(socket);
        await until(() => FakeSocket.all.length === 1);
        FakeSocket.last().open();
        await until(() => socket.state === "open");
        socket.send("before");
        FakeSocket.last().drop(1006);
        socket.send("during-1");
        socket.send({ type: "message", text: "during-2" });
        const whileDown = socket.state;
        await until(() => FakeSocket.all.length === 2);
        FakeSocket.last().open();
        await until(() => socket.state === "open");
        return {
          whileDown,
          first: FakeSocket.all[0].sent,
          second: FakeSocket.last().sent,
          states: events.filter((event) => event.type === "status").map((event) => event.detail.state),
        };
    """)
    assert result == {
        "whileDown": "reconnecting",
        "first": ["before"],
        "second": ["during-1", '{"type":"message","text":"during-2"}'],
        "states": ["open", "reconnecting", "open"],
    }


def test_socket_refused_right_after_opening_never_counts_as_open(run: Callable[[str], Any]) -> None:
    """A socket closed within `settle` ms reports no "open", and its queued frames wait for the next."""
    result = run("""
        const socket = make({ settle: 100, auth: "subprotocol", getToken: async () => "t" });
        const events = record(socket);
        socket.send("queued");
        await until(() => FakeSocket.all.length === 1);
        FakeSocket.last().open();
        FakeSocket.last().drop(4401, { reason: "unauthenticated", reconnect: "refresh" });
        await until(() => FakeSocket.all.length === 2);
        FakeSocket.last().open();
        await until(() => socket.state === "open");
        return {
          states: events.filter((event) => event.type === "status").map((event) => event.detail.state),
          sent: FakeSocket.all.map((fake) => fake.sent),
        };
    """)
    assert result == {"states": ["reconnecting", "open"], "sent": [[], ["queued"]]}


def test_application_frame_ends_the_settling_at_once(run: Callable[[str], Any]) -> None:
    """An application frame proves the socket was admitted: "open" comes before the frame is delivered."""
    types = run("""
        const socket = make({ settle: 60000 });
        const events = record(socket);
        await until(() => FakeSocket.all.length === 1);
        FakeSocket.last().open();
        FakeSocket.last().receive({ type: "presence", users: ["alice"] });
        return events.map((event) => event.type + (event.detail.state ? ":" + event.detail.state : ""));
    """)
    assert types == ["status:open", "message"]


def test_first_message_auth_holds_app_frames_until_authenticated(run: Callable[[str], Any]) -> None:
    """auth "message" offers only "warden", sends warden.auth first and the app's frames after it."""
    result = run("""
        const socket = make({ auth: "message", getToken: async () => "abc" });
        socket.send("early");
        await until(() => FakeSocket.all.length === 1);
        const fake = FakeSocket.last();
        fake.open();
        const beforeAuth = { state: socket.state, sent: [...fake.sent] };
        fake.receive({ type: "warden.authenticated", expires_at: null });
        return { protocols: fake.protocols, beforeAuth, after: { state: socket.state, sent: fake.sent } };
    """)
    auth = '{"type":"warden.auth","token":"abc","scheme":"bearer"}'
    assert result == {
        "protocols": ["warden"],
        "beforeAuth": {"state": "connecting", "sent": [auth]},
        "after": {"state": "open", "sent": [auth, "early"]},
    }


def test_ticket_auth_uses_a_new_ticket_for_every_attempt(run: Callable[[str], Any]) -> None:
    """auth "ticket" fetches a ticket per connection attempt and puts it in ?ticket=."""
    urls = run("""
        let n = 0;
        make({ auth: "ticket", getTicket: async () => `t${++n}` });
        await until(() => FakeSocket.all.length === 1);
        FakeSocket.last().open();
        FakeSocket.last().drop(4401, { reason: "unauthenticated", reconnect: "refresh" });
        await until(() => FakeSocket.all.length === 2);
        return FakeSocket.all.map((socket) => socket.url);
    """)
    assert urls == ["ws://chat.test/ws/?ticket=t1", "ws://chat.test/ws/?ticket=t2"]


def test_expiring_frame_triggers_an_in_band_refresh(run: Callable[[str], Any]) -> None:
    """warden.expiring makes the client fetch a fresh token and send warden.refresh on the same socket."""
    result = run("""
        const tokens = ["first", "second"];
        const socket = make({ auth: "subprotocol", getToken: async () => tokens.shift() });
        const events = record(socket);
        await until(() => FakeSocket.all.length === 1);
        const fake = FakeSocket.last();
        fake.open();
        await until(() => socket.state === "open");
        fake.receive({ type: "warden.expiring", expires_at: Date.now() / 1000 + 30 });
        await until(() => fake.sent.length === 1);
        fake.receive({ type: "warden.refreshed", expires_at: 1767229200.0 });
        return {
          sent: fake.sent.map((text) => JSON.parse(text)),
          refreshed: events.filter((event) => event.type === "refreshed").map((event) => event.detail),
          sockets: FakeSocket.all.length,
        };
    """)
    assert result == {
        "sent": [{"type": "warden.refresh", "token": "second", "scheme": "bearer"}],
        "refreshed": [{"type": "warden.refreshed", "expires_at": 1767229200.0}],
        "sockets": 1,
    }


def test_refresh_ahead_refreshes_a_jwt_before_its_exp(run: Callable[[str], Any]) -> None:
    """With no warning frame, a JWT's exp claim alone makes the client refresh before it ends."""
    result = run("""
        const exp = Date.now() / 1000 + 1.2;
        const tokens = [fakeJwt(exp), fakeJwt(exp + 60)];
        make({ auth: "subprotocol", getToken: async () => tokens.shift() });
        await until(() => FakeSocket.all.length === 1);
        const fake = FakeSocket.last();
        fake.open();
        await until(() => fake.sent.length === 1);
        return { type: JSON.parse(fake.sent[0]).type, early: Date.now() / 1000 < exp };
    """)
    assert result == {"type": "warden.refresh", "early": True}


def test_cookie_auth_stops_on_4498_because_it_cannot_refresh(run: Callable[[str], Any]) -> None:
    """A session cookie cannot be refreshed by the page: 4498 ends the socket rather than loop."""
    result = run("""
        const socket = make();
        await until(() => FakeSocket.all.length === 1);
        FakeSocket.last().open();
        FakeSocket.last().drop(4498, { reason: "token_expired", reconnect: "refresh" });
        await tick(100);
        return [socket.state, FakeSocket.all.length];
    """)
    assert result == ["closed", 1]


def test_get_token_resolving_null_means_signed_out(run: Callable[[str], Any]) -> None:
    """getToken answering null closes for good (4401 signed_out) without opening a socket."""
    result = run("""
        const socket = make({ auth: "subprotocol", getToken: async () => null });
        const events = record(socket);
        await tick(50);
        return { state: socket.state, sockets: FakeSocket.all.length, status: events.at(-1).detail };
    """)
    assert result == {
        "state": "closed",
        "sockets": 0,
        "status": {"state": "closed", "code": 4401, "reason": "signed_out"},
    }


@pytest.mark.parametrize(
    ("code", "reason", "sentence"),
    [
        (4499, "logout", "Signed out elsewhere (4499 logout)"),
        (4403, "forbidden", "Forbidden (4403 forbidden)"),
        (4409, "replaced", "Replaced by a newer connection (4409 replaced)"),
        (1006, "", "Disconnected (1006)"),
    ],
)
def test_close_message_words_a_close_for_people(
    run: Callable[[str], Any], code: int, reason: str, sentence: str
) -> None:
    """closeMessage() turns a code and reason into the sentence the pages show."""
    assert run(f'return closeMessage({{ code: {code}, reason: "{reason}" }});') == sentence
