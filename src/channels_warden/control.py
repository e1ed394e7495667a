"""Warden's control frames on a live socket, told apart from the application's without parsing them.

Clients talk to warden with small JSON frames whose ``type`` starts with ``warden.`` (``warden.auth``,
``warden.refresh``); that type namespace is reserved, and such a frame never reaches the application,
however it is written. Finding them must not cost the application a JSON parse of every frame, so a
frame is looked at in steps, each bounded:

1. a frame whose decoded text cannot contain ``"warden.`` passes at once: it has neither the marker
   nor a ``\\u`` escape that could spell it (``"\\u0077arden.refresh"``);
2. a frame larger than a credential plus :data:`ENVELOPE_BYTES` is never parsed: if a ``"type"``
   key anywhere in it names a ``warden.`` type it is refused with 4400, otherwise it passes;
3. a frame nested deeper than :data:`MAX_DEPTH` is never parsed either (no ``RecursionError`` can
   come out of here): refused with 4400 if it names a ``warden.`` type, passed on otherwise;
4. what is left (small, shallow, with the marker) is parsed; a JSON object whose top-level ``type``
   is a string starting with ``warden.`` is a control frame.

Binary frames are judged the same way once decoded as UTF-8 (the only encoding JSON has), since an
application may well parse them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .exceptions import BadRequest

MARKER = '"warden.'
#: Room for the JSON around a credential in a control frame.
ENVELOPE_BYTES = 1024
#: A control frame is one flat object; anything deeper is not one.
MAX_DEPTH = 8

#: The ``\\uXXXX`` escapes that can spell ``type`` or ``warden.``: lower-case ASCII letters and ``.``.
#: Text full of other escapes (``json.dumps`` escapes every non-ASCII character) costs no callback.
_UNICODE_ESCAPE = re.compile(r"\\u(00(?:[67][0-9a-fA-F]|2[eE]))")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]")
#: A ``"type"`` key with a ``warden.`` value, at any depth (over-approximate on purpose).
_WARDEN_TYPE = re.compile(r'"type"\s*:\s*"warden\.')


def _unescaped(text: str) -> str:
    """``text`` with the escapes that could spell ``warden.`` decoded: enough to see what it spells.

    Not a JSON decoder (``\\\\u0077`` is decoded too), but it never hides a ``warden.`` type, which
    is all it is used for: it may only make a frame look like a control frame when it is not one.
    """
    if "\\u" not in text:
        return text
    return _UNICODE_ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text)


def _too_deep(text: str, limit: int) -> bool:
    """Whether the brackets of ``text`` outside its strings nest deeper than ``limit``."""
    depth = 0
    for bracket in _NOT_BRACKET.sub("", _STRING.sub("", text)):
        if bracket in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def parse_control(text: str | bytes | None, *, max_bytes: int) -> dict[str, Any] | None:
    """The control frame carried by ``text``, or ``None`` when it is an application frame.

    Raises:
        BadRequest: the frame names a ``warden.`` type but is too large or too deeply nested to be
            one; the caller closes the socket with 4400 and the frame goes nowhere.
    """
    if isinstance(text, bytes):
        if b'"warden.' not in text and b"\\u" not in text:
            return None
        try:
            text = text.decode()
        except UnicodeDecodeError:
            return None
    if text is None or (MARKER not in text and "\\u" not in text):
        return None
    decoded = _unescaped(text)
    if MARKER not in decoded:
        return None
    if len(text) > max_bytes + ENVELOPE_BYTES:
        if _WARDEN_TYPE.search(decoded):
            raise BadRequest(f"warden control frame of {len(text)} characters is over the size limit")
        return None
    if _too_deep(text, MAX_DEPTH):
        if _WARDEN_TYPE.search(decoded):
            raise BadRequest(f"warden control frame nested deeper than {MAX_DEPTH}")
        return None
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if isinstance(payload, dict):
        kind = payload.get("type")
        if isinstance(kind, str) and kind.startswith("warden."):
            return payload
    return None


def event_payload(event: Mapping[str, Any]) -> str | bytes | None:
    """The text of a ``websocket.receive`` event, or its bytes when it is a binary frame."""
    text: str | None = event.get("text")
    if text is not None:
        return text
    data: bytes | None = event.get("bytes")
    return data


def frame_token(frame: dict[str, Any]) -> tuple[str | None, str]:
    """The ``(scheme, token)`` of a ``warden.auth`` or ``warden.refresh`` frame.

    ``scheme`` is ``None`` when the client did not name one (the caller picks a default).
    """
    token = frame.get("token")
    scheme = frame.get("scheme")
    if not isinstance(token, str) or not token:
        raise BadRequest(f"{frame.get('type')} frame without a token string")
    if scheme is not None and not isinstance(scheme, str):
        raise BadRequest(f"{frame.get('type')} frame with a non-string scheme")
    return (scheme.lower() if scheme else None), token


def dumps(frame: dict[str, Any]) -> str:
    """Serialise a frame the way every warden frame is sent."""
    return json.dumps(frame, separators=(",", ":"))
