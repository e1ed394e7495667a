"""A logging filter that keeps credentials out of server log lines.

uvicorn logs every WebSocket handshake with its full query string (``"WebSocket /ws/?token=..."``) on
``uvicorn.error``; anything else that logs a URL or an ``Authorization`` header can leak the same
way. Attach the filter to the handlers that write your logs::

    LOGGING = {
        "filters": {"warden": {"()": "channels_warden.logging.RedactCredentialsFilter"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["warden"]}},
        ...
    }

The app config also attaches it to the ``uvicorn.error``, ``uvicorn.access`` and ``daphne`` loggers
at start-up, so the common case needs no configuration.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

REDACTED = "[redacted]"
# Opaque tokens are long (DRF 40, knox 64 characters); shorter words after "token" are prose.
_AUTH_HEADER = re.compile(r"(?i)\b(bearer|token|jwt)(\s+|\.)[A-Za-z0-9\-._~+/]{20,}=*")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
# Opaque keys pasted into a URL: DRF (40 hex) and knox (64 hex) tokens are long unbroken runs of
# letters and digits. Shorter runs are left alone: a 32-hex UUID is a common room or object id.
_OPAQUE_KEY = re.compile(r"(?<![A-Za-z0-9])(?=[A-Za-z]*[0-9])[A-Za-z0-9]{40,}(?![A-Za-z0-9])")
_UNPRINTABLE = re.compile(r"[^\x20-\x7e]")
#: Longest path a log line carries; the rest is cut.
MAX_LOGGED_PATH = 200


def redact(text: str, parameters: Iterable[str]) -> str:
    """``text`` with named query parameters, JWTs, ``Bearer`` tokens and long opaque keys masked."""
    names = "|".join(re.escape(name) for name in parameters)
    if names:
        text = re.sub(rf"(?i)([?&;](?:{names})=)[^&\s\"']*", rf"\g<1>{REDACTED}", text)
    text = _OPAQUE_KEY.sub(REDACTED, _JWT.sub(REDACTED, text))
    return _AUTH_HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


def loggable_path(path: object) -> str:
    """A request path fit for a log line: credentials masked, control bytes escaped, length capped.

    A client chooses the path; a token pasted into it must not reach the log, and a decoded ``%0d%0a``
    must not forge a second log line.
    """
    text = redact(str(path), ())
    text = _UNPRINTABLE.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)
    return text if len(text) <= MAX_LOGGED_PATH else f"{text[:MAX_LOGGED_PATH]}..."


class RedactCredentialsFilter(logging.Filter):
    """Rewrites each record's message with credentials masked; never drops a record.

    Args:
        parameters: query parameter names to mask; defaults to ``REDACT_QUERY_PARAMETERS``.
    """

    def __init__(self, name: str = "", parameters: Iterable[str] | None = None) -> None:
        super().__init__(name)
        self._parameters = None if parameters is None else tuple(parameters)

    def parameters(self) -> tuple[str, ...]:
        if self._parameters is not None:
            return self._parameters
        try:
            from .conf import warden_settings

            return tuple(warden_settings.REDACT_QUERY_PARAMETERS)
        except Exception:  # noqa: BLE001  (settings not configured yet: fall back to the defaults)
            from .conf import DEFAULTS

            return tuple(DEFAULTS["REDACT_QUERY_PARAMETERS"])

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001  (a broken record is the logging module's to report)
            return True
        cleaned = redact(message, self.parameters())
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


SERVER_LOGGERS = ("uvicorn.error", "uvicorn.access", "daphne", "daphne.server", "daphne.ws_protocol")


def install_server_filters(loggers: Iterable[str] = SERVER_LOGGERS) -> None:
    """Attach one :class:`RedactCredentialsFilter` to each server logger (idempotent)."""
    for name in loggers:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactCredentialsFilter) for existing in logger.filters):
            logger.addFilter(RedactCredentialsFilter())
