"""HTTP endpoints of the test project: they make Django events happen *inside the server process*.

With the in-memory channel layer a revocation only reaches the process that sends it, so the tests
trigger logouts, password changes and deletions through the server rather than in the test process.
These views are for tests only: they skip CSRF and do no authorization.
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.contrib.auth import authenticate, get_user_model, login, logout, update_session_auth_hash
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


def _body(request: HttpRequest) -> dict[str, Any]:
    payload = json.loads(request.body or b"{}")
    return payload if isinstance(payload, dict) else {}


@csrf_exempt
@require_POST
def login_view(request: HttpRequest) -> JsonResponse:
    body = _body(request)
    user = authenticate(request, username=body.get("username"), password=body.get("password"))
    if user is None:
        return JsonResponse({"error": "invalid credentials"}, status=400)
    login(request, user)
    return JsonResponse({"session_key": request.session.session_key})


@csrf_exempt
@require_POST
def logout_view(request: HttpRequest) -> JsonResponse:
    logout(request)
    return JsonResponse({"ok": True})


@csrf_exempt
@require_POST
def password_view(request: HttpRequest) -> JsonResponse:
    if not request.user.is_authenticated:
        return JsonResponse({"error": "unauthenticated"}, status=401)
    user = request.user
    user.set_password(_body(request)["password"])
    user.save()
    update_session_auth_hash(request, user)
    return JsonResponse({"session_key": request.session.session_key})


@csrf_exempt
@require_POST
def user_action_view(request: HttpRequest, username: str, action: str) -> JsonResponse:
    user = get_user_model().objects.get(username=username)
    if action == "deactivate":
        user.is_active = False
        user.save()
    elif action == "deactivate-in-transaction":
        # An admin action that does more work after the save: the commit comes later than post_save.
        with transaction.atomic():
            user.is_active = False
            user.save()
            time.sleep(float(_body(request).get("hold", 0.3)))
    elif action == "demote":
        user.is_staff = False
        user.save()
    elif action == "delete":
        user.delete()
    elif action == "delete-tokens":
        from rest_framework.authtoken.models import Token

        for token in Token.objects.filter(user__username=username):
            token.delete()
    else:
        return JsonResponse({"error": f"unknown action {action}"}, status=404)
    return JsonResponse({"ok": True})


def _confirmation(confirmation: Any) -> dict[str, Any] | None:
    if confirmation is None:
        return None
    return {"answered": confirmation.answered, "missing": list(confirmation.missing)}


@csrf_exempt
@require_POST
def revoke_group_view(request: HttpRequest) -> JsonResponse:
    """``{"username": ... or null, "group": ..., "reason": ..., "wait": seconds or null}``."""
    from channels_warden.groups import revoke_membership_sync

    body = _body(request)
    username = body.get("username")
    user = get_user_model().objects.get(username=username) if username else None
    confirmation = revoke_membership_sync(
        user, body["group"], reason=body.get("reason", "revoked"), wait=body.get("wait")
    )
    return JsonResponse({"confirmation": _confirmation(confirmation)})


@csrf_exempt
@require_POST
def recheck_view(request: HttpRequest) -> JsonResponse:
    """``{"username": ... or null, "group": ... or null, "wait": seconds or null}``: re-run the policies."""
    from channels_warden.groups import recheck_sync

    body = _body(request)
    username = body.get("username")
    user = get_user_model().objects.get(username=username) if username else None
    confirmation = recheck_sync(user, group=body.get("group"), wait=body.get("wait"))
    return JsonResponse({"confirmation": _confirmation(confirmation)})


@csrf_exempt
@require_POST
def members_view(request: HttpRequest) -> JsonResponse:
    """``{"group": ..., "wait": seconds}``: who holds the group, in every process."""
    from channels_warden.groups import members_sync

    body = _body(request)
    presence = members_sync(body["group"], wait=body.get("wait", 1.0))
    return JsonResponse(
        {
            "members": [{"name": m.name, "sockets": m.sockets} for m in presence.members],
            "anonymous": presence.anonymous,
            "answered": len(presence.answered),
            "missing": list(presence.missing),
        }
    )
