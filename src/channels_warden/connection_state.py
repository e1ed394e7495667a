"""What one socket holds: the slots of a :class:`~channels_warden.connection.Connection`.

:class:`~channels_warden.connection.Connection` is built in layers, one concept per module, each a
subclass of the one below with ``__slots__ = ()``, so that a socket still pays for one object of
these slots and nothing more:

* :class:`ConnectionState` (here): the state, the id, tasks and signals;
* :class:`~channels_warden.connection_closing.ConnectionClosing`: refusing and closing;
* :class:`~channels_warden.expiry_timers.ExpiryTimers`: the expiry timer and its warning;
* :class:`~channels_warden.live_registration.LiveRegistration`: going live and retiring;
* :class:`~channels_warden.inband_auth.InBandAuthentication`: first-message auth and refresh;
* :class:`~channels_warden.handshake_gate.HandshakeGate`: the route's policy at the handshake;
* :class:`~channels_warden.connection.Connection`: the application's ``receive`` and ``send``.

Every socket is a :class:`~channels_warden.connection.Connection`, so a layer that hands itself to
the registry, the limiter or the groups hook says so with ``cast("Connection", self)``.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from django.dispatch import Signal

from ._types import Message, Receive, Scope, Send
from .conf import WardenSettings
from .identity import AuthInfo
from .journal import journal
from .permissions import BasePermission
from .signals import signal_auth, signal_scope

if TYPE_CHECKING:
    from .connection import Connection
    from .groups.memberships import SocketMemberships

#: Connection ids must be unique across processes (evictions name them in shared messages); a random
#: process id and a counter are, without a uuid4 per socket.
_PROCESS_ID = uuid.uuid4().hex[:12]
_sequence = itertools.count(1)


class MembershipHook(Protocol):
    """What :mod:`channels_warden.groups` does when a socket that holds groups changes or ends."""

    async def identity_changed(self, connection: Connection) -> None: ...

    async def finished(self, connection: Connection) -> None: ...


class ConnectionState:
    """The state of one socket's auth lifecycle; the layers above add what it does."""

    #: Installed by :mod:`channels_warden.groups` on import; only sockets that joined a group call it.
    membership_hook: ClassVar[MembershipHook | None] = None
    #: The sender of warden's signals: :class:`~channels_warden.connection.Connection`, set where it
    #: is defined (receivers filter on ``sender=Connection``).
    signal_sender: ClassVar[type[Any]]

    __slots__ = (
        "__weakref__",
        "_connect_delivered",
        "_connect_event",
        "_control_limit",
        "_permissions",
        "_policy_scope",
        "_receive",
        "_send",
        "_tasks",
        "_timer",
        "accept_subprotocol",
        "accepted",
        "adapter",
        "auth",
        "closed",
        "epoch",
        "id",
        "live",
        "memberships",
        "opened_at",
        "policy_decided",
        "scope",
        "settings",
    )

    def __init__(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        settings: WardenSettings,
        accept_subprotocol: str | None = None,
    ) -> None:
        self.scope = scope
        self.settings = settings
        self.auth: AuthInfo | None = None
        self.accept_subprotocol = accept_subprotocol
        #: The ProtocolSocket (protocols/) when the client speaks an adapted protocol: it read the
        #: credential from the protocol's first frame, and warden's own frames are not spoken there.
        self.adapter: Any = None
        self.accepted = False
        self.closed = False
        self.live = False
        self.policy_decided = False
        self.opened_at: float | None = None
        self._receive = receive
        self._send = send
        # The server's first event, read lazily: a router that finds no route below warden must
        # leave websocket.connect unread for the next route (Channels' nested URLRouter falls through).
        self._connect_event: Message | None = None
        self._connect_delivered = False
        self._control_limit = int(settings.MAX_CREDENTIAL_BYTES)
        self._policy_scope: Scope = scope
        self._permissions: tuple[BasePermission, ...] = ()
        self.id = f"{_PROCESS_ID}-{next(_sequence)}"
        # Read before any credential is checked: go_live() replays the revocations applied since.
        self.epoch = journal.epoch
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] | None = None  # made on first use: most sockets need none
        #: The groups joined through warden (``channels_warden.groups``); ``None`` until the first join.
        self.memberships: SocketMemberships | None = None

    def __repr__(self) -> str:
        return f"<Connection {self.scope.get('path')!r} auth={self.auth!r} live={self.live}>"

    @property
    def app_started(self) -> bool:
        """Whether the application received ``websocket.connect`` or anything was sent to the client."""
        return self._connect_delivered or self.accepted or self.closed

    async def _await_connect(self) -> bool:
        """Read the server's first event once; ``False`` when the client left before connecting."""
        if self._connect_event is None:
            self._connect_event = await self._receive()
        return self._connect_event.get("type") == "websocket.connect"

    async def _notify(self, signal: Signal, **kwargs: Any) -> None:
        """Send a signal about this socket, with its scope and auth stripped of every secret."""
        if signal.has_listeners(self.signal_sender):
            scope = signal_scope(self.scope, self.settings)
            await signal.asend(sender=self.signal_sender, scope=scope, auth=signal_auth(self.auth), **kwargs)

    def _spawn(self, coroutine: Any) -> None:
        if self._tasks is None:
            self._tasks = set()
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
