"""The chat's WebSocket protocol as pure functions: read a client frame, build a server frame.

Nothing here does I/O, so every rule of ``docs/chat-protocol.md`` lives in one place and the
consumers only move bytes. A bad frame raises :class:`FrameError`, which carries the stable error
code the client receives; the socket stays open. :class:`SocketLimits` counts a socket's messages
and errors against the rate and abuse limits, with the clock passed in.
"""

from __future__ import annotations

import enum
import json
import re
from collections import deque
from datetime import UTC, datetime
from typing import Any

#: Longest message text, in characters.
MAX_TEXT = 2000
#: Longest frame read at all; anything longer is refused before it is parsed. Room for MAX_TEXT
#: characters written as JSON escapes (up to 12 characters each: "\\ud83d\\ude00").
MAX_FRAME_CHARS = 12 * MAX_TEXT + 1024
#: At most this many messages per socket in any window of RATE_WINDOW seconds.
RATE_MESSAGES = 10
RATE_WINDOW = 5.0
#: This many error frames within ABUSE_WINDOW seconds close the socket with 4429.
ABUSE_ERRORS = 20
ABUSE_WINDOW = 60
#: Rooms are named by slugs, as in the URL ``/ws/chat/<slug>/``.
SLUG = re.compile(r"[-a-zA-Z0-9_]{1,50}")
#: Longest client-chosen value echoed back in an error's detail.
ECHO_CHARS = 40


class ErrorCode(enum.StrEnum):
    """The ``code`` of an ``{"type": "error"}`` frame. Stable: clients branch on it."""

    INVALID_JSON = "invalid_json"
    UNKNOWN_TYPE = "unknown_type"
    MISSING_FIELD = "missing_field"
    TEXT_TOO_LONG = "text_too_long"
    RATE_LIMITED = "rate_limited"
    NOT_JOINED = "not_joined"
    FORBIDDEN = "forbidden"
    BINARY_NOT_SUPPORTED = "binary_not_supported"


class FrameError(Exception):
    """A client frame the server will not act on; the client gets :meth:`frame` and the socket stays."""

    def __init__(self, code: ErrorCode, detail: str, *, room: str | None = None) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.room = room

    def frame(self) -> dict[str, Any]:
        return error_frame(self.code, self.detail, room=self.room)


def _shown(value: object) -> str:
    """A client value, cut short, for an error detail."""
    return repr(value)[:ECHO_CHARS]


def parse_frame(text: str, kinds: frozenset[str]) -> dict[str, Any]:
    """The JSON object in ``text``, whose ``type`` must be one of ``kinds``."""
    if len(text) > MAX_FRAME_CHARS:
        raise FrameError(ErrorCode.TEXT_TOO_LONG, f"frame is over {MAX_FRAME_CHARS} characters")
    try:
        frame = json.loads(text)
    except ValueError:
        raise FrameError(ErrorCode.INVALID_JSON, "frame is not JSON") from None
    if not isinstance(frame, dict):
        raise FrameError(ErrorCode.INVALID_JSON, "frame is not a JSON object")
    kind = frame.get("type")
    if kind is None:
        raise FrameError(ErrorCode.MISSING_FIELD, "frame has no 'type'")
    if kind not in kinds:
        expected = ", ".join(sorted(kinds))
        raise FrameError(ErrorCode.UNKNOWN_TYPE, f"type {_shown(kind)} is not one of: {expected}")
    return frame


def required_string(frame: dict[str, Any], field: str) -> str:
    """``frame[field]``, which must be a string with something other than whitespace in it."""
    value = frame.get(field)
    if not isinstance(value, str) or not value.strip():
        raise FrameError(ErrorCode.MISSING_FIELD, f"'{field}' must be a non-empty string")
    return value


def message_text(frame: dict[str, Any]) -> str:
    """The ``text`` of a message frame, as sent (not stripped), at most ``MAX_TEXT`` characters."""
    text = required_string(frame, "text")
    if len(text) > MAX_TEXT:
        raise FrameError(ErrorCode.TEXT_TOO_LONG, f"text is {len(text)} characters; the limit is {MAX_TEXT}")
    return text


def room_slug(frame: dict[str, Any]) -> str:
    """The ``room`` a multi-room frame names (not yet checked against the database)."""
    return required_string(frame, "room")


def is_slug(value: str) -> bool:
    return SLUG.fullmatch(value) is not None


# Server frames ---------------------------------------------------------------------------------


def error_frame(code: ErrorCode, detail: str, *, room: str | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "code": str(code), "detail": detail}
    if room is not None:
        frame["room"] = room
    return frame


def timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a ``Z``: ``2025-01-31T12:00:00.123Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def message_frame(*, room: str, user: str, text: str, message_id: int, created: datetime) -> dict[str, Any]:
    """A chat message as clients see it, live and in history alike."""
    return {
        "type": "message",
        "room": room,
        "user": user,
        "text": text,
        "id": message_id,
        "ts": timestamp(created),
    }


def presence_frame(room: str, users: list[str]) -> dict[str, Any]:
    return {"type": "presence", "room": room, "users": users}


def joined_frame(room: str) -> dict[str, Any]:
    return {"type": "joined", "room": room}


def left_frame(room: str, reason: str | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "left", "room": room}
    if reason is not None:
        frame["reason"] = reason
    return frame


def dumps(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


# Limits ----------------------------------------------------------------------------------------


class SocketLimits:
    """One socket's message rate and error count, over sliding windows; times are monotonic seconds."""

    def __init__(
        self,
        *,
        messages: int = RATE_MESSAGES,
        window: float = RATE_WINDOW,
        errors: int = ABUSE_ERRORS,
        error_window: float = ABUSE_WINDOW,
    ) -> None:
        self.messages, self.window = messages, window
        self.errors, self.error_window = errors, error_window
        self._sent: deque[float] = deque()
        self._errors: deque[float] = deque()

    @staticmethod
    def _trim(times: deque[float], since: float) -> None:
        while times and times[0] <= since:
            times.popleft()

    def allow_message(self, now: float) -> bool:
        """Count a message sent at ``now``; ``False`` (and not counted) when over the rate."""
        self._trim(self._sent, now - self.window)
        if len(self._sent) >= self.messages:
            return False
        self._sent.append(now)
        return True

    def count_error(self, now: float) -> bool:
        """Count an error frame sent at ``now``; ``True`` when the socket has had enough of them."""
        self._trim(self._errors, now - self.error_window)
        self._errors.append(now)
        return len(self._errors) >= self.errors
