"""The HTTP API of docs/chat-api.md on a real server (uvicorn): sign-in, tokens, tickets, rooms, history."""

from __future__ import annotations

from typing import Any

import pytest

from ..example_project import PASSWORD
from ..lifecycle import disconnect_frame
from .support import ChatServer, Sockets, assert_message, session_auth, unique_text

CREDENTIALS = {"username": "bob", "password": PASSWORD}


def token_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Token {token}"}


def csrf(server: ChatServer, key: str, csrf_token: str) -> dict[str, Any]:
    """Cookies and headers of a same-origin browser POST."""
    return {
        "cookies": {"sessionid": key, "csrftoken": csrf_token},
        "headers": {"X-CSRFToken": csrf_token, "Origin": server.origin},
    }


# Sessions ---------------------------------------------------------------------------------------


async def test_session_login_sets_session_and_csrf_cookies(http_server: ChatServer) -> None:
    """POST /api/auth/session/ answers the username and sets sessionid and csrftoken."""
    reply = await http_server.http("POST", "/api/auth/session/", CREDENTIALS)
    assert (reply.status, reply.body) == (200, {"username": "bob"})
    assert sorted(reply.cookies) == ["csrftoken", "sessionid"]


async def test_session_login_with_wrong_password_is_400(http_server: ChatServer) -> None:
    """A wrong password answers 400 invalid_credentials and sets no session."""
    reply = await http_server.http("POST", "/api/auth/session/", {"username": "bob", "password": "nope"})
    assert reply.status == 400
    assert reply.body == {
        "error": "invalid_credentials",
        "detail": "that username and password do not match an active user",
    }
    assert "sessionid" not in reply.cookies


async def test_session_login_without_a_password_is_400(http_server: ChatServer) -> None:
    """A body without a password answers 400 invalid_credentials too."""
    reply = await http_server.http("POST", "/api/auth/session/", {"username": "bob"})
    assert (reply.status, reply.body["error"]) == (400, "invalid_credentials")


async def test_session_login_with_a_broken_body_is_400(http_server: ChatServer) -> None:
    """A body labelled JSON that is not JSON answers 400 invalid_json."""
    headers = {"Content-Type": "application/json"}
    reply = await http_server.http("POST", "/api/auth/session/", form={"not": "json"}, headers=headers)
    assert (reply.status, reply.body["error"]) == (400, "invalid_json")


async def test_session_login_refuses_form_bodies(http_server: ChatServer) -> None:
    """Only JSON signs in (a cross-site form cannot): a form body answers 415."""
    reply = await http_server.http("POST", "/api/auth/session/", form=CREDENTIALS)
    assert (reply.status, reply.body["error"]) == (415, "unsupported_media_type")


async def test_logout_without_csrf_token_is_refused(http_server: ChatServer) -> None:
    """POST /api/auth/logout/ with the session cookie but no CSRF token answers 403 csrf_failed."""
    key, _ = await http_server.new_session("bob")
    reply = await http_server.http("POST", "/api/auth/logout/", {}, cookies={"sessionid": key})
    assert (reply.status, reply.body["error"]) == (403, "csrf_failed")


async def test_logout_ends_the_session(http_server: ChatServer) -> None:
    """A CSRF-protected logout answers {"ok": true}; the session no longer authenticates."""
    key, token = await http_server.new_session("bob")
    reply = await http_server.http("POST", "/api/auth/logout/", {}, **csrf(http_server, key, token))
    assert (reply.status, reply.body) == (200, {"ok": True})
    after = await http_server.http("GET", "/api/rooms/", cookies={"sessionid": key})
    assert (after.status, after.body["error"]) == (401, "unauthenticated")


async def test_logout_closes_the_sessions_sockets(http_server: ChatServer, sockets: Sockets) -> None:
    """Logging out closes the session's chat socket with 4499 logout."""
    key, token = await http_server.new_session("bob")
    socket = await sockets.open(http_server, "/ws/chat/", session_auth(key))
    await http_server.http("POST", "/api/auth/logout/", {}, **csrf(http_server, key, token))
    end = await socket.closure()
    assert (end.frame, end.code) == (disconnect_frame(4499, "logout"), 4499)


async def test_logout_without_session_is_401(http_server: ChatServer) -> None:
    """POST /api/auth/logout/ with no session answers 401 unauthenticated."""
    reply = await http_server.http("POST", "/api/auth/logout/", {})
    assert reply.status == 401
    assert reply.body == {
        "error": "unauthenticated",
        "detail": "Authentication credentials were not provided.",
    }


# Tokens and tickets ----------------------------------------------------------------------------


