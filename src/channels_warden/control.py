"""Warden's control frames on a live socket, told apart from the application's without parsing them.

Clients talk to warden with small JSON text frames whose ``type`` starts with ``warden.``
(``warden.auth``, ``warden.refresh``); that type namespace is reserved. Finding them must not cost
the application a JSON parse of every frame, so a frame is only parsed when it is small enough to be
a control frame and contains the marker ``"warden.``; everything else passes through untouched.
"""

from __future__ import annotations

import json
from typing import Any

from .exceptions import BadRequest

MARKER = '"warden.'
#: Room for the JSON around a credential in a control frame.
ENVELOPE_BYTES = 1024


def parse_control(text: str | None, *, max_bytes: int) -> dict[str, Any] | None:
    """The control frame carried by ``text``, or ``None`` when it is an application frame."""
    if text is None or len(text) > max_bytes + ENVELOPE_BYTES or MARKER not in text:
        return None
    try:
        payload = json.loads(text)
    except ValueError:
        return None
    if isinstance(payload, dict) and str(payload.get("type", "")).startswith("warden."):
        return payload
    return None


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
