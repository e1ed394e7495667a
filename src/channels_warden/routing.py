"""Telling a router's "no route for this path" from an application's own errors.

Channels' ``URLRouter`` raises ``ValueError("No route found for path ...")`` when it is the outermost
router and ``Resolver404`` when it is nested, before the application behind it is called. Let
through, either becomes an HTTP 500 in uvicorn and a dropped connection (1006) in daphne, with a
traceback that quotes the path and any token pasted into it. Warden turns it into 4404
``not_found``, but only when the error is the router's own: raised from ``channels.routing``, before
the application received ``websocket.connect`` or sent anything. A ``ValueError`` raised by an
application that started is never swallowed.
"""

from __future__ import annotations

from django.urls.exceptions import Resolver404

from .exceptions import NotFound

ROUTER_MODULE = "channels.routing"
#: How ``URLRouter`` words its error when it is the outermost router.
NO_ROUTE = "No route found for path"


def raised_by_router(exc: BaseException) -> bool:
    """Whether ``exc`` was raised by code in Channels' routing module (its innermost frame)."""
    trace = exc.__traceback__
    if trace is None:
        return False
    while trace.tb_next is not None:
        trace = trace.tb_next
    return trace.tb_frame.f_globals.get("__name__") == ROUTER_MODULE


def route_not_found(exc: BaseException, *, started: bool, fall_through: bool) -> NotFound | None:
    """The 4404 to refuse with when ``exc`` is a router's "no route", else ``None`` (re-raise it).

    Args:
        exc: what the application behind warden raised.
        started: whether the application already received ``websocket.connect`` or sent anything.
        fall_through: whether an outer router should get the chance to try its next routes, in
            which case a nested router's ``Resolver404`` goes up unchanged.
    """
    if started or not raised_by_router(exc):
        return None
    if isinstance(exc, Resolver404):
        return None if fall_through else NotFound("no route below warden matches the path")
    if isinstance(exc, ValueError) and str(exc).startswith(NO_ROUTE):
        return NotFound("no route below warden matches the path")
    return None
