"""Seed 000's React client in Chromium, from a page on another origin: ``new WebSocket(url, accessToken)``.

Against the chat's ``WARDEN_COMPAT=seeds`` profile it is admitted as the user its token names and the
token never reaches the log. Against the default profile Chromium fails it (1006: the server echoes
no subprotocol), and the server's log says why and names the compatibility transport.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode

import pytest
from playwright.sync_api import BrowserContext

from tests.e2e.conftest import free_port

from .conftest import TIMEOUT, Launcher, Site

#: The seed's client as written (the raw access token as the only subprotocol); the rest records
#: what the page saw and sends one chat message once open.
PAGE = b"""<!doctype html>
<meta charset="utf-8"><title>seed 000</title>
<script>
const params = new URLSearchParams(location.hash.slice(1));
const accessToken = params.get("token");
window.seen = [];
const socket = new WebSocket(params.get("url"), accessToken);
socket.onopen = () => {
  seen.push({type: "open", protocol: socket.protocol === accessToken ? "the token" : socket.protocol});
  socket.send(JSON.stringify({type: "message", text: "hello from the React app"}));
};
socket.onmessage = (event) => seen.push({type: "frame", frame: JSON.parse(event.data)});
socket.onclose = (event) => seen.push({type: "close", code: event.code});
</script>
"""


class PageHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def react_app() -> Iterator[str]:
    """The React app's origin: a static server on localhost, another origin than the chat's."""
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), PageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{port}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def compat_chat(launch: Launcher, react_app: str) -> Site:
    """The chat with WARDEN_COMPAT=seeds, trusting the React app's origin."""
    return launch.start("seeds-compat", WARDEN_COMPAT="seeds", WARDEN_ALLOWED_ORIGINS=react_app)


@pytest.fixture(scope="module")
def default_chat(launch: Launcher, react_app: str) -> Site:
    """The chat's default profile (no compatibility transport), trusting the React app's origin."""
    return launch.start("seeds-default", WARDEN_ALLOWED_ORIGINS=react_app)


def run_seed_000(context: BrowserContext, react_app: str, chat: Site, access: str) -> list[dict[str, Any]]:
    """Open the seed's page and wait until it has a chat message back or its socket closed."""
    page = context.new_page()
    page.goto(f"{react_app}/#{urlencode({'url': chat.ws_origin + '/ws/chat/lobby/', 'token': access})}")
    page.wait_for_function(
        "seen.some((e) => e.type === 'close' || (e.type === 'frame' && e.frame.type === 'message'))",
        timeout=TIMEOUT * 1000,
    )
    seen: list[dict[str, Any]] = page.evaluate("seen")
    return seen


def wait_for_log(site: Site, text: str) -> str:
    deadline = time.monotonic() + TIMEOUT
    while text not in (log := site.server.log()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return log


def test_seed_000_is_admitted_on_the_compat_profile(
    new_context: Any, react_app: str, compat_chat: Site
) -> None:
    """The raw-JWT client opens, the token echoed, chats as alice; the token is not in the log."""
    access = compat_chat.jwt("alice")["access"]
    seen = run_seed_000(new_context(), react_app, compat_chat, access)
    messages = [e["frame"] for e in seen if e["type"] == "frame" and e["frame"]["type"] == "message"]
    assert (seen[0], [(m["user"], m["text"]) for m in messages]) == (
        {"type": "open", "protocol": "the token"},
        [("alice", "hello from the React app")],
    )
    log = compat_chat.server.log()
    assert (access in log, access.split(".")[2] in log) == (False, False)


def test_seed_000_on_the_default_profile_logs_the_compatibility_hint(
    new_context: Any, react_app: str, default_chat: Site
) -> None:
    """Chromium fails the socket (1006); the server log names RawJWTSubprotocolTransport, not the token."""
    access = default_chat.jwt("alice")["access"]
    seen = run_seed_000(new_context(), react_app, default_chat, access)
    hint = (
        "hint: the client offered a JWT as its only subprotocol (new WebSocket(url, token)); warden ignores "
        "it unless channels_warden.transports.RawJWTSubprotocolTransport is in WARDEN['EXTRA_TRANSPORTS']"
    )
    log = wait_for_log(default_chat, hint)
    assert (seen, hint in log, access in log, access.split(".")[2] in log) == (
        [{"type": "close", "code": 1006}],
        True,
        False,
        False,
    )
    [line] = [line for line in log.splitlines() if hint in line]
    assert line.startswith(
        "websocket /ws/chat/lobby/ from 127.0.0.1 closed by the client before it authenticated "
        "(first-message route); hint: "
    )
