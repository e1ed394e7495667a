"""``manage.py warden_explain``: why a WebSocket handshake would be admitted or refused.

Give it what the client sends, as flags, as a raw HTTP request or as a browser's "copy as cURL"
command (on stdin, or ``-`` as the URL)::

    manage.py warden_explain ws://localhost:8000/ws/chat/lobby/ --origin http://localhost:3000 \\
        --subprotocol warden --subprotocol bearer.eyJ...
    pbpaste | manage.py warden_explain -

It runs the project's settings and routes through warden's pipeline (Host, subprotocols, Origin,
transports, authenticators, route, guard policy and permissions) without opening a socket, and prints
each step with every credential masked, then the close code the client would get. It reads the
database (the authenticators look tokens and users up) and writes nothing; one-time tickets are not
redeemed.
"""

from __future__ import annotations

import sys
from typing import Any

from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.module_loading import import_string

from channels_warden.explain.masking import shown_header, shown_query
from channels_warden.explain.pipeline import client_sees, explain
from channels_warden.explain.request import RequestError, from_flags, from_pasted, to_scope
from channels_warden.explain.routes import resolve
from channels_warden.logging import loggable_path

#: Width of the step column.
STEP_WIDTH = 14


class Command(BaseCommand):
    help = (
        "Explain, step by step and without a socket, how warden decides a WebSocket handshake. "
        "Give a URL and flags, or '-' to read a raw HTTP request or a 'copy as cURL' command on stdin."
    )
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("url", nargs="?", default="-", help="ws:// or http:// URL, or '-' for stdin")
        parser.add_argument("-H", "--header", action="append", default=[], help="'Name: value' (repeatable)")
        parser.add_argument("--origin", help="the Origin header a browser page would send")
        parser.add_argument("--subprotocol", action="append", default=[], help="an offered subprotocol")
        parser.add_argument("--cookie", action="append", default=[], help="'name=value' (repeatable)")
        parser.add_argument("--secure", action="store_true", help="a raw request arrived over TLS (wss)")
        parser.add_argument("--client", default="127.0.0.1", help="the client's address")
        parser.add_argument("--asgi", help="the ASGI application (default: settings.ASGI_APPLICATION)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["url"] == "-":
                stdin = options.get("stdin") or sys.stdin
                request = from_pasted(stdin.read(), secure=options["secure"])
            elif options["url"].startswith("curl "):
                request = from_pasted(options["url"])
            else:
                request = from_flags(
                    options["url"],
                    headers=options["header"],
                    origin=options["origin"],
                    subprotocols=options["subprotocol"],
                    cookies=options["cookie"],
                )
            scope = to_scope(request, client=options["client"])
        except RequestError as exc:
            raise CommandError(str(exc)) from None
        path = options["asgi"] or getattr(settings, "ASGI_APPLICATION", None)
        if not path:
            raise CommandError("settings.ASGI_APPLICATION is not set; pass --asgi module.application")
        application = import_string(path)
        self.line(
            "request",
            f"GET {scope['scheme']}://{loggable_path(dict(scope['headers'])[b'host'].decode('latin-1'))}{loggable_path(scope['path'])}",
        )
        if scope["query_string"]:
            self.line("", f"query {shown_query(scope['query_string'])}")
        for name, value in scope["headers"]:
            shown = shown_header(name, value, scope)
            if shown is not None and name != b"host":
                self.line("", f"{name.decode('latin-1').title()}: {shown}")
        route = resolve(application, scope)
        self.line("route", " > ".join(route.chain) + ("" if route.found else " > (no route)"))
        explanation = async_to_sync(explain)(scope, route)
        for step, text in explanation.steps:
            self.line(step, text)
        if route.warden is None:
            verdict = (
                "not protected by warden" if route.found else "no route and no warden: the server errors"
            )
        elif explanation.rejection is not None:
            verdict = f"close {explanation.code} {explanation.rejection.reason}"
            self.line(
                "client gets", client_sees(explanation, route.warden_scope, route.warden.settings) or ""
            )
        elif explanation.user is None:
            verdict = "undecided: it depends on what the client sends after the handshake"
        else:
            verdict = "admitted"
        self.line("result", verdict)

    def line(self, step: str, text: str) -> None:
        self.stdout.write(f"{step:<{STEP_WIDTH}}{text}")
