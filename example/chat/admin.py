from __future__ import annotations

from django.contrib import admin

from .models import Message, Room


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ("slug", "title", "private", "created")
    list_filter = ("private",)
    search_fields = ("slug", "title")
    prepopulated_fields = {"slug": ("title",)}
    # Taking a member out here closes their sockets for the room, like the API does (chat.signals).
    filter_horizontal = ("members",)


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("id", "room", "author", "created", "text")
    list_filter = ("room",)
    search_fields = ("text", "author__username")
    list_select_related = ("room", "author")
    raw_id_fields = ("author",)
