"""HTTP routes of the test project (see views.py)."""

from __future__ import annotations

from django.urls import path

from channels_warden.drf import TicketAPIView
from channels_warden.views import TicketView

from . import views

urlpatterns = [
    path("login/", views.login_view),
    path("logout/", views.logout_view),
    path("password/", views.password_view),
    path("test/users/<str:username>/<str:action>/", views.user_action_view),
    path("test/groups/revoke/", views.revoke_group_view),
    path("test/groups/recheck/", views.recheck_view),
    path("test/groups/members/", views.members_view),
    path("ticket/", TicketView.as_view()),
    path("api/ticket/", TicketAPIView.as_view()),
]
