"""What the runner asks of a server process: counters, tickets minted here, a timed revocation."""

from __future__ import annotations

import os
import time

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from channels_warden.identity_cache import identity_cache
from channels_warden.registry import registry
from channels_warden.revocation import disconnect
from channels_warden.tickets import issue_ticket

from . import queries


async def stats(request: HttpRequest) -> JsonResponse:
    """SQL statements so far, live warden sockets and cached identities of this process."""
    return JsonResponse(
        {
            "pid": os.getpid(),
            "queries": queries.count(),
            "live_connections": len(registry),
            "identity_cache_entries": len(identity_cache),
        }
    )


def _issue(user_id: int, count: int) -> list[str]:
    user = get_user_model()._default_manager.get(pk=user_id)
    return [issue_ticket(user) for _ in range(count)]


@csrf_exempt
async def tickets(request: HttpRequest) -> JsonResponse:
    """``count`` one-time tickets for ``user``, stored in this process's cache (tickets are per cache)."""
    user_id, count = int(request.GET["user"]), int(request.GET.get("count", "1"))
    return JsonResponse({"tickets": await sync_to_async(_issue)(user_id, count)})


@csrf_exempt
async def revoke(request: HttpRequest) -> JsonResponse:
    """``disconnect(user=...)``, with the wall-clock time of the call: latency is measured from there."""
    user_id = int(request.GET["user"])
    called_at = time.time()
    await disconnect(user=user_id, reason="bench")
    return JsonResponse({"called_at": called_at, "returned_at": time.time()})
