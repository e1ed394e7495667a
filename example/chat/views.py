"""The demo's pages: sign in at ``/``, then talk to the echo socket from the same page."""

from __future__ import annotations

from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

login_view = LoginView.as_view(template_name="chat/login.html", redirect_authenticated_user=True)


def index(request: HttpRequest) -> HttpResponse:
    """The echo page for a signed-in user, the login form (which posts back here) for anyone else."""
    if not request.user.is_authenticated:
        return login_view(request)
    if request.method not in ("GET", "HEAD"):
        return redirect("index")
    return render(request, "chat/echo.html", {"ws_path": "/ws/echo/"})
