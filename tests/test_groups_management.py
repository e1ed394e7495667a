"""``manage.py warden_revoke_group``."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command

from channels_warden.groups.processes import INDEX_KEY

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("warden_revoke_group", *args, stdout=out)
    return out.getvalue()


def test_without_wait_the_command_only_asks(make_user: Any) -> None:
    """``--wait 0`` broadcasts and says so."""
    make_user("alice")
    assert run("--user", "alice", "--group", "chat.lobby", "--wait", "0") == (
        "Asked every process to take alice's sockets out of chat.lobby.\n"
    )


def test_waiting_command_reports_the_confirmations() -> None:
    """With nobody holding memberships, the wait is over at once and reports zero sockets."""
    cache.delete(INDEX_KEY)
    assert run("--everyone", "--group", "chat.lobby", "--wait", "1") == (
        "Took every socket out of chat.lobby: 0 socket(s) in 0 process(es) that answered.\n"
    )


def test_missing_process_fails_the_command() -> None:
    """A listed process that does not confirm makes the command fail, naming it."""
    cache.set(INDEX_KEY, ["deadbeef0000"], None)
    cache.set("warden.groups.process.deadbeef0000", 1.0, 60)
    with pytest.raises(CommandError, match=r"no confirmation within 0\.2s from: deadbeef0000"):
        run("--everyone", "--group", "chat.lobby", "--wait", "0.2")
    cache.delete(INDEX_KEY)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--user", "nobody", "--group", "chat.lobby"), "no user named 'nobody'"),
        (("--everyone", "--group", "chat lobby"), "is not a group name"),
        (("--everyone", "--group", "chat.lobby", "--reason", "x" * 65), "--reason must be 1 to 64 bytes"),
        (("--everyone", "--group", "chat.lobby", "--wait", "-1"), "--wait must be 0 or more"),
    ],
)
def test_bad_arguments_are_refused(args: tuple[str, ...], message: str) -> None:
    """Unknown users, bad names, long reasons and negative waits are command errors."""
    with pytest.raises(CommandError, match=message):
        run(*args)
