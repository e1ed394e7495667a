"""A process-wide count of SQL statements, for "database queries per handshake".

An ``execute_wrapper`` is installed on every database connection when it opens (each worker
thread has its own), once per connection object. The runner reads the count through
``/bench/stats/`` before and after a batch of handshakes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

_lock = threading.Lock()
_count = 0


def count() -> int:
    """SQL statements executed by this process so far."""
    return _count


def counting_wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
    global _count
    with _lock:
        _count += 1
    return execute(sql, params, many, context)


def install(sender: Any, connection: Any, **kwargs: Any) -> None:
    """``connection_created`` receiver: count this connection's statements (once per wrapper object)."""
    if counting_wrapper not in connection.execute_wrappers:
        connection.execute_wrappers.append(counting_wrapper)
