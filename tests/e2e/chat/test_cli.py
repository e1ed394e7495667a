"""The terminal client (example/chat_cli.py) as a subprocess against a real server."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from ..example_project import EXAMPLE, PASSWORD
from .support import TIMEOUT, ChatServer, Sockets, assert_message, presence

CLI = EXAMPLE / "chat_cli.py"


@dataclass
class Cli:
    process: asyncio.subprocess.Process

    async def line(self) -> str:
        """The next line the client printed."""
        assert self.process.stdout is not None
        raw = await asyncio.wait_for(self.process.stdout.readline(), TIMEOUT)
        assert raw, "the client exited"
        return raw.decode().rstrip("\n")

    async def type(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{text}\n".encode())
        await self.process.stdin.drain()

    async def end_input(self) -> int:
        """Close stdin (Ctrl-D) and return the exit status."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        return await asyncio.wait_for(self.process.wait(), TIMEOUT)

    async def exit_status(self) -> int:
        return await asyncio.wait_for(self.process.wait(), TIMEOUT)

    async def stderr(self) -> str:
        assert self.process.stderr is not None
        return (await self.process.stderr.read()).decode()


RunCli = Callable[..., Awaitable[Cli]]


@pytest.fixture
async def run_cli() -> AsyncIterator[RunCli]:
    """Start the client with arguments; kill whatever is still running at the end of the test."""
    started: list[Cli] = []

    async def run(server: ChatServer, *args: str) -> Cli:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(CLI),
            "--url",
            f"http://127.0.0.1:{server.port}",
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "CHAT_PASSWORD": ""},
        )
        started.append(Cli(process))
        return started[-1]

    yield run
    for cli in started:
        if cli.process.returncode is None:
            cli.process.kill()
        await cli.process.wait()


async def test_cli_line_reaches_another_socket(
    http_server: ChatServer, sockets: Sockets, run_cli: RunCli
) -> None:
    """A line typed into the client arrives as bob's message on alice's socket; Ctrl-D exits 0."""
    room = http_server.db.create_room(members=["alice", "bob"])
    alice = await sockets.room(http_server, room, "alice")
    cli = await run_cli(http_server, "--username", "bob", "--password", PASSWORD, "--room", room)
    assert await cli.line() == f"* connected to ws://127.0.0.1:{http_server.port}/ws/chat/{room}/"
    assert await cli.line() == f"* in {room}: alice, bob"
    assert await alice.receive() == presence(room, "alice", "bob")
    await cli.type("hello from the terminal")
    assert_message(await alice.receive(), room, "bob", "hello from the terminal")
    assert await cli.line() == f"[{room}] bob: hello from the terminal"
    assert await cli.end_input() == 0


async def test_cli_prints_messages_and_presence(
    http_server: ChatServer, sockets: Sockets, run_cli: RunCli
) -> None:
    """The client prints others' messages and presence changes, one line each."""
    room = http_server.db.create_room(members=["alice", "bob"])
    cli = await run_cli(http_server, "--username", "bob", "--password", PASSWORD, "--room", room)
    await cli.line()
    assert await cli.line() == f"* in {room}: bob"
    alice = await sockets.room(http_server, room, "alice")
    assert await cli.line() == f"* in {room}: alice, bob"
    await alice.send({"type": "message", "text": "hi bob"})
    assert await cli.line() == f"[{room}] alice: hi bob"
    await alice.close()
    assert await cli.line() == f"* in {room}: bob"


async def test_cli_exits_1_on_a_never_reconnect_close(http_server: ChatServer, run_cli: RunCli) -> None:
    """carol on the private room: the client prints warden's code and reason and exits 1."""
    cli = await run_cli(http_server, "--username", "carol", "--password", PASSWORD, "--room", "private")
    assert await cli.line() == f"* connected to ws://127.0.0.1:{http_server.port}/ws/chat/private/"
    assert await cli.line() == "* disconnected: 4403 forbidden (reconnect: never)"
    assert await cli.exit_status() == 1


async def test_cli_exits_1_on_a_wrong_password(http_server: ChatServer, run_cli: RunCli) -> None:
    """A wrong password is reported on stderr and exits 1, before any socket opens."""
    cli = await run_cli(http_server, "--username", "bob", "--password", "wrong", "--room", "lobby")
    assert await cli.exit_status() == 1
    assert await cli.stderr() == "chat_cli: sign-in failed: wrong username or password\n"
