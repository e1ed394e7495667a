"""What warden must know about a protocol spoken over the socket, as pure functions (no I/O).

Some clients speak a protocol of their own over the WebSocket (GraphQL's ``graphql-transport-ws``
and the legacy ``graphql-ws``). On such a socket warden's own frames are unknown messages, and the
close codes mean something to the client: whether it retries. A :class:`ProtocolAdapter` tells warden,
for one subprotocol,

* where the client puts its credential after the socket opened (:meth:`~ProtocolAdapter.parse_init`:
  the ``connection_init`` payload for GraphQL) and what the application gets instead, without it;
* which close code the protocol's clients act on correctly for each of warden's
  (:meth:`~ProtocolAdapter.wire_close`);
* what, if anything, replaces warden's ``warden.disconnect`` frame (:meth:`~ProtocolAdapter.refusal_frame`).

One instance serves every socket of its subprotocol; the I/O around it is in
:mod:`channels_warden.protocols.socket`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from .._types import Message
from ..credentials import Credential, checked_secret
from ..exceptions import AuthenticationFailed, BadRequest

#: Transport name recorded in ``scope["auth"]`` for credentials read from the protocol's first frame.
INIT_TRANSPORT = "connection_init"
#: Payload keys read for a credential by default, with the scheme a bare token gets.
DEFAULT_CREDENTIAL_KEYS: Mapping[str, str] = {
    "Authorization": "bearer",
    "authorization": "bearer",
    "authToken": "bearer",
    "token": "bearer",
}
#: ``"<keyword> <token>"`` values: keyword (case-insensitive) -> scheme, as the Authorization header.
DEFAULT_KEYWORDS: Mapping[str, str] = {"Bearer": "bearer", "Token": "token", "Ticket": "ticket"}
#: A first frame larger than this is refused unread (it also bounds the JSON parser's work).
DEFAULT_MAX_INIT_BYTES = 65536
_WARDEN_FRAME_PREFIXES = ('{"type": "warden.', '{"type":"warden.')


class ProtocolAdapter:
    """Base class: a subprotocol whose clients send their credential in a first frame.

    Args:
        credential_keys: payload key -> scheme used when the value is a bare token. A value of the
            form ``"<keyword> <token>"`` takes the scheme of its keyword instead.
        keywords: keyword -> scheme for ``"<keyword> <token>"`` values (``Bearer``, ``Token``...).
        max_init_bytes: size limit of the whole first frame.
        init_timeout: seconds to wait for the first frame; ``None`` uses ``AUTH_TIMEOUT``.
    """

    #: The subprotocol this adapter serves; the server echoes it when warden accepts.
    subprotocol: ClassVar[str] = ""
    #: Type of the first frame, which carries the credential.
    init_type: ClassVar[str] = "connection_init"
    #: warden close code -> code sent on the wire; codes not listed go out unchanged.
    close_codes: ClassVar[Mapping[int, int]] = {}
    #: ``(warden code, reason)`` -> wire code, consulted before :attr:`close_codes`.
    reason_codes: ClassVar[Mapping[tuple[int, str], int]] = {}

    def __init__(
        self,
        *,
        credential_keys: Mapping[str, str] | None = None,
        keywords: Mapping[str, str] | None = None,
        max_init_bytes: int = DEFAULT_MAX_INIT_BYTES,
        init_timeout: float | None = None,
    ) -> None:
        self.credential_keys = dict(DEFAULT_CREDENTIAL_KEYS if credential_keys is None else credential_keys)
        self.keywords = {
            key.lower(): scheme.lower() for key, scheme in (keywords or DEFAULT_KEYWORDS).items()
        }
        self.max_init_bytes = int(max_init_bytes)
        self.init_timeout = init_timeout

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.subprotocol!r}>"

    # Closing ------------------------------------------------------------------------------------

    def wire_close(self, code: int, reason: str) -> int:
        """The code this protocol's clients must see for warden's ``code`` (and public ``reason``).

        Always a plain ``int``: autobahn (daphne) refuses an ``IntEnum`` as a close code.
        """
        return int(self.reason_codes.get((code, reason), self.close_codes.get(code, code)))

    def refusal_frame(self, disconnect: Mapping[str, Any]) -> str | None:
        """The protocol's frame that replaces a ``warden.disconnect`` frame, or ``None`` to send none."""
        return None

    @staticmethod
    def is_warden_frame(text: str | None) -> bool:
        """Whether ``text`` is one of warden's own frames (they are never sent on these sockets)."""
        return text is not None and text.startswith(_WARDEN_FRAME_PREFIXES)

    # The first frame ----------------------------------------------------------------------------

    def parse_init(self, event: Message, *, max_credential_bytes: int) -> tuple[Credential | None, Message]:
        """The credential in the client's first frame, and the frame the application gets instead.

        Raises:
            BadRequest: the frame is binary, too large, not a JSON object, its payload is not an
                object, or it carries more than one credential key or a malformed credential.
            AuthenticationFailed: the first frame is another message type (the protocol's
                "unauthorized": nothing may come before ``connection_init``).
        """
        text = event.get("text")
        if not isinstance(text, str):
            raise BadRequest(f"first frame of {self.subprotocol} was not text")
        if len(text) > self.max_init_bytes:  # characters >= bytes / 4: the bound holds either way
            raise BadRequest(
                f"{self.init_type} frame of {len(text)} characters is over {self.max_init_bytes}"
            )
        try:
            frame = json.loads(text)
        except (ValueError, RecursionError):
            raise BadRequest(f"first frame of {self.subprotocol} is not JSON") from None
        if not isinstance(frame, dict):
            raise BadRequest(f"first frame of {self.subprotocol} is not a JSON object")
        if frame.get("type") != self.init_type:
            raise AuthenticationFailed(
                f"first frame was {str(frame.get('type'))[:40]!r}, not {self.init_type}"
            )
        payload = frame.get("payload")
        if payload is None:
            return None, event
        if not isinstance(payload, dict):
            raise BadRequest(f"{self.init_type} payload is not an object")
        found = [key for key in self.credential_keys if key in payload]
        if not found:
            return None, event
        if len(found) > 1:
            raise BadRequest(f"{self.init_type} payload carries {len(found)} credential keys; send one")
        key = found[0]
        credential = self._credential(key, payload[key], max_credential_bytes)
        redacted = {name: value for name, value in payload.items() if name != key}
        return credential, {**event, "text": json.dumps({**frame, "payload": redacted})}

    def _credential(self, key: str, value: Any, max_bytes: int) -> Credential:
        if not isinstance(value, str) or not value:
            raise BadRequest(f"{self.init_type} credential {key!r} is not a non-empty string")
        keyword, space, token = value.partition(" ")
        if space:
            scheme = self.keywords.get(keyword.lower())
            if scheme is None:
                raise BadRequest(f"{self.init_type} credential {key!r} uses an unknown keyword")
        else:
            scheme, token = self.credential_keys[key].lower(), value
        secret = checked_secret(token, max_bytes=max_bytes, what=f"{self.init_type} credential {key!r}")
        return Credential(scheme, secret, INIT_TRANSPORT)
