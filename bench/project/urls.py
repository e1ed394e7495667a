"""Bench-only HTTP endpoints (no authentication, no CSRF: the server listens on 127.0.0.1 only)."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("bench/stats/", views.stats),
    path("bench/tickets/", views.tickets),
    path("bench/revoke/", views.revoke),
]
