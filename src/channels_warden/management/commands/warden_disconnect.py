"""``manage.py warden_disconnect``: close a user's live sockets in every server process."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from channels_warden.processes import SHARED_LAYER, process_local_layer
from channels_warden.revocation import disconnect_sync


class Command(BaseCommand):
    help = "Close live WebSocket connections of a user (optionally of one session) with close code 4499."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="username of the user whose sockets to close")
        parser.add_argument("--session", help="only the sockets opened with this session key")
        parser.add_argument("--reason", default="revoked", help="short public reason sent to the clients")

    def handle(self, *args: Any, **options: Any) -> None:
        model = get_user_model()
        try:
            user = model._default_manager.get_by_natural_key(options["user"])
        except model.DoesNotExist:
            raise CommandError(f"no user named {options['user']!r}") from None
        reason = options["reason"]
        if not reason or len(reason.encode()) > 64:
            raise CommandError("--reason must be 1 to 64 bytes")
        local = process_local_layer()
        if local is not None:
            # This command is a process of its own: a process-local layer reaches no server.
            raise CommandError(
                f"Closed nothing: {local}, so this command cannot reach any server process. "
                f"Configure a shared channel layer such as {SHARED_LAYER!r} (system check "
                "channels_warden.W005)."
            )
        disconnect_sync(user=user.pk, session_key=options["session"], reason=reason)
        scope = f"session {options['session']}" if options["session"] else "all sessions"
        self.stdout.write(f"Asked every process to close {user.get_username()}'s sockets ({scope}).")
