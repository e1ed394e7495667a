"""The cross-origin client (``spa.html``): a page on another origin holding a SimpleJWT pair.

Chromium's own record of each WebSocket handshake (DevTools protocol) shows what went over the wire:
the Origin, the subprotocols offered and the one the server chose.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import BrowserContext, Page, expect

from .conftest import SHORT_LIFETIME, Site, spa_url


@dataclass
class Handshakes:
    """Headers of the WebSocket handshakes a page made, as Chromium sent and received them."""

    sent: list[dict[str, str]] = field(default_factory=list)
    received: list[dict[str, str]] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)


def lower(headers: dict[str, Any]) -> dict[str, str]:
    return {name.lower(): str(value) for name, value in headers.items()}


def watch_handshakes(page: Page) -> Handshakes:
    """Record ``page``'s WebSocket handshakes from now on."""
    seen = Handshakes()
    session = page.context.new_cdp_session(page)
    session.on("Network.webSocketCreated", lambda event: seen.urls.append(event["url"]))
    session.on(
        "Network.webSocketWillSendHandshakeRequest",
        lambda event: seen.sent.append(lower(event["request"]["headers"])),
    )
    session.on(
        "Network.webSocketHandshakeResponseReceived",
        lambda event: seen.received.append(lower(event["response"]["headers"])),
    )
    session.send("Network.enable")
    return seen


def say(page: Page, text: str) -> None:
    page.fill("#text", text)
    page.press("#text", "Enter")


def test_page_on_a_second_origin_connects_with_a_jwt_subprotocol(
    chat: Site, spa_host: Site, new_context: Callable[[], BrowserContext], screenshot: Callable[..., None]
) -> None:
    """A page on a trusted second origin opens the room with "warden, bearer.<jwt>" and chats as its user."""
    tokens = chat.jwt("bob")
    page = new_context().new_page()
    handshakes = watch_handshakes(page)
    page.goto(spa_url(spa_host.origin, chat, tokens))

    expect(page.locator("#status")).to_have_attribute("data-state", "open")
    expect(page.locator("#presence")).to_contain_text("bob")
    say(page, "Hello from another origin, with a JWT in Sec-WebSocket-Protocol")
    last = page.locator("#messages .message").last
    expect(last).to_contain_text("Hello from another origin")
    expect(last.locator(".user")).to_have_text("bob")

    assert spa_host.origin != chat.origin
    assert page.evaluate("location.origin") == spa_host.origin
    assert tokens["access"] not in page.url  # the page took the tokens out of its address
    assert page.context.cookies() == []  # no session anywhere: the JWT alone got in
    assert handshakes.urls == [f"{chat.ws_origin}/ws/chat/lobby/"]
    assert handshakes.sent[0]["origin"] == spa_host.origin
    assert handshakes.sent[0]["sec-websocket-protocol"] == f"warden, bearer.{tokens['access']}"
    assert handshakes.received[0]["sec-websocket-protocol"] == "warden"  # never the token
    screenshot(page, "spa", full_page=True)


def test_page_on_an_origin_not_allowed_is_refused_and_says_why(
    chat: Site, spa_host: Site, new_context: Callable[[], BrowserContext], screenshot: Callable[..., None]
) -> None:
    """The same page on an origin the chat does not trust is closed with 4403, and shows it."""
    untrusted = f"http://localhost:{spa_host.server.port}"  # another origin than 127.0.0.1:<port>
    page = new_context().new_page()
    handshakes = watch_handshakes(page)
    page.goto(spa_url(untrusted, chat, chat.jwt("bob")))

    expect(page.locator("#closed")).to_have_text("Forbidden (4403 forbidden)")
    expect(page.locator("#status")).to_have_attribute("data-state", "closed")
    expect(page.locator("#text")).to_be_disabled()
    expect(page.locator("#events")).to_contain_text("warden.disconnect 4403")
    assert handshakes.sent[0]["origin"] == untrusted
    assert len(handshakes.urls) == 1  # "never": no reconnection attempt
    screenshot(page, "refused", doc="refused.png", full_page=True)


def test_first_message_auth_keeps_the_token_out_of_the_handshake(
    chat: Site, spa_host: Site, new_context: Callable[[], BrowserContext], screenshot: Callable[..., None]
) -> None:
    """With auth "message" the handshake offers only "warden"; the token travels in the first frame."""
    tokens = chat.jwt("alice")
    page = new_context().new_page()
    handshakes = watch_handshakes(page)
    page.goto(spa_url(spa_host.origin, chat, tokens) + "&auth=message")

    expect(page.locator("#status")).to_have_attribute("data-state", "open")
    say(page, "signed in by my first frame")
    expect(page.locator("#messages .message").last).to_contain_text("signed in by my first frame")
    assert handshakes.sent[0]["sec-websocket-protocol"] == "warden"
    assert all(tokens["access"] not in value for value in handshakes.sent[0].values())
    assert tokens["access"] not in handshakes.urls[0]
    screenshot(page, "first-message", full_page=True)


def test_token_expiring_mid_chat_is_refreshed_in_band_without_losing_a_message(
    short_lived: Site,
    spa_host: Site,
    new_context: Callable[[], BrowserContext],
    screenshot: Callable[..., None],
) -> None:
    """4-second access tokens are refreshed on the open socket; every message sent meanwhile arrives once."""
    tokens = short_lived.jwt("alice")
    page = new_context().new_page()
    handshakes = watch_handshakes(page)
    page.goto(spa_url(spa_host.origin, short_lived, tokens))
    expect(page.locator("#status")).to_have_attribute("data-state", "open")

    # 0.7 s apart (under the chat's 10 messages per 5 s), spanning two token lifetimes.
    sent = [f"message {number} around the expiry" for number in range(1, 12)]
    started = time.monotonic()
    for text in sent:
        say(page, text)
        page.wait_for_timeout(700)
    assert time.monotonic() - started > 2 * SHORT_LIFETIME - 1

    expect(page.locator("#messages .message")).to_have_count(len(sent))
    assert page.locator("#messages .text").all_inner_texts() == sent
    assert int(page.locator("body").get_attribute("data-refreshes") or 0) >= 2
    assert page.locator("body").get_attribute("data-opens") == "1"
    assert page.locator("body").get_attribute("data-reconnects") is None
    assert len(handshakes.urls) == 1  # one socket for the whole conversation

    stored = short_lived.get("/api/rooms/lobby/messages/?limit=100", short_lived.jwt("alice")["access"])
    texts = [message["text"] for message in stored["messages"]]
    assert [texts.count(text) for text in sent] == [1] * len(sent)
    screenshot(page, "refreshed", full_page=True)
