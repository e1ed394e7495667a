"""The chat page (``/``) in Chromium: people signed in with a session cookie on the multi-room socket."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from .conftest import TIMEOUT, Launcher, Site, manage, sign_in

#: Puts a public room "archive" with 75 messages by alice into the database.
ARCHIVE = """
from django.contrib.auth import get_user_model
from chat.models import Message, Room
room = Room.objects.create(slug="archive", title="Archive")
alice = get_user_model().objects.get(username="alice")
Message.objects.bulk_create([Message(room=room, author=alice, text=f"archived {n}") for n in range(1, 76)])
"""


def say(page: Page, text: str) -> None:
    page.fill("#text", text)
    page.press("#text", "Enter")


def texts(page: Page) -> list[str]:
    return page.locator("#messages .text").all_inner_texts()


def test_two_people_see_each_others_messages_and_presence(
    chat: Site, new_context: Callable[[], BrowserContext], screenshot: Callable[..., None]
) -> None:
    """Alice and Bob, in two browsers, both see who is in the lobby and every message either sends."""
    alice = sign_in(new_context(), chat, "alice")
    bob = sign_in(new_context(), chat, "bob")
    for page in (alice, bob):
        expect(page.locator("#presence")).to_contain_text("alice")
        expect(page.locator("#presence")).to_contain_text("bob")

    say(alice, "Hi Bob! Is the socket still yours after I log out?")
    expect(bob.locator("#messages .message").last).to_contain_text("Hi Bob!")
    say(bob, "No: warden closes it with 4499, in every process.")
    expect(alice.locator("#messages .message").last).to_contain_text("warden closes it with 4499")
    say(alice, "<b>Markup</b> stays text")
    expect(bob.locator("#messages .message").last).to_contain_text("<b>Markup</b> stays text")

    expected = [
        "Hi Bob! Is the socket still yours after I log out?",
        "No: warden closes it with 4499, in every process.",
        "<b>Markup</b> stays text",
    ]
    for page in (alice, bob):
        assert texts(page)[-3:] == expected
        assert page.locator("#messages b").count() == 0
    screenshot(bob, "bob")
    screenshot(alice, "alice", doc="chat.png")


def test_reload_restores_history(
    chat: Site, new_context: Callable[[], BrowserContext], screenshot: Callable[..., None]
) -> None:
    """Messages sent before a reload are shown again, in order, from the history API."""
    page = sign_in(new_context(), chat, "bob")
    sent = [f"before the reload, line {number}" for number in range(1, 4)]
    for text in sent:
        say(page, text)
        expect(page.locator("#messages .message").last).to_contain_text(text)

    page.reload()
    expect(page.locator("#status")).to_have_attribute("data-state", "open")
    expect(page.locator("#messages .message").last).to_contain_text(sent[-1])
    assert texts(page)[-3:] == sent
    screenshot(page, "reloaded")


def test_load_older_fetches_the_page_before_the_oldest_shown(
    chat: Site, new_context: Callable[[], BrowserContext], screenshot: Callable[..., None]
) -> None:
    """A room shows its newest 50 messages; "Load older" prepends the rest, then disappears."""
    manage(chat.db_path, "shell", "-c", ARCHIVE)
    page = sign_in(new_context(), chat, "bob")
    page.goto(chat.url("/#archive"))
    expect(page.locator("#room-title")).to_have_text("Archive")
    expect(page.locator("#messages .message")).to_have_count(50)
    assert texts(page)[0] == "archived 26"

    screenshot(page, "newest-50")
    page.click("#older")
    expect(page.locator("#messages .message")).to_have_count(75)
    assert texts(page) == [f"archived {n}" for n in range(1, 76)]
    expect(page.locator("#older")).to_be_hidden()
    screenshot(page, "all-75")


def test_private_room_is_forbidden_to_a_non_member(
    chat: Site, new_context: Callable[[], BrowserContext], screenshot: Callable[..., None]
) -> None:
    """Carol, who is not a member, opening the private room sees "Forbidden" and cannot write."""
    page = sign_in(new_context(), chat, "carol")
    page.goto(chat.url("/#private"))

    notice = page.locator("#room-error")
    expect(notice).to_have_attribute("data-code", "forbidden")
    expect(notice).to_have_text("Forbidden: “private” is private and carol is not a member.")
    expect(page.locator("#text")).to_be_disabled()
    expect(page.locator("#messages .message")).to_have_count(0)
    expect(page.locator("#status")).to_have_attribute("data-state", "open")  # the socket itself is fine
    screenshot(page, "carol")


#: Puts a private room "team" (members carol and bob) into the database.
TEAM = """
from django.contrib.auth import get_user_model
from chat.models import Room
room = Room.objects.create(slug="team", title="Team", private=True)
room.members.set(get_user_model().objects.filter(username__in=["carol", "bob"]))
"""


def test_removed_in_one_tab_while_the_other_keeps_chatting_in_the_lobby(
    chat: Site, new_context: Callable[[], BrowserContext], screenshot: Callable[..., None]
) -> None:
    """Carol removed from "team" by alice: that tab says so and hears no more; her lobby tab chats on."""
    manage(chat.db_path, "shell", "-c", TEAM)
    carol = new_context()
    team_tab = sign_in(carol, chat, "carol")
    team_tab.goto(chat.url("/#team"))
    expect(team_tab.locator("#room-title")).to_have_text("Team")
    lobby_tab = carol.new_page()
    lobby_tab.goto(chat.url("/#lobby"))
    expect(lobby_tab.locator("#status")).to_have_attribute("data-state", "open")
    bob = sign_in(new_context(), chat, "bob")
    bob.goto(chat.url("/#team"))
    expect(team_tab.locator("#presence")).to_contain_text("bob")
    say(bob, "before the removal")
    expect(team_tab.locator("#messages .message").last).to_contain_text("before the removal")

    alice = chat.jwt("alice")["access"]
    assert chat.post("/api/rooms/team/members/carol/remove/", {}, token=alice) == {"ok": True}

    notice = team_tab.locator("#room-error")
    expect(notice).to_have_attribute("data-code", "removed")
    expect(notice).to_have_text("You were removed from “Team”.")
    expect(team_tab.locator("#text")).to_be_disabled()
    expect(team_tab.locator("#status")).to_have_attribute("data-state", "open")  # the socket stays
    say(bob, "after the removal")
    expect(bob.locator("#messages .message").last).to_contain_text("after the removal")

    say(lobby_tab, "still here in the lobby")
    bob.goto(chat.url("/#lobby"))
    expect(bob.locator("#messages .message").last).to_contain_text("still here in the lobby")
    expect(lobby_tab.locator("#messages .message").last).to_contain_text("still here in the lobby")
    expect(lobby_tab.locator("#status")).to_have_attribute("data-state", "open")
    # The removal reached the team tab before bob's second message was sent: it never shows there.
    assert "after the removal" not in texts(team_tab)
    assert texts(team_tab)[-1] == "before the removal"
    screenshot(team_tab, "removed", doc="chat-removed.png")
    screenshot(lobby_tab, "lobby")


def test_logout_in_one_tab_closes_the_socket_in_the_other(
    chat: Site, new_context: Callable[[], BrowserContext], screenshot: Callable[..., None]
) -> None:
    """Logging out in one tab closes the same session's socket in another tab, which says why."""
    context = new_context()
    first = sign_in(context, chat, "alice")
    second = context.new_page()
    second.goto(chat.url("/"))
    expect(second.locator("#status")).to_have_attribute("data-state", "open")

    first.click("#logout")
    expect(first.locator("input[name=password]")).to_be_visible()  # back at the login form

    expect(second.locator("#closed-text")).to_have_text("Signed out elsewhere (4499 logout)")
    expect(second.locator("#closed-action")).to_have_text("Sign in again")
    expect(second.locator("#status")).to_have_attribute("data-state", "closed")
    expect(second.locator("#text")).to_be_disabled()
    screenshot(second, "other-tab")


