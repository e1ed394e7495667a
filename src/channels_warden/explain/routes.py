"""Follow a handshake's path through the project's ASGI application without calling it.

The walk reads what Channels' routers and warden's wrappers hold (``ProtocolTypeRouter``'s mapping,
``URLRouter``'s routes, a middleware's ``inner``, a guard's policy) and matches the path the way
``URLRouter`` does, so ``warden_explain`` knows which ``WardenMiddleware`` (and so which settings), which
``guard()`` and which consumer a handshake would reach, and nothing runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from channels.routing import ProtocolTypeRouter, URLRouter
from django.urls.exceptions import Resolver404

from .._types import Scope
from ..middleware import WardenMiddleware
from ..policy import RouteGuard

#: Attributes through which wrappers (Channels' middleware, static files handlers) hold their app.
WRAPPED = ("inner", "application", "app")
#: Deepest chain of wrappers followed, so a cycle cannot hang the command.
MAX_DEPTH = 64


@dataclass
class Route:
    """Where a handshake's path leads."""

    chain: list[str] = field(default_factory=list)
    warden: WardenMiddleware | None = None
    #: The scope as the warden middleware gets it (an outer router's ``url_route`` included).
    warden_scope: Scope = field(default_factory=dict)
    guard: RouteGuard | None = None
    endpoint: Any = None
    #: The scope the route's application gets: ``path_remaining`` and ``url_route`` of every router.
    route_scope: Scope = field(default_factory=dict)
    #: Patterns of the router where matching failed; empty when a route matched.
    unmatched: list[str] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return self.endpoint is not None


def name_of(app: Any) -> str:
    consumer = getattr(app, "consumer_class", None)
    target = consumer if consumer is not None else app
    if not isinstance(target, type):
        target = getattr(target, "__func__", target)
        if not callable(target) or not hasattr(target, "__qualname__"):
            target = type(target)
    return f"{target.__module__}.{target.__qualname__}"


def _match(router: URLRouter, scope: Scope) -> Scope | None:
    """The scope ``router`` would pass to the matching route's application (as ``URLRouter.__call__``)."""
    path = scope.get("path_remaining", scope.get("path", ""))
    if "path_remaining" not in scope:
        root_path = scope.get("root_path", "")
        if root_path and not path.startswith(root_path):
            return None
        path = path[len(root_path) :]
    path = path.lstrip("/")
    for route in router.routes:
        try:
            match = route.pattern.match(path)
        except Resolver404:
            continue
        if match:
            new_path, args, kwargs = match
            outer = scope.get("url_route", {})
            return dict(
                scope,
                path_remaining=new_path,
                url_route={
                    "args": outer.get("args", ()) + tuple(args),
                    "kwargs": {**outer.get("kwargs", {}), **kwargs, **route.default_args},
                },
                _explain_route=route,
            )
    return None


def resolve(application: Any, scope: Scope) -> Route:
    """Walk ``application`` for a websocket ``scope``; see :class:`Route` for what is learnt."""
    route = Route()
    app = application
    for _ in range(MAX_DEPTH):
        if isinstance(app, ProtocolTypeRouter):
            app = app.application_mapping.get("websocket")
            route.chain.append("ProtocolTypeRouter['websocket']")
            if app is None:
                route.unmatched = ["(no 'websocket' entry in the ProtocolTypeRouter)"]
                return route
        elif isinstance(app, WardenMiddleware):
            route.chain.append("WardenMiddleware")
            if route.warden is None:
                route.warden, route.warden_scope = app, dict(scope)
            app = app.inner
        elif isinstance(app, RouteGuard):
            route.guard = app
            route.chain.append("guard()")
            app = app.app
        elif isinstance(app, URLRouter):
            matched = _match(app, scope)
            if matched is None:
                route.unmatched = [str(entry.pattern) for entry in app.routes]
                return route
            entry = matched.pop("_explain_route")
            route.chain.append(f"URLRouter {str(entry.pattern)!r}")
            scope, app = matched, entry.callback
        elif getattr(app, "consumer_class", None) is None and any(hasattr(app, a) for a in WRAPPED):
            route.chain.append(type(app).__name__)
            app = next(getattr(app, attribute) for attribute in WRAPPED if hasattr(app, attribute))
        else:
            route.chain.append(name_of(app))
            route.endpoint, route.route_scope = app, scope
            return route
    route.unmatched = [f"(more than {MAX_DEPTH} wrappers: a cycle?)"]
    return route
