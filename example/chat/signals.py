"""Removing a member from a room, by any means (the API, the admin, a shell), takes that user's
sockets out of the room in every process (``revoke_membership``); making a room private asks the
room's policy again for every socket in it (``recheck``), so non-members leave it.

The database change comes first; the revocation goes out once the transaction commits, so a socket
that joins again is refused by the policy.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import m2m_changed, post_save

from .events import recheck_room_quietly, revoke_quietly
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
        transaction.on_commit(lambda slug=slug, user_ids=user_ids: revoke_quietly(slug, user_ids))


def on_room_saved(sender: Any, instance: Room, created: bool, **kwargs: Any) -> None:
    """A saved private room (for instance one just made private): its sockets are re-checked.

    Every save of a private room does it, not only the flip, so that no earlier value has to be
    remembered; a save is rare, and a re-check is one policy call per socket in the room.
    """
    if instance.private and not created:
        slug = instance.slug
        transaction.on_commit(lambda: recheck_room_quietly(slug), using=kwargs.get("using"))


def connect_signals() -> None:
    m2m_changed.connect(on_members_changed, sender=Room.members.through, dispatch_uid="chat.members_changed")
    post_save.connect(on_room_saved, sender=Room, dispatch_uid="chat.room_saved")
