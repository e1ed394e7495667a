"""``manage.py warden_revoke_group``: take a user's sockets out of a group in every server process."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from channels_warden.groups import revoke_membership_sync
from channels_warden.groups.patterns import is_valid_group_name
from channels_warden.groups.revoke import MAX_REASON_BYTES


class Command(BaseCommand):
    help = (
        "Take a user's live WebSocket connections (or everyone's, with --everyone) out of a group; "
        "the sockets stay open and receive a warden.left frame."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--group", required=True, help="the group name, e.g. chat.lobby")
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--user", help="username of the user whose sockets leave the group")
        who.add_argument("--everyone", action="store_true", help="every socket that holds the group")
        parser.add_argument("--reason", default="revoked", help="short public reason sent to the clients")
        parser.add_argument(
            "--wait",
            type=float,
            default=2.0,
            help="seconds to wait for every process to confirm (0: do not wait)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        group, reason, wait = options["group"], options["reason"], options["wait"]
        if not is_valid_group_name(group):
            raise CommandError(f"{group!r} is not a group name (ASCII letters, digits, '-', '_', '.')")
        if not reason or len(reason.encode()) > MAX_REASON_BYTES:
            raise CommandError(f"--reason must be 1 to {MAX_REASON_BYTES} bytes")
        if wait < 0:
            raise CommandError("--wait must be 0 or more seconds")
        user, who = None, "every socket"
        if options["user"]:
            model = get_user_model()
            try:
                user = model._default_manager.get_by_natural_key(options["user"])
            except model.DoesNotExist:
                raise CommandError(f"no user named {options['user']!r}") from None
            who = f"{user.get_username()}'s sockets"
        confirmation = revoke_membership_sync(user, group, reason=reason, wait=wait or None)
        if confirmation is None:
            self.stdout.write(f"Asked every process to take {who} out of {group}.")
            return
        self.stdout.write(
            f"Took {who} out of {group}: {confirmation.removed} socket(s) in "
            f"{len(confirmation.answered)} process(es) that answered."
        )
        if not confirmation.complete:
            raise CommandError(f"no confirmation within {wait}s from: {', '.join(confirmation.missing)}")
