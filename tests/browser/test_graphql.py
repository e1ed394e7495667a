"""The example's GraphQL page in Chromium: the real graphql-ws client, a session cookie, warden's codes."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import BrowserContext, expect

from .conftest import Site, sign_in


def test_graphql_page_streams_then_stops_for_good_on_logout(
    chat: Site, new_context: Callable[[], BrowserContext], screenshot: Callable[..., None]
) -> None:
    """GraphQL and chat pages see each other's messages; logout closes 4401 and graphql-ws stays closed."""
    alice_context = new_context()
    sign_in(alice_context, chat, "alice")
    page = alice_context.new_page()
    page.goto(chat.url("/static/chat/graphql.html#room=lobby"))
    status = page.locator("#status")
    expect(status).to_have_attribute("data-state", "open")
    bob = sign_in(new_context(), chat, "bob")

    page.fill("#text", "Hello over GraphQL, through warden")
    page.press("#text", "Enter")
    expect(bob.locator("#messages .message").last).to_contain_text("Hello over GraphQL, through warden")
    bob.fill("#text", "And back from the chat socket")
    bob.press("#text", "Enter")
    expect(page.locator("#messages .message").last).to_contain_text("And back from the chat socket")
    screenshot(page, "graphql", doc="graphql.png", full_page=True)

    csrf = next(cookie["value"] for cookie in alice_context.cookies() if cookie["name"] == "csrftoken")
    response = alice_context.request.post(
        chat.url("/api/auth/logout/"), headers={"X-CSRFToken": csrf, "Referer": chat.url("/")}
    )
    assert response.ok, response.text()
    expect(status).to_have_attribute("data-state", "closed")
    expect(page.locator("#status-text")).to_have_text("closed 4401: not reconnecting")
    page.wait_for_timeout(4500)  # longer than graphql-ws's first retry wait (1.3 s to 4 s)
    assert status.get_attribute("data-connections") == "1"
    expect(page.locator("#events")).to_contain_text("closed 4401")
