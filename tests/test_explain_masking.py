"""What warden_explain shows of a credential: its kind, length and a JWT's claims, never the secret."""

from __future__ import annotations

import base64
import json

from channels_warden.explain.masking import masked, shown_cookies, shown_query, shown_subprotocol


def jwt(payload: dict[str, object]) -> str:
    def part(data: dict[str, object] | bytes) -> str:
        raw = data if isinstance(data, bytes) else json.dumps(data).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return ".".join((part({"alg": "HS256"}), part(payload), part(b"s" * 32)))


def test_opaque_secret_is_its_length() -> None:
    """A DRF key shows as its length only."""
    assert masked("9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b") == "[40 characters]"


def test_jwt_shows_type_user_and_expiry() -> None:
    """A JWT shows token type, user id and whether exp passed, read without verifying."""
    token = jwt({"token_type": "refresh", "user_id": 7, "exp": 1})
    assert masked(token) == (
        f"[JWT, {len(token)} characters: token_type='refresh', user_id=7, "
        "exp expired 1970-01-01 00:00:01 UTC]"
    )


def test_unreadable_jwt_payload() -> None:
    """A JWT-shaped string whose payload is not JSON says so."""
    assert masked("eyJ.e30x.sig") == "[JWT, 12 characters: payload unreadable]"


def test_subprotocol_names_stay_and_tokens_go() -> None:
    """'warden' and 'chat.v1' are shown; 'bearer.<token>' keeps its scheme, masks the token."""
    shown = [shown_subprotocol(entry) for entry in ("warden", "chat.v1", "bearer." + "a" * 40)]
    assert shown == ["warden", "chat.v1", "bearer.[40 characters]"]


def test_query_and_cookie_values_are_masked() -> None:
    """Every query and cookie value is masked; the names stay."""
    assert (shown_query(b"token=abcdef&room=1"), shown_cookies("key=abc; csrftoken=xy")) == (
        "token=[6 characters]&room=[1 characters]",
        "key=[3 characters]; csrftoken=[2 characters]",
    )