async def test_token_endpoint_answers_a_drf_token(http_server: ChatServer) -> None:
    """POST /api/auth/token/ with JSON answers {"token": <40 hex digits>}."""
    reply = await http_server.http("POST", "/api/auth/token/", CREDENTIALS)
    assert reply.status == 200
    assert list(reply.body) == ["token"]
    assert len(reply.body["token"]) == 40


async def test_token_endpoint_with_wrong_password_is_400(http_server: ChatServer) -> None:
    """A wrong password at /api/auth/token/ answers 400 invalid_credentials."""
    reply = await http_server.http("POST", "/api/auth/token/", {"username": "bob", "password": "nope"})
    assert reply.status == 400
    assert reply.body == {
        "error": "invalid_credentials",
        "detail": "that username and password do not match an active user",
    }


async def test_jwt_endpoint_with_wrong_password_is_400(http_server: ChatServer) -> None:
    """A wrong password at /api/auth/jwt/ answers 400 invalid_credentials, like the other sign-ins."""
    reply = await http_server.http("POST", "/api/auth/jwt/", {"username": "bob", "password": "nope"})
    assert reply.status == 400
    assert reply.body == {
        "error": "invalid_credentials",
        "detail": "that username and password do not match an active user",
    }


async def test_jwt_endpoint_answers_a_pair_that_refreshes(http_server: ChatServer) -> None:
    """POST /api/auth/jwt/ answers access and refresh; /api/auth/jwt/refresh/ trades refresh for access."""
    pair = await http_server.http("POST", "/api/auth/jwt/", CREDENTIALS)
    assert (pair.status, sorted(pair.body)) == (200, ["access", "refresh"])
    fresh = await http_server.http("POST", "/api/auth/jwt/refresh/", {"refresh": pair.body["refresh"]})
    assert (fresh.status, sorted(fresh.body)) == (200, ["access"])


async def test_jwt_refresh_with_a_bad_token_is_401(http_server: ChatServer) -> None:
    """A refresh token that is not one answers 401 token_not_valid."""
    reply = await http_server.http("POST", "/api/auth/jwt/refresh/", {"refresh": "not-a-token"})
    assert (reply.status, reply.body["error"]) == (401, "token_not_valid")


@pytest.mark.parametrize("kind", ["token", "jwt"])
async def test_ticket_for_a_token_or_jwt(http_server: ChatServer, kind: str) -> None:
    """POST /api/auth/ticket/ with a DRF token or a JWT answers a ticket valid 30 seconds."""
    credential = await http_server.token("bob") if kind == "token" else await http_server.jwt("bob")
    headers = {"Authorization": f"{'Token' if kind == 'token' else 'Bearer'} {credential}"}
    reply = await http_server.http("POST", "/api/auth/ticket/", {}, headers=headers)
    assert (reply.status, sorted(reply.body), reply.body["expires_in"]) == (200, ["expires_in", "ticket"], 30)


async def test_ticket_for_a_session_needs_csrf(http_server: ChatServer) -> None:
    """A session alone gets 403 csrf_failed from the ticket view; with the CSRF token, a ticket."""
    key, token = await http_server.new_session("bob")
    refused = await http_server.http("POST", "/api/auth/ticket/", {}, cookies={"sessionid": key})
    assert (refused.status, refused.body["error"]) == (403, "csrf_failed")
    granted = await http_server.http("POST", "/api/auth/ticket/", {}, **csrf(http_server, key, token))
    assert (granted.status, sorted(granted.body)) == (200, ["expires_in", "ticket"])


async def test_ticket_without_credentials_is_401(http_server: ChatServer) -> None:
    """POST /api/auth/ticket/ with no credentials answers 401 unauthenticated."""
    reply = await http_server.http("POST", "/api/auth/ticket/", {})
    assert (reply.status, reply.body["error"]) == (401, "unauthenticated")


# Rooms -----------------------------------------------------------------------------------------


async def test_rooms_lists_public_rooms_and_private_memberships(http_server: ChatServer) -> None:
    """A user sees the public lobby and the private rooms it belongs to, not the others."""
    username, token = http_server.db.create_user()
    mine = http_server.db.create_room(members=[username])
    http_server.db.create_room(members=["bob"])
    reply = await http_server.http("GET", "/api/rooms/", headers=token_headers(token))
    assert reply.status == 200
    assert reply.body == {
        "rooms": [
            {"slug": "lobby", "title": "Lobby", "private": False, "member": False},
            {"slug": mine, "title": f"Test {mine}", "private": True, "member": True},
        ]
    }


