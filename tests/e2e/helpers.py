"""Expected frames and credential minting shared by the end-to-end tests.

The expected frames are written out from the close-code table in DESIGN.md rather than computed
from ``channels_warden.codes``: the table is the contract, and a change to it must fail here.
Credentials are always minted in the test (never a literal token in the source).
"""

from __future__ import annotations

import time
import uuid
import warnings
from typing import Any

import jwt
from channels.db import database_sync_to_async

from channels_warden.testing import CredentialKind, credential_for

#: close code -> (reason, reconnect), from DESIGN.md.
TABLE = {
    4400: ("bad_request", "never"),
    4401: ("unauthenticated", "refresh"),
    4403: ("forbidden", "never"),
    4500: ("internal", "backoff"),
}


def disconnect(code: int, reason: str | None = None) -> dict[str, Any]:
    """The ``warden.disconnect`` frame a client must receive before close ``code``."""
    default_reason, reconnect = TABLE[code]
    return {
        "type": "warden.disconnect",
        "code": code,
        "reason": reason or default_reason,
        "reconnect": reconnect,
    }


def assert_refused(outcome: Any, code: int, reason: str | None = None) -> None:
    """The socket opened, warden sent its frame and closed with ``code``; the consumer never answered."""
    assert outcome.whoami is None
    assert outcome.frame == disconnect(code, reason)
    assert outcome.close_code == code


async def mint(user: Any, kind: CredentialKind) -> str:
    """A fresh credential of ``kind`` for ``user``, minted the way its library mints it."""
    secret: str = await database_sync_to_async(credential_for)(user, kind)
    return secret


@database_sync_to_async
def create_user(make_user: Any, username: str = "alice", **fields: Any) -> Any:
    return make_user(username=username, **fields)


def access_claims(user: Any) -> dict[str, Any]:
    """The claims SimpleJWT itself puts in an access token for ``user`` (aud/iss included if set)."""
    from rest_framework_simplejwt.settings import api_settings
    from rest_framework_simplejwt.tokens import AccessToken

    claims = dict(AccessToken.for_user(user).payload)
    if api_settings.AUDIENCE is not None:
        claims["aud"] = api_settings.AUDIENCE
    if api_settings.ISSUER is not None:
        claims["iss"] = api_settings.ISSUER
    return claims


def signing_key() -> str:
    from rest_framework_simplejwt.settings import api_settings

    return str(api_settings.SIGNING_KEY)


def crafted_jwt(
    claims: dict[str, Any], *, algorithm: str = "HS256", key: str | None = None, drop: tuple[str, ...] = ()
) -> str:
    """Sign ``claims`` (minus ``drop``) with PyJWT, by default exactly as SimpleJWT is configured."""
    payload = {name: value for name, value in claims.items() if name not in drop}
    if algorithm == "none":
        return jwt.encode(payload, None, algorithm="none")
    with warnings.catch_warnings():
        # PyJWT warns that the HS256 key is short for HS512; an attacker swapping algorithms won't care.
        warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)
        return jwt.encode(payload, signing_key() if key is None else key, algorithm=algorithm)


def now() -> int:
    return int(time.time())


def unique() -> str:
    """A marker that appears nowhere else in a server's log."""
    return uuid.uuid4().hex
