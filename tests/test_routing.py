"""Telling Channels' "no route for this path" from an application's own errors."""

from __future__ import annotations

from typing import Any

import pytest
from channels.routing import URLRouter
from django.urls import path
from django.urls.exceptions import Resolver404

from channels_warden.exceptions import NotFound
from channels_warden.routing import raised_by_router, route_not_found


async def router_error(scope: dict[str, Any]) -> BaseException:
    """What a real URLRouter with one route raises for ``scope``."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("no route should match")

    with pytest.raises((ValueError, Resolver404)) as exc_info:
        await URLRouter([path("ws/echo/", app)])(scope, None, None)
    return exc_info.value


def own_error(exc: BaseException) -> BaseException:
    """``exc`` raised (and caught) here, outside Channels' routing module."""
    try:
        raise exc
    except BaseException as caught:
        return caught


async def test_outermost_router_error_is_a_not_found() -> None:
    """The outermost router's ValueError becomes a 4404 NotFound."""
    exc = await router_error({"type": "websocket", "path": "/ws/nope/"})
    refusal = route_not_found(exc, started=False, fall_through=False)
    assert (type(exc), type(refusal), getattr(refusal, "code", None)) == (ValueError, NotFound, 4404)


async def test_nested_router_error_falls_through_when_asked() -> None:
    """A nested router's Resolver404 goes up unchanged when an outer router may still match."""
    exc = await router_error({"type": "websocket", "path": "/p/ws/nope/", "path_remaining": "ws/nope/"})
    assert (type(exc), route_not_found(exc, started=False, fall_through=True)) == (Resolver404, None)


async def test_nested_router_error_is_a_not_found_without_fall_through() -> None:
    """A nested router's Resolver404 is a 4404 when warden owns the end of the routes."""
    exc = await router_error({"type": "websocket", "path": "/p/ws/nope/", "path_remaining": "ws/nope/"})
    assert isinstance(route_not_found(exc, started=False, fall_through=False), NotFound)


async def test_router_error_after_the_app_started_is_not_swallowed() -> None:
    """Once the application received connect or sent anything, nothing is turned into 4404."""
    exc = await router_error({"type": "websocket", "path": "/ws/nope/"})
    assert route_not_found(exc, started=True, fall_through=False) is None


def test_application_value_error_with_the_same_words_is_not_swallowed() -> None:
    """A ValueError raised outside Channels' routing module stays an error, whatever it says."""
    exc = own_error(ValueError("No route found for path 'x'."))
    assert (raised_by_router(exc), route_not_found(exc, started=False, fall_through=False)) == (False, None)


def test_application_resolver404_is_not_swallowed() -> None:
    """A Resolver404 raised by the application itself is not a routing failure."""
    assert route_not_found(own_error(Resolver404("x")), started=False, fall_through=False) is None


async def test_router_error_without_a_path_key_is_not_a_not_found() -> None:
    """A scope with no path is a server bug, not a client's unknown path: it is re-raised."""
    exc = await router_error({"type": "websocket"})
    assert (raised_by_router(exc), route_not_found(exc, started=False, fall_through=False)) == (True, None)


def test_exception_never_raised_has_no_router() -> None:
    """An exception without a traceback was not raised by any router."""
    assert raised_by_router(ValueError("No route found for path 'x'.")) is False
