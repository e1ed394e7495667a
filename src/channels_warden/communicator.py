"""Channels' ``WebsocketCommunicator``, without importing daphne.

``channels.testing`` imports its live-server test case in its package ``__init__``, and that imports
``daphne``: ``from channels.testing import WebsocketCommunicator`` fails with ``ModuleNotFoundError:
No module named 'daphne'`` in a project served by uvicorn. Importing ``channels.testing.websocket``
does not help, because Python runs the package's ``__init__`` first. So warden's testing helpers
build on asgiref's ``ApplicationCommunicator`` (asgiref comes with Django) and offer the same methods,
with the same behaviour, as Channels' class.
"""

from __future__ import annotations

import json
from typing import Any
from unittest import mock
from urllib.parse import unquote, urlparse

# asgiref.testing has no annotations, hence the no-untyped-call ignores below.
from asgiref.testing import ApplicationCommunicator

from ._types import ASGIApp, Message


def _keep_connections() -> None:
    """Stand-in for ``close_old_connections`` while a test drives the application."""


class WebsocketCommunicator(ApplicationCommunicator):
    """Drive a WebSocket ASGI application in-process: ``channels.testing.WebsocketCommunicator``'s API.

    Like Channels' communicator, it keeps ``channels.db`` from closing the test's database
    connections between events (``close_old_connections`` would close the connection a test
    transaction runs on).
    """

    def __init__(
        self,
        application: ASGIApp,
        path: str,
        headers: list[tuple[bytes, bytes]] | None = None,
        subprotocols: list[str] | None = None,
        spec_version: str | None = None,
    ) -> None:
        self._future = None  # asgiref's __del__ reads it, even when this __init__ raises
        if not isinstance(path, str):
            raise TypeError(f"Expected str, got {type(path)}")
        parsed = urlparse(path)
        self.scope: dict[str, Any] = {
            "type": "websocket",
            "path": unquote(parsed.path),
            "query_string": parsed.query.encode("utf-8"),
            "headers": headers or [],
            "subprotocols": subprotocols or [],
        }
        if spec_version:
            self.scope["spec_version"] = spec_version
        super().__init__(application, self.scope)  # type: ignore[no-untyped-call]
        self.response_headers: list[tuple[bytes, bytes]] | None = None

    async def send_input(self, message: Message) -> None:
        with mock.patch("channels.db.close_old_connections", _keep_connections):
            await super().send_input(message)  # type: ignore[no-untyped-call]

    async def receive_output(self, timeout: float = 1) -> Message:
        with mock.patch("channels.db.close_old_connections", _keep_connections):
            message: Message = await super().receive_output(timeout)  # type: ignore[no-untyped-call]
        return message

    async def connect(self, timeout: float = 1) -> tuple[bool, int | str | None]:
        """Send ``websocket.connect``: ``(True, subprotocol)`` when accepted, else ``(False, code)``."""
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(timeout)
        if response["type"] == "websocket.close":
            return False, response.get("code", 1000)
        assert response["type"] == "websocket.accept", response
        self.response_headers = response.get("headers", [])
        return True, response.get("subprotocol")

    async def send_to(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Send one text or binary frame to the application."""
        assert bool(text_data) != bool(bytes_data), "You must supply exactly one of text_data or bytes_data"
        if text_data:
            assert isinstance(text_data, str), "The text_data argument must be a str"
            await self.send_input({"type": "websocket.receive", "text": text_data})
        else:
            assert isinstance(bytes_data, bytes), "The bytes_data argument must be bytes"
            await self.send_input({"type": "websocket.receive", "bytes": bytes_data})

    async def send_json_to(self, data: Any) -> None:
        """Send ``data`` as a JSON text frame."""
        await self.send_to(text_data=json.dumps(data))

    async def receive_from(self, timeout: float = 1) -> str | bytes:
        """The next frame the application sent; fails if it sent something else (a close)."""
        response = await self.receive_output(timeout)
        assert response["type"] == "websocket.send", f"Expected type 'websocket.send', but was {response!r}"
        assert ("text" in response) != ("bytes" in response), "Expected exactly one of text or bytes"
        payload: str | bytes = response["text"] if "text" in response else response["bytes"]
        return payload

    async def receive_json_from(self, timeout: float = 1) -> Any:
        """The next frame, decoded from JSON."""
        payload = await self.receive_from(timeout)
        assert isinstance(payload, str), f"JSON data is not a text frame, it is {type(payload)}"
        return json.loads(payload)

    async def disconnect(self, code: int = 1000, timeout: float = 1) -> None:
        """Tell the application the client closed, and wait for it to finish."""
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(timeout)  # type: ignore[no-untyped-call]
