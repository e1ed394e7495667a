"""channels_warden.communicator: Channels' WebsocketCommunicator API, without importing daphne."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from channels_warden.communicator import WebsocketCommunicator
from tests.inprocess import RecordingApp

ROOT = Path(__file__).resolve().parent.parent


async def refuse(scope: Any, receive: Any, send: Any) -> None:
    """Close before accepting, with code 4403."""
    await receive()
    await send({"type": "websocket.close", "code": 4403})


async def echo(scope: Any, receive: Any, send: Any) -> None:
    """Accept with the first offered subprotocol, echo frames until the client leaves."""
    await receive()
    await send(
        {"type": "websocket.accept", "subprotocol": scope["subprotocols"][0], "headers": [(b"x", b"1")]}
    )
    while (event := await receive())["type"] == "websocket.receive":
        await send({key: value for key, value in event.items() if key != "type"} | {"type": "websocket.send"})


def test_scope_is_built_from_the_path() -> None:
    """The path is unquoted and split from its query string, as Channels does."""
    scope = WebsocketCommunicator(RecordingApp(), "/ws/a%20b/?x=1", spec_version="2.3").scope
    assert scope == {
        "type": "websocket",
        "path": "/ws/a b/",
        "query_string": b"x=1",
        "headers": [],
        "subprotocols": [],
        "spec_version": "2.3",
    }


def test_path_must_be_a_string() -> None:
    """A bytes path is refused with the same TypeError Channels raises."""
    with pytest.raises(TypeError, match="Expected str"):
        WebsocketCommunicator(RecordingApp(), b"/ws/")  # type: ignore[arg-type]


async def test_connect_reports_the_close_code_of_a_refusal() -> None:
    """A close before accept is (False, code)."""
    assert await WebsocketCommunicator(refuse, "/ws/").connect() == (False, 4403)


async def test_connect_reports_the_subprotocol_and_headers_of_an_accept() -> None:
    """An accept is (True, subprotocol), and its headers are kept."""
    communicator = WebsocketCommunicator(echo, "/ws/", subprotocols=["chat"])
    assert (await communicator.connect(), communicator.response_headers) == ((True, "chat"), [(b"x", b"1")])
    await communicator.disconnect()


async def test_text_and_json_frames_round_trip() -> None:
    """send_to/receive_from carry text; send_json_to/receive_json_from carry JSON."""
    communicator = WebsocketCommunicator(echo, "/ws/", subprotocols=["chat"])
    await communicator.connect()
    await communicator.send_to(text_data="hi")
    text = await communicator.receive_from()
    await communicator.send_json_to({"n": 1})
    assert (text, await communicator.receive_json_from()) == ("hi", {"n": 1})
    await communicator.disconnect()


async def test_binary_frames_round_trip() -> None:
    """send_to(bytes_data=...) arrives as a binary frame and comes back as bytes."""
    communicator = WebsocketCommunicator(echo, "/ws/", subprotocols=["chat"])
    await communicator.connect()
    await communicator.send_to(bytes_data=b"\x00\x01")
    assert await communicator.receive_from() == b"\x00\x01"
    await communicator.disconnect()


async def test_send_to_needs_exactly_one_payload() -> None:
    """Both or neither of text_data and bytes_data is a test bug, reported at once."""
    communicator = WebsocketCommunicator(echo, "/ws/", subprotocols=["chat"])
    with pytest.raises(AssertionError, match="exactly one"):
        await communicator.send_to(text_data="a", bytes_data=b"b")


async def test_receive_from_fails_on_a_close() -> None:
    """receive_from asserts the application sent a frame, not a close."""
    communicator = WebsocketCommunicator(refuse, "/ws/")
    await communicator.send_input({"type": "websocket.connect"})
    with pytest.raises(AssertionError, match=r"websocket\.send"):
        await communicator.receive_from()


def test_warden_testing_imports_and_runs_without_daphne(tmp_path: Path) -> None:
    """With daphne unimportable, channels_warden.testing imports and a handshake reports 4401."""
    script = textwrap.dedent(
        """
        import asyncio, importlib.abc, sys

        class RefuseDaphne(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "daphne" or name.startswith("daphne."):
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)
                return None

        sys.meta_path.insert(0, RefuseDaphne())

        import django
        from django.conf import settings

        settings.configure(
            INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "channels_warden"],
            DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
            ALLOWED_HOSTS=["testserver"],
        )
        django.setup()

        from channels_warden import WardenMiddleware
        from channels_warden.testing import WardenCommunicator, handshake

        try:
            import channels.testing
        except ModuleNotFoundError as exc:
            print("channels.testing:", exc.name)

        async def app(scope, receive, send):
            await receive()
            await send({"type": "websocket.accept"})

        outcome = asyncio.run(handshake(WardenCommunicator(WardenMiddleware(app), "/ws/")))
        print("close code:", outcome.close_code)
        print("daphne loaded:", any(name.split(".")[0] == "daphne" for name in sys.modules))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout.splitlines()) == (
        0,
        ["channels.testing: daphne", "close code: 4401", "daphne loaded: False"],
    ), result.stderr
