"""Warm-up: one admit and one reject through each real server."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async

from channels_warden.testing import credential_for

pytestmark = pytest.mark.django_db(transaction=True)


async def test_drf_token_in_header_is_admitted(ws: Any, make_user: Any) -> None:
    """A DRF token in the Authorization header opens the socket as its user."""
    user = await database_sync_to_async(make_user)()
    token = await database_sync_to_async(credential_for)(user, "drf")
    outcome = await ws.handshake("/ws/echo/", headers=[("Authorization", f"Token {token}")])
    assert outcome.whoami is not None
    assert outcome.whoami["user"] == "alice"
    assert outcome.whoami["transport"] == "header"
    assert "authorization" not in outcome.whoami["headers"]


async def test_no_credentials_closes_with_4401(ws: Any) -> None:
    """A handshake without credentials is accepted, told why, and closed with 4401."""
    outcome = await ws.handshake("/ws/echo/")
    assert outcome.frame == {
        "type": "warden.disconnect",
        "code": 4401,
        "reason": "unauthenticated",
        "reconnect": "refresh",
    }
    assert outcome.close_code == 4401
