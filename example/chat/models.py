"""Rooms and their messages.

A room is public (anyone signed in may read and write) or private (its members only). Staff users
may open every room: they moderate, and they remove members (see ``chat.signals``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from .protocol import MAX_TEXT


class RoomQuerySet(models.QuerySet["Room"]):
    def visible_to(self, user: Any) -> RoomQuerySet:
        """The rooms ``user`` may read and write: public ones, private ones it belongs to; all for staff."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.is_staff:
            return self.all()
        return self.filter(Q(private=False) | Q(members=user)).distinct()


class Room(models.Model):
    slug = models.SlugField(unique=True, max_length=50)
    title = models.CharField(max_length=100)
    private = models.BooleanField(default=False)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="chat_rooms")
    created = models.DateTimeField(auto_now_add=True)

    objects = RoomQuerySet.as_manager()

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class Message(models.Model):
    """One chat line. Saved before it is broadcast, so its id orders history and live delivery alike."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_messages"
    )
    text = models.TextField(max_length=MAX_TEXT)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        # History pages read one room's messages by id, newest first.
        indexes = [models.Index(fields=["room", "id"], name="chat_message_room_id")]

    def __str__(self) -> str:
        return f"{self.room_id}#{self.pk}"