@pytest.fixture
def restartable(launch: Launcher) -> Site:
    """A chat server of this test's own, which it may stop and start."""
    return launch.start("restartable")


def test_page_reconnects_after_a_server_restart_and_sends_what_was_typed_meanwhile(
    restartable: Site,
    launch: Launcher,
    new_context: Callable[[], BrowserContext],
    screenshot: Callable[..., None],
) -> None:
    """The page says the server is down and queues; once it is back each queued message arrives once."""
    page = sign_in(new_context(), restartable, "alice")
    say(page, "before the restart")
    expect(page.locator("#messages .message").last).to_contain_text("before the restart")

    restartable.server.stop()
    expect(page.locator("#status")).to_have_attribute("data-state", "reconnecting")
    expect(page.locator("#status-text")).to_contain_text("reconnecting in")
    queued = ["typed while the server was down", "and one more"]
    for text in queued:
        say(page, text)
    expect(page.locator("#status-text")).to_contain_text("· 2 waiting to send")
    screenshot(page, "server-down")
    launch.start_again(restartable)

    expect(page.locator("#status")).to_have_attribute("data-state", "open", timeout=3 * TIMEOUT * 1000)
    expect(page.locator("#messages .message")).to_have_count(3)
    assert texts(page) == ["before the restart", *queued]
    expect(page.locator("#status-text")).to_have_text("connected")
    expect(page.locator("#presence")).to_have_text("alice")
    screenshot(page, "back")
