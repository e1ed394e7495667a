"""HTTP routes. WebSocket routes live in ``chat.routing``."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.views import LogoutView
from django.urls import path
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from chat import views

urlpatterns = [
    path("", views.index, name="index"),
    path("login/", views.login_view, name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    # Terminal and mobile clients trade a username and password for a token here.
    path("api/auth/token/", obtain_auth_token, name="api-token"),
    path("api/auth/jwt/", TokenObtainPairView.as_view(), name="api-jwt"),
    path("api/auth/jwt/refresh/", TokenRefreshView.as_view(), name="api-jwt-refresh"),
    path("admin/", admin.site.urls),
]
