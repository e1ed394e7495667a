"""No HTTP views: the end-to-end tests mint their credentials in the test process."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
