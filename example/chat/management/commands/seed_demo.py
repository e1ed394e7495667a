"""``manage.py seed_demo [--password P]``: create the demo users and rooms, or put them back as they were.

Users alice (staff: she may remove members), bob and carol; the public room ``lobby`` and the
private room ``private`` whose members are alice and bob.

Safe to run any number of times: existing users are reactivated and get password ``P`` again, and
the rooms get their title, privacy and members back. A user whose password already is ``P`` keeps
its hash, so restarting the demo does not sign anyone out. Messages are kept.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from chat.models import Room

USERNAMES = ("alice", "bob", "carol")
STAFF = ("alice",)
#: slug -> (title, private, members); members only matter in private rooms.
ROOMS = {
    "lobby": ("Lobby", False, ()),
    "private": ("Private", True, ("alice", "bob")),
}
DEFAULT_PASSWORD = "warden-demo"


class Command(BaseCommand):
    help = (
        "Create the demo users alice (staff), bob and carol with one shared password, and the rooms "
        "lobby (public) and private (alice and bob); or put them back as they were."
    )

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
        users = {}
        with transaction.atomic():
            for username in USERNAMES:
                user, created = user_model._default_manager.get_or_create(
                    username=username, defaults={"email": f"{username}@example.com"}
                )
                if created or not user.check_password(password):
                    user.set_password(password)
                user.is_active = True
                user.is_staff = username in STAFF
                user.save()
                users[username] = user
                self.stdout.write(f"{'created' if created else 'reset'} {username}")
            for slug, (title, private, members) in ROOMS.items():
                room, created = Room.objects.update_or_create(
                    slug=slug, defaults={"title": title, "private": private}
                )
                room.members.set([users[name] for name in members])
                self.stdout.write(f"{'created' if created else 'reset'} room {slug}")
        self.stdout.write(self.style.SUCCESS(f"Demo users: {', '.join(USERNAMES)}; password: {password}"))
