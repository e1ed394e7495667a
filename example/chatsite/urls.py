"""HTTP routes: pages, the JSON API (``docs/chat-api.md``) and the admin. WebSocket routes live in
``chat.routing``.
"""

from __future__ import annotations

from channels_warden.drf import TicketAPIView
from django.contrib import admin
from django.contrib.auth.views import LogoutView
from django.urls import path
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView
from strawberry.django.views import AsyncGraphQLView

from chat import api, views
from chat.graphql_schema import schema

urlpatterns = [
    path("", views.index, name="index"),
    path("echo/", views.echo, name="echo"),
    path("login/", views.login_view, name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    # Browsers sign in with a session; terminal and mobile clients trade a password for a token.
    path("api/auth/session/", api.SessionLoginView.as_view(), name="api-session"),
    path("api/auth/logout/", api.SessionLogoutView.as_view(), name="api-logout"),
    path("api/auth/token/", obtain_auth_token, name="api-token"),
    path("api/auth/jwt/", TokenObtainPairView.as_view(), name="api-jwt"),
    path("api/auth/jwt/refresh/", TokenRefreshView.as_view(), name="api-jwt-refresh"),
    # A one-time ticket for ?ticket= on a WebSocket URL.
    path("api/auth/ticket/", TicketAPIView.as_view(), name="api-ticket"),
    path("api/rooms/", api.RoomListView.as_view(), name="api-rooms"),
    path("api/rooms/<slug:slug>/", api.RoomDetailView.as_view(), name="api-room"),
    path("api/rooms/<slug:slug>/messages/", api.RoomMessagesView.as_view(), name="api-room-messages"),
    path(
        "api/rooms/<slug:slug>/members/<str:username>/remove/",
        api.RemoveMemberView.as_view(),
        name="api-room-remove-member",
    ),
    path("api/<path:rest>", api.unknown_endpoint),
    # GraphQL over HTTP (session + CSRF); the same path serves WebSocket subscriptions (chat.graphql_routing).
    path("graphql/", AsyncGraphQLView.as_view(schema=schema), name="graphql"),
    path("admin/", admin.site.urls),
]
