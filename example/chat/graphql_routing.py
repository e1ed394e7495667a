"""``/graphql/`` for WebSocket clients, behind the same ``WardenMiddlewareStack`` as the chat routes.

Warden adapts to ``graphql-transport-ws`` (and the legacy ``graphql-ws``) by itself: the credential may
come in ``connectionParams``, refusals and closes use the codes graphql-ws acts on (docs/graphql.md).
"""

from __future__ import annotations

from django.conf import settings
from django.urls import path
from strawberry.channels import GraphQLWSConsumer

from .graphql_schema import schema

graphql_websocket_urlpatterns = [
    # Strawberry checks the Origin as well; it trusts what warden trusts.
    path(
        "graphql/",
        GraphQLWSConsumer.as_asgi(schema=schema, allowed_origins=settings.WARDEN["ALLOWED_ORIGINS"]),
    ),
]
