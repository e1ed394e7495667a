"""``manage.py seed_demo [--password P]``: create the demo users, or put them back as they were.

Safe to run any number of times: existing users are reactivated and get password ``P`` again. A user
whose password already is ``P`` keeps its hash, so restarting the demo does not sign anyone out.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

USERNAMES = ("alice", "bob", "carol")
DEFAULT_PASSWORD = "warden-demo"


class Command(BaseCommand):
    help = "Create the demo users alice, bob and carol (or reset them) with one shared password."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password",
            default=DEFAULT_PASSWORD,
            help=f"password for every demo user (default: {DEFAULT_PASSWORD!r}, for development only)",
        )

    def handle(self, *args: Any, password: str, **options: Any) -> None:
        if not password:
            raise CommandError("--password must not be empty.")
        user_model = get_user_model()
        with transaction.atomic():
            for username in USERNAMES:
                user, created = user_model._default_manager.get_or_create(
                    username=username, defaults={"email": f"{username}@example.com"}
                )
                if created or not user.check_password(password):
                    user.set_password(password)
                user.is_active = True
                user.save()
                self.stdout.write(f"{'created' if created else 'reset'} {username}")
        self.stdout.write(self.style.SUCCESS(f"Demo users: {', '.join(USERNAMES)}; password: {password}"))
