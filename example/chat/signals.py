"""Removing a member from a room, by any means (the API, the admin, a shell), closes that user's
sockets for the room in every process; so does making a room private, for everyone who is not a
member (or staff).

The database change comes first; the ``chat.removed`` and ``chat.access`` events go out once the
transaction commits, so a socket that re-checks access on receiving them (or on reconnecting) sees
the change.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import m2m_changed, post_save

from .events import send_access_changed_quietly, send_removed_quietly
from .models import Room


def on_members_changed(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: set[Any] | None, **kwargs: Any
) -> None:
    """``room.members.remove(user)``, ``user.chat_rooms.remove(room)`` and ``clear()`` from either side."""
    if action == "pre_clear":
        # clear() does not say whom it removed: remember it before the rows go.
        related = instance.chat_rooms if reverse else instance.members
        instance._chat_cleared = set(related.values_list("pk", flat=True))
        return
    if action == "post_clear":
        pk_set = instance.__dict__.pop("_chat_cleared", set())
    elif action != "post_remove":
        return
    if not pk_set:
        return
    if reverse:  # instance is a user, pk_set holds rooms
        removals = [
            (slug, [instance.pk])
            for slug in Room.objects.filter(pk__in=pk_set).values_list("slug", flat=True)
        ]
    else:
        removals = [(instance.slug, sorted(pk_set))]
    for slug, user_ids in removals:
        transaction.on_commit(lambda slug=slug, user_ids=user_ids: send_removed_quietly(slug, user_ids))


def on_room_saved(sender: Any, instance: Room, created: bool, **kwargs: Any) -> None:
    """A saved private room (for instance one just made private): its sockets check their access again.

    Every save of a private room does it, not only the flip, so that no earlier value has to be
    remembered; a save is rare, and a check is one query per socket in the room.
    """
    if instance.private and not created:
        slug = instance.slug
        transaction.on_commit(lambda: send_access_changed_quietly(slug), using=kwargs.get("using"))


def connect_signals() -> None:
    m2m_changed.connect(on_members_changed, sender=Room.members.through, dispatch_uid="chat.members_changed")
    post_save.connect(on_room_saved, sender=Room, dispatch_uid="chat.room_saved")
