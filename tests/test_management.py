"""manage.py warden_disconnect."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from channels_warden.management.commands import warden_disconnect

pytestmark = pytest.mark.django_db


@pytest.fixture
def revocations(monkeypatch: pytest.MonkeyPatch, settings: Any) -> list[dict[str, Any]]:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer"}}
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(warden_disconnect, "disconnect_sync", lambda **kwargs: sent.append(kwargs))
    return sent


def test_disconnects_every_session_of_a_user(make_user: Any, revocations: list[dict[str, Any]]) -> None:
    """--user closes all the user's sockets and says so."""
    user = make_user()
    out = StringIO()
    call_command("warden_disconnect", user="alice", stdout=out)
    assert (revocations, out.getvalue()) == (
        [{"user": user.pk, "session_key": None, "reason": "revoked"}],
        "Asked every process to close alice's sockets (all sessions).\n",
    )


def test_disconnects_one_session(make_user: Any, revocations: list[dict[str, Any]]) -> None:
    """--session narrows it to the sockets of one session, with a custom reason."""
    user = make_user()
    out = StringIO()
    call_command("warden_disconnect", user="alice", session="sess-1", reason="admin", stdout=out)
    assert (revocations, out.getvalue()) == (
        [{"user": user.pk, "session_key": "sess-1", "reason": "admin"}],
        "Asked every process to close alice's sockets (session sess-1).\n",
    )


def test_unknown_user_is_an_error(revocations: list[dict[str, Any]]) -> None:
    """A username that does not exist is a CommandError, and nothing is broadcast."""
    with pytest.raises(CommandError, match=r"^no user named 'nobody'$"):
        call_command("warden_disconnect", user="nobody")
    assert revocations == []


@pytest.mark.parametrize("reason", ["", "x" * 65])
def test_reason_must_be_short(make_user: Any, revocations: list[dict[str, Any]], reason: str) -> None:
    """The public reason must be 1 to 64 bytes (it goes into the close frame)."""
    make_user()
    with pytest.raises(CommandError, match=r"^--reason must be 1 to 64 bytes$"):
        call_command("warden_disconnect", user="alice", reason=reason)
    assert revocations == []


def test_process_local_layer_is_said_plainly(
    make_user: Any, revocations: list[dict[str, Any]], settings: Any
) -> None:
    """With InMemoryChannelLayer the command closes nothing, says so and fails (no false success)."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    make_user()
    with pytest.raises(CommandError) as exc_info:
        call_command("warden_disconnect", user="alice")
    assert (str(exc_info.value), revocations) == (
        "Closed nothing: CHANNEL_LAYERS['default'] is InMemoryChannelLayer, which each process keeps to "
        "itself, so this command cannot reach any server process. Configure a shared channel layer such "
        "as 'channels_redis.core.RedisChannelLayer' (system check channels_warden.W005).",
        [],
    )
