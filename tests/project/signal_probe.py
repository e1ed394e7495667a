"""A receiver for every warden signal that writes down everything it was handed (tests only).

Enabled by ``WARDEN_TEST_SIGNAL_PROBE=<file>`` in a server's environment: each signal becomes one
JSON line with the signal's name and every string reachable from its arguments (scope keys and
values, header bytes, ``auth`` fields, claims), so a test can search them for secrets.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Mapping
from typing import Any

from channels_warden import signals
from channels_warden.deferred import unwrap

_lock = threading.Lock()
_receivers: list[Any] = []  # strong references: Signal.connect keeps weak ones


def strings(value: Any, depth: int = 0) -> list[str]:
    """Every string reachable from ``value``, bytes decoded, objects by their fields or repr."""
    value = unwrap(value)
    if depth > 12 or value is None or isinstance(value, bool | int | float):
        return [] if value is None else [str(value)]
    if isinstance(value, str):
        return [value]
    if isinstance(value, bytes | bytearray):
        return [bytes(value).decode("latin-1")]
    if isinstance(value, Mapping):
        found: list[str] = []
        for key, item in value.items():
            found += strings(key, depth + 1) + strings(item, depth + 1)
        return found
    if isinstance(value, list | tuple | set | frozenset):
        return [text for item in value for text in strings(item, depth + 1)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [
            text
            for field in dataclasses.fields(value)
            for text in strings(getattr(value, field.name), depth + 1)
        ]
    return [repr(value), *strings(getattr(value, "__dict__", None), depth + 1)]


def connect(path: str) -> None:
    """Write every warden signal to ``path``."""
    for name in (
        "connection_admitted",
        "connection_rejected",
        "connection_refreshed",
        "connection_revoked",
        "connection_closed",
    ):

        def receiver(sender: Any, name: str = name, **kwargs: Any) -> None:
            kwargs.pop("signal", None)
            line = json.dumps({"signal": name, "strings": strings(kwargs)})
            with _lock, open(path, "a", encoding="utf-8") as probe:
                probe.write(line + "\n")

        _receivers.append(receiver)
        getattr(signals, name).connect(receiver)
