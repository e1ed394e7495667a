"""The demo's pages: the chat at ``/`` for a signed-in user, the login form for anyone else."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

login_view = LoginView.as_view(template_name="chat/login.html", redirect_authenticated_user=True)


def index(request: HttpRequest) -> HttpResponse:
    """The chat page for a signed-in user, the login form (which posts back here) for anyone else."""
    if not request.user.is_authenticated:
        return login_view(request)
    if request.method not in ("GET", "HEAD"):
        return redirect("index")
    context = {"username": request.user.get_username(), "is_staff": request.user.is_staff}
    return render(request, "chat/index.html", context)


@login_required
def echo(request: HttpRequest) -> HttpResponse:
    """The first demo: one socket to the echo route."""
    return render(request, "chat/echo.html", {"ws_path": "/ws/echo/"})
