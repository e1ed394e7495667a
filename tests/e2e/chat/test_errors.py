"""Every bad frame gets its error frame and the socket survives; abuse closes it with 4429."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ..lifecycle import disconnect_frame
from .support import ChatServer, Sockets, assert_message, error, unique_text

MISSING_TEXT = error("missing_field", "'text' must be a non-empty string")

#: Bad frames for /ws/chat/<room>/ and the error each one gets.
ROOM_FRAMES: dict[str, tuple[Any, dict[str, Any]]] = {
    "not-json": ("hello", error("invalid_json", "frame is not JSON")),
    "json-array": ("[1, 2]", error("invalid_json", "frame is not a JSON object")),
    "json-string": ('"message"', error("invalid_json", "frame is not a JSON object")),
    "no-type": ({"text": "hi"}, error("missing_field", "frame has no 'type'")),
    "unknown-type": ({"type": "shout"}, error("unknown_type", "type 'shout' is not one of: message")),
    "join-on-room-route": (
        {"type": "join", "room": "lobby"},
        error("unknown_type", "type 'join' is not one of: message"),
    ),
    "no-text": ({"type": "message"}, MISSING_TEXT),
    "empty-text": ({"type": "message", "text": ""}, MISSING_TEXT),
    "blank-text": ({"type": "message", "text": " \n\t"}, MISSING_TEXT),
    "number-text": ({"type": "message", "text": 42}, MISSING_TEXT),
    "text-too-long": (
        {"type": "message", "text": "x" * 2001},
        error("text_too_long", "text is 2001 characters; the limit is 2000"),
    ),
    "frame-too-long": ("x" * 30000, error("text_too_long", "frame is over 25024 characters")),
    "binary": (
        b'{"type": "message", "text": "hi"}',
        error("binary_not_supported", "send JSON in text frames"),
    ),
}

FORBIDDEN = "you may not join this room"


@pytest.mark.parametrize("case", list(ROOM_FRAMES))
async def test_bad_frame_on_room_socket_gets_its_error(
    chat_server: ChatServer, sockets: Sockets, case: str
) -> None:
    """A bad frame on /ws/chat/<room>/ gets its exact error frame, and the socket keeps working."""
    bad, expected = ROOM_FRAMES[case]
    room = chat_server.db.create_room(members=["alice"])
    socket = await sockets.room(chat_server, room, "alice")
    await socket.send(bad)
    assert await socket.receive() == expected
    text = unique_text()
    await socket.send({"type": "message", "text": text})
    assert_message(await socket.receive(), room, "alice", text)


def multi_frames(joined: str, private: str) -> dict[str, tuple[Any, dict[str, Any]]]:
    """Bad frames for /ws/chat/, given a joined room and a private room alice is not in."""
    return {
        "not-json": ("{", error("invalid_json", "frame is not JSON")),
        "unknown-type": (
            {"type": "shout", "room": joined},
            error("unknown_type", "type 'shout' is not one of: join, leave, message"),
        ),
        "join-without-room": ({"type": "join"}, error("missing_field", "'room' must be a non-empty string")),
        "message-without-room": (
            {"type": "message", "text": "hi"},
            error("missing_field", "'room' must be a non-empty string"),
        ),
        "message-without-text": ({"type": "message", "room": joined}, MISSING_TEXT),
        "message-to-room-not-joined": (
            {"type": "message", "room": private, "text": "hi"},
            error("not_joined", f"join room {private!r} first", room=private),
        ),
        "leave-room-not-joined": (
            {"type": "leave", "room": private},
            error("not_joined", f"join room {private!r} first", room=private),
        ),
        "join-private-room": ({"type": "join", "room": private}, error("forbidden", FORBIDDEN, room=private)),
        "join-unknown-room": (
            {"type": "join", "room": "no-such-room"},
            error("forbidden", FORBIDDEN, room="no-such-room"),
        ),
        "join-malformed-room": (
            {"type": "join", "room": "../lobby"},
            error("forbidden", FORBIDDEN, room="../lobby"),
        ),
        "text-too-long": (
            {"type": "message", "room": joined, "text": "y" * 2001},
            error("text_too_long", "text is 2001 characters; the limit is 2000"),
        ),
        "binary": (b"\x00\x01", error("binary_not_supported", "send JSON in text frames")),
    }


MULTI_CASES = list(multi_frames("joined", "private"))


@pytest.mark.parametrize("case", MULTI_CASES)
async def test_bad_frame_on_multi_room_socket_gets_its_error(
    chat_server: ChatServer, sockets: Sockets, case: str
) -> None:
    """A bad frame on /ws/chat/ gets its exact error frame, and the socket keeps working (bob, not staff)."""
    joined = chat_server.db.create_room(members=["bob"])
    private = chat_server.db.create_room(members=["carol"])
    bad, expected = multi_frames(joined, private)[case]
    socket = await sockets.multi(chat_server, "bob")
    await socket.send({"type": "join", "room": joined})
    await socket.receive_all(2)
    await socket.send(bad)
    assert await socket.receive() == expected
    text = unique_text()
    await socket.send({"type": "message", "room": joined, "text": text})
    assert_message(await socket.receive(), joined, "bob", text)


async def test_eleventh_message_in_five_seconds_is_rate_limited(
    chat_server: ChatServer, sockets: Sockets
) -> None:
    """Ten messages go through; the eleventh gets rate_limited and is neither stored nor sent."""
    room = chat_server.db.create_room(members=["alice"])
    socket = await sockets.room(chat_server, room, "alice")
    texts = [unique_text() for _ in range(11)]
    for text in texts:
        await socket.send({"type": "message", "text": text})
    received = await socket.receive_all(11)
    for frame, text in zip(received[:10], texts, strict=False):
        assert_message(frame, room, "alice", text)
    assert received[10] == error("rate_limited", "too many messages; wait a few seconds")
    assert chat_server.db.message_ids(texts[10]) == []


async def test_twenty_bad_frames_close_the_socket_with_4429(
    chat_server: ChatServer, sockets: Sockets
) -> None:
    """The twentieth error frame within a minute is followed by warden's 4429 frame and the close."""
    room = chat_server.db.create_room(members=["alice"])
    socket = await sockets.room(chat_server, room, "alice")
    for _ in range(20):
        await socket.send("not json")
    end = await socket.closure()
    assert [frame for _, frame in end.before] == [error("invalid_json", "frame is not JSON")] * 20
    assert end.frame == disconnect_frame(4429, retry_after=60)
    assert end.code == 4429


async def test_nineteen_bad_frames_keep_the_socket(chat_server: ChatServer, sockets: Sockets) -> None:
    """Nineteen error frames within a minute do not close the socket."""
    room = chat_server.db.create_room(members=["alice"])
    socket = await sockets.room(chat_server, room, "alice")
    for _ in range(19):
        await socket.send(json.dumps({"type": "message"}))
    assert await socket.receive_all(19) == [MISSING_TEXT] * 19
    text = unique_text()
    await socket.send({"type": "message", "text": text})
    assert_message(await socket.receive(), room, "alice", text)
