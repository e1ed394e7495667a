"""What a transport finds: a credential, checked for shape before anyone decodes it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .exceptions import BadRequest

# RFC 6750 b64token: covers JWTs (base64url), DRF and knox keys (hex), tickets and session keys.
TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
# Session keys: Django's are alphanumeric; signed-cookie sessions add ':' (value:timestamp:signature).
SESSION_KEY = re.compile(r"[A-Za-z0-9\-._~+/:=]+")


@dataclass(frozen=True, slots=True)
class Credential:
    """A secret found in the handshake.

    Attributes:
        scheme: lower-case name of what the secret claims to be (``bearer``, ``token``, ``session``);
            authenticators claim schemes.
        secret: the secret itself; kept out of ``repr`` so it cannot leak into logs.
        transport: name of the transport that found it, for ``scope["auth"]`` and log lines.
        ambient: ``True`` when a browser attaches it by itself (cookies), so it proves nothing
            unless the Origin is trusted.
    """

    scheme: str
    secret: str = field(repr=False)
    transport: str
    ambient: bool = False


def checked_secret(raw: bytes | str, *, max_bytes: int, what: str, shape: re.Pattern[str] = TOKEN) -> str:
    """Return ``raw`` as text if it has the shape of a token; raise ``BadRequest`` otherwise.

    The size check comes first so that a megabyte of garbage costs one ``len``.
    """
    size = len(raw.encode("utf-8", "surrogatepass")) if isinstance(raw, str) else len(raw)
    if size > max_bytes:
        raise BadRequest(f"{what} is {size} bytes, over the {max_bytes}-byte limit")
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("ascii")
        except UnicodeDecodeError:
            raise BadRequest(f"{what} contains non-ASCII bytes") from None
    if not shape.fullmatch(raw):
        raise BadRequest(f"{what} contains characters no token has (space, control, non-ASCII)")
    return raw