async def test_staff_sees_every_room(http_server: ChatServer) -> None:
    """alice (staff) sees private rooms she does not belong to, marked member: false."""
    room = http_server.db.create_room(members=["bob"])
    reply = await http_server.http(
        "GET", "/api/rooms/", headers=token_headers(await http_server.token("alice"))
    )
    listed = {entry["slug"]: entry for entry in reply.body["rooms"]}
    assert listed[room] == {"slug": room, "title": f"Test {room}", "private": True, "member": False}
    assert listed["private"] == {"slug": "private", "title": "Private", "private": True, "member": True}


async def test_rooms_needs_credentials(http_server: ChatServer) -> None:
    """GET /api/rooms/ with no credentials answers 401 unauthenticated."""
    reply = await http_server.http("GET", "/api/rooms/")
    assert (reply.status, reply.body["error"]) == (401, "unauthenticated")


async def test_rooms_with_a_bad_jwt_is_401(http_server: ChatServer) -> None:
    """A Bearer token that is not a valid JWT answers 401 token_not_valid."""
    reply = await http_server.http("GET", "/api/rooms/", headers={"Authorization": "Bearer not.a.jwt"})
    assert (reply.status, reply.body["error"]) == (401, "token_not_valid")


async def test_rooms_with_a_bad_drf_token_is_401(http_server: ChatServer) -> None:
    """A DRF token that does not exist answers 401 unauthenticated."""
    reply = await http_server.http("GET", "/api/rooms/", headers=token_headers("0" * 40))
    assert reply.status == 401
    assert reply.body == {"error": "unauthenticated", "detail": "Invalid token."}
    assert reply.headers["www-authenticate"] == 'Token realm="api"'


# History ---------------------------------------------------------------------------------------


async def history(server: ChatServer, room: str, query: str = "", username: str = "bob") -> Any:
    headers = token_headers(await server.token(username))
    return await server.http("GET", f"/api/rooms/{room}/messages/{query}", headers=headers)


async def test_history_pages_back_with_before(http_server: ChatServer) -> None:
    """limit=2 pages from the newest back: oldest first within a page, has_more until the first."""
    room = http_server.db.create_room(members=["bob"])
    ids = http_server.db.add_messages(room, "bob", ["m1", "m2", "m3", "m4", "m5"])
    pages = []
    query = "?limit=2"
    while True:
        reply = await history(http_server, room, query)
        assert reply.status == 200
        pages.append(([m["text"] for m in reply.body["messages"]], reply.body["has_more"]))
        if not reply.body["has_more"]:
            break
        query = f"?limit=2&before={reply.body['messages'][0]['id']}"
    assert pages == [(["m4", "m5"], True), (["m2", "m3"], True), (["m1"], False)]
    assert ids == sorted(ids)


async def test_history_defaults_to_the_last_50(http_server: ChatServer) -> None:
    """Without limit a page holds the 50 newest messages."""
    room = http_server.db.create_room(members=["bob"])
    http_server.db.add_messages(room, "bob", [f"n{i}" for i in range(51)])
    reply = await history(http_server, room)
    texts = [message["text"] for message in reply.body["messages"]]
    assert (texts, reply.body["has_more"]) == ([f"n{i}" for i in range(1, 51)], True)


async def test_history_message_equals_the_live_one(http_server: ChatServer, sockets: Sockets) -> None:
    """A message from history is the very object the room received live."""
    room = http_server.db.create_room(members=["bob"])
    socket = await sockets.room(http_server, room, "bob")
    text = unique_text()
    await socket.send({"type": "message", "text": text})
    live = await socket.receive()
    assert_message(live, room, "bob", text)
    reply = await history(http_server, room)
    assert reply.body == {"messages": [live], "has_more": False}


@pytest.mark.parametrize("query", ["?limit=0", "?limit=101", "?limit=ten", "?before=0", "?before=x"])
async def test_history_refuses_bad_parameters(http_server: ChatServer, query: str) -> None:
    """A limit outside 1..100 or a before that is not a positive id answers 400 bad_request."""
    reply = await history(http_server, "lobby", query)
    assert (reply.status, reply.body["error"]) == (400, "bad_request")


async def test_history_answers_a_private_room_like_an_unknown_one(http_server: ChatServer) -> None:
    """carol gets the same 404 for the private room as for a room that does not exist: no oracle."""
    private = await history(http_server, "private", username="carol")
    unknown = await history(http_server, "no-such-room", username="carol")
    assert (private.status, private.body) == (unknown.status, unknown.body)
    assert (private.status, private.body) == (404, {"error": "not_found", "detail": "no such room"})


