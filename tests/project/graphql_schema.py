"""A Strawberry schema for the GraphQL end-to-end tests: it reports what warden told it.

``whoami`` answers with the identity in the socket's scope and the ``connection_init`` payload keys the
application received (so a test can see the credential was removed); ``clock`` streams ticks with the
same identity, for the live-socket tests (expiry, revocation, the real client's reconnect).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from django.conf import settings
from strawberry.channels import GraphQLWSConsumer
from strawberry.types import Info


@strawberry.type
class Identity:
    user: str
    authenticator: str | None
    transport: str | None
    expires_at: float | None
    params: list[str]
    subprotocols: list[str]


@strawberry.type
class Tick:
    n: int
    user: str
    expires_at: float | None


def _identity(info: Info[Any, Any]) -> Identity:
    scope = info.context["request"].scope
    auth = scope.get("auth")
    params = info.context.get("connection_params") or {}
    return Identity(
        user=str(getattr(scope.get("user"), "username", "") or "anonymous"),
        authenticator=getattr(auth, "authenticator", None),
        transport=getattr(auth, "transport", None),
        expires_at=getattr(auth, "expires_at", None),
        params=sorted(params),
        subprotocols=list(scope.get("subprotocols") or ()),
    )


@strawberry.type
class Query:
    @strawberry.field
    def whoami(self, info: Info[Any, Any]) -> Identity:
        return _identity(info)


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def whoami(self, info: Info[Any, Any]) -> AsyncGenerator[Identity, None]:
        """The query's answer, for the legacy protocol (where Strawberry runs only subscriptions)."""
        yield _identity(info)

    @strawberry.subscription
    async def clock(self, info: Info[Any, Any], interval: float = 0.2) -> AsyncGenerator[Tick, None]:
        me = _identity(info)
        n = 0
        while True:
            n += 1
            yield Tick(n=n, user=me.user, expires_at=me.expires_at)
            await asyncio.sleep(interval)


schema = strawberry.Schema(query=Query, subscription=Subscription)


def graphql_consumer() -> Any:
    """Strawberry's consumer; its own Origin check trusts the origins warden trusts."""
    return GraphQLWSConsumer.as_asgi(schema=schema, allowed_origins=settings.WARDEN["ALLOWED_ORIGINS"])
