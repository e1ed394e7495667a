"""Where warden's handshake goes: each step of the pipeline timed alone, in process.

    python -m bench.handshake_parts [--route warden_jwt_stateless_cold]

Builds the bench server's application in process (no server, no sockets), takes the route's
``WardenMiddleware`` and a scope as uvicorn would send it, and times each step of a handshake with
``timeit`` (best of five repeats): the host and Origin checks, the transports, the credential check
(cold: a token never seen), the identity cache, the application's scope, and a socket going live and
retiring. Then whole handshakes through warden in front of an application that does nothing, cold
(a new token each time) and warm (the same token again), and the same application alone, so that
what the steps leave out (the ASGI wrappers, the coroutines) shows as the difference. Quoted in
``bench/NOTES.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import timeit
from collections.abc import Callable, Coroutine
from typing import Any

from bench.memory_sites import scope_for, secrets_for, setup_in_process


def _best(function: Callable[[], object], number: int) -> float:
    """Microseconds per call: the best of five repeats of ``number`` calls."""
    return min(timeit.repeat(function, number=number, repeat=5)) / number * 1e6


async def _nothing(scope: Any, receive: Any, send: Any) -> None:
    """An application that accepts, echoes one frame and waits for the disconnect."""
    await receive()
    await send({"type": "websocket.accept"})
    message = await receive()
    await send({"type": "websocket.send", "text": message.get("text")})
    await receive()


def _handshake(application: Any, scope: dict[str, Any]) -> None:
    events = [
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "text": '{"type":"chat.message"}'},
        {"type": "websocket.disconnect", "code": 1000},
    ]

    async def receive() -> dict[str, Any]:
        return events.pop(0)

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "websocket.close":
            raise RuntimeError(f"refused: {message}")

    without_waiting(application(dict(scope), receive, send), "the handshake")


def without_waiting(coroutine: Coroutine[Any, Any, object], what: str) -> None:
    """Run ``coroutine`` to its end in one step: timing it needs a route that never waits on I/O."""
    try:
        coroutine.send(None)
    except StopIteration:
        return
    coroutine.close()
    raise RuntimeError(f"{what} waited on I/O: pick a stateless route (--route warden_jwt_stateless_cold)")


def parts(route: str, scale: float = 1.0) -> list[tuple[str, float]]:
    """``(step, µs)`` for each step of ``route``'s handshake; ``scale`` multiplies the call counts."""
    from bench.configs import BY_NAME
    from bench.credentials import seed
    from bench.project.asgi import build
    from channels_warden import WardenMiddleware
    from channels_warden.admission import check_origin, find_credentials, redacted_scope
    from channels_warden.connection import Connection
    from channels_warden.hosts import check_host
    from channels_warden.identity import AuthInfo
    from channels_warden.identity_cache import identity_cache
    from channels_warden.revocation import listener

    seeded = seed(64)
    middleware = build(BY_NAME[route])
    settings = middleware.settings
    token = secrets_for(route, 1, seeded)[0]
    scope = scope_for(route, token, 1)
    credential = find_credentials(scope, settings)[0]
    authenticator = settings.authenticators[0]

    async def noop(*args: Any) -> None:
        return None

    def authenticate() -> None:
        without_waiting(authenticator.authenticate(credential, scope), f"{route}'s credential check")

    user, info = asyncio.run(authenticator.authenticate(credential, scope))
    auth = AuthInfo.from_credential(user, info, authenticator=authenticator.name, transport="header")

    def live() -> None:
        connection = Connection(scope, noop, noop, settings)
        connection.auth, connection.accepted = auth, True
        connection.go_live()
        connection.retire()

    warden = WardenMiddleware(_nothing)
    warden.settings = settings  # the route's settings, in front of an application that does nothing

    def calls(number: int) -> int:
        return max(1, round(number * scale))

    fresh = iter(
        [scope_for(route, secret, n) for n, secret in enumerate(secrets_for(route, 5 * calls(1_000), seeded))]
    )

    def cold() -> None:
        _handshake(warden, next(fresh))  # a token this process has never seen

    async def measured() -> list[tuple[str, float]]:
        return [
            ("Host check (ALLOWED_HOSTS)", _best(lambda: check_host(scope), calls(20_000))),
            ("Origin check", _best(lambda: check_origin(scope, settings), calls(20_000))),
            (
                "transports: find the credential",
                _best(lambda: find_credentials(scope, settings), calls(20_000)),
            ),
            ("credential check, cold (authenticator)", _best(authenticate, calls(2_000))),
            (
                "identity cache lookup",
                _best(lambda: identity_cache.get(credential, authenticator), calls(20_000)),
            ),
            (
                "the application's scope (copy, redaction)",
                _best(lambda: redacted_scope(scope, settings, auth), calls(20_000)),
            ),
            ("revocation listener check", _best(listener.ensure_running, calls(20_000))),
            ("Connection, go live, retire", _best(live, calls(20_000))),
            ("whole handshake, cold: warden + an app that does nothing", _best(cold, calls(1_000))),
            ("whole handshake, the same token again", _best(lambda: _handshake(warden, scope), calls(5_000))),
            ("the same app alone", _best(lambda: _handshake(_nothing, scope), calls(20_000))),
        ]

    return asyncio.run(measured())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.handshake_parts")
    parser.add_argument("--route", default="warden_jwt_stateless_cold")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply the call counts (0.01: a smoke run)"
    )
    args = parser.parse_args(argv)
    if not args.scale > 0:
        parser.error("--scale must be positive")
    setup_in_process()
    print(f"{args.route}, in process, µs per call (best of 5):")
    for step, micros in parts(args.route, args.scale):
        print(f"  {micros:8.2f}  {step}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