async def test_history_of_a_private_room_is_served_to_members(http_server: ChatServer) -> None:
    """bob, a member, reads the private room's history."""
    room = http_server.db.create_room(members=["bob"])
    http_server.db.add_messages(room, "bob", ["secret"])
    reply = await history(http_server, room)
    assert (reply.status, [m["text"] for m in reply.body["messages"]]) == (200, ["secret"])


async def test_history_of_an_unknown_room_is_404(http_server: ChatServer) -> None:
    """An unknown room answers 404 not_found."""
    reply = await history(http_server, "no-such-room")
    assert reply.status == 404
    assert reply.body == {"error": "not_found", "detail": "no such room"}


# Room settings -----------------------------------------------------------------------------------


async def patch_room(server: ChatServer, room: str, payload: Any, username: str = "alice") -> Any:
    headers = token_headers(await server.token(username))
    return await server.http("PATCH", f"/api/rooms/{room}/", payload, headers=headers)


async def test_staff_makes_a_room_private(http_server: ChatServer) -> None:
    """PATCH {"private": true} by alice (staff) closes the room; carol no longer reads it."""
    room = http_server.db.create_room(private=False)
    reply = await patch_room(http_server, room, {"private": True})
    assert (reply.status, reply.body) == (200, {"slug": room, "title": f"Test {room}", "private": True})
    assert (await history(http_server, room, username="carol")).status == 404


async def test_room_settings_are_staff_only(http_server: ChatServer) -> None:
    """bob may not close a room: 403 forbidden, and the room stays public."""
    room = http_server.db.create_room(private=False)
    reply = await patch_room(http_server, room, {"private": True}, username="bob")
    assert (reply.status, reply.body["error"]) == (403, "forbidden")
    assert (await history(http_server, room, username="carol")).status == 200
    # Rooms lists are asserted exactly elsewhere: leave no public room behind.
    http_server.db.rows("UPDATE chat_room SET private = %s WHERE slug = %s", [True, room])


@pytest.mark.parametrize("payload", [{}, {"private": "yes"}, {"private": True, "title": "x"}])
async def test_room_settings_refuse_other_bodies(http_server: ChatServer, payload: Any) -> None:
    """Anything but {"private": <bool>} answers 400 bad_request."""
    reply = await patch_room(http_server, "lobby", payload)
    assert (reply.status, reply.body) == (
        400,
        {"error": "bad_request", "detail": "private: must be true or false, and the only field"},
    )


# Members ---------------------------------------------------------------------------------------


async def test_removal_by_staff_takes_the_member_out(http_server: ChatServer) -> None:
    """alice (staff) removes bob; bob no longer finds the room in his list."""
    room = http_server.db.create_room(members=["bob", "carol"])
    reply = await http_server.http(
        "POST",
        f"/api/rooms/{room}/members/bob/remove/",
        {},
        headers=token_headers(await http_server.token("alice")),
    )
    assert (reply.status, reply.body) == (200, {"ok": True})
    assert http_server.db.members(room) == ["carol"]


async def test_removal_by_non_staff_is_403(http_server: ChatServer) -> None:
    """bob may not remove carol: 403 forbidden, and carol stays."""
    room = http_server.db.create_room(members=["bob", "carol"])
    reply = await http_server.http(
        "POST",
        f"/api/rooms/{room}/members/carol/remove/",
        {},
        headers=token_headers(await http_server.token("bob")),
    )
    assert (reply.status, reply.body["error"]) == (403, "forbidden")
    assert http_server.db.members(room) == ["bob", "carol"]


@pytest.mark.parametrize(
    ("room", "username", "detail"),
    [("no-such-room", "bob", "no such room"), ("lobby", "nobody", "no such user")],
)
async def test_removal_of_unknown_names_is_404(
    http_server: ChatServer, room: str, username: str, detail: str
) -> None:
    """An unknown room or user answers 404 not_found."""
    reply = await http_server.http(
        "POST",
        f"/api/rooms/{room}/members/{username}/remove/",
        {},
        headers=token_headers(await http_server.token("alice")),
    )
    assert (reply.status, reply.body) == (404, {"error": "not_found", "detail": detail})


async def test_unknown_api_path_is_a_json_404(http_server: ChatServer) -> None:
    """A path under /api/ that names no endpoint answers 404 not_found in JSON."""
    reply = await http_server.http("GET", "/api/nothing/here/")
    assert (reply.status, reply.body) == (404, {"error": "not_found", "detail": "no such API endpoint"})


# The page --------------------------------------------------------------------------------------


async def test_index_renders_the_chat_page_for_a_session(http_server: ChatServer) -> None:
    """GET / with a session answers the chat page (HTML), not the login form."""
    reply = await http_server.http("GET", "/", cookies={"sessionid": await http_server.session("bob")})
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    assert 'name="password"' not in reply.body
