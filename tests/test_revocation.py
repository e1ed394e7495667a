"""Revocations: one group message per process, matched against that process's live sockets."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.contrib.auth.models import User

from channels_warden import revocation
from channels_warden.codes import CloseCode
from channels_warden.identity import AuthInfo
from channels_warden.registry import ConnectionRegistry
from channels_warden.revocation import (
    GROUP,
    RevocationListener,
    broadcast,
    close_matching,
    disconnect,
    disconnect_sync,
    rekey_session,
    revocation_message,
)

ALICE = User(pk=1, username="alice")


@dataclass(eq=False)
class FakeConnection:
    """Records the revocations that reach it."""

    id: str
    auth: AuthInfo
    revoked: list[tuple[int, str]] = field(default_factory=list)
    frames: list[Any] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def revoke(self, code: CloseCode, reason: str, messages: Any = None) -> bool:
        self.revoked.append((int(code), reason))
        self.frames.append(messages)
        self.changed.set()
        return True

    def rekey_session(self, session_key: str) -> None:
        self.auth = AuthInfo(user=self.auth.user, session_key=session_key)
        self.changed.set()


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> ConnectionRegistry:
    """A registry of this test's own, in place of the process-wide one."""
    fresh = ConnectionRegistry()
    monkeypatch.setattr(revocation, "registry", fresh)
    return fresh


@pytest.fixture
def no_channel_layer(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.CHANNEL_LAYERS = {}
    monkeypatch.setattr(revocation, "_warned_no_layer", False)


@pytest.fixture
async def running_listener() -> AsyncIterator[RevocationListener]:
    listener = RevocationListener()
    listener.ensure_running()
    await asyncio.wait_for(listener.joined.wait(), timeout=5)
    yield listener
    await listener.stop()


def alice_socket(conn_id: str = "c1", **auth: Any) -> FakeConnection:
    return FakeConnection(conn_id, AuthInfo(user=ALICE, **auth))


# -- the message ---------------------------------------------------------------------------------------


def test_message_names_the_criteria() -> None:
    """A revocation message carries every criterion, the code and the public reason."""
    assert revocation_message(user=ALICE, except_session="s1", reason="password_changed") == {
        "type": "warden.revoke",
        "user": "1",
        "session_key": None,
        "token_id": None,
        "except_session": "s1",
        "authenticator": None,
        "code": 4499,
        "reason": "password_changed",
    }


def test_message_needs_a_target() -> None:
    """A revocation that would match nothing is a programming error."""
    with pytest.raises(
        ValueError, match=r"^disconnect\(\) needs at least one of user, session_key or token$"
    ):
        revocation_message(authenticator="simplejwt")


@pytest.mark.parametrize(("user", "key"), [(ALICE, "1"), (7, "7"), ("42", "42")])
def test_user_may_be_an_instance_or_a_key(user: Any, key: str) -> None:
    """Users are named by instance, integer or string key."""
    assert revocation_message(user=user)["user"] == key


def test_token_may_be_a_drf_token() -> None:
    """A DRF Token instance is named by the digest warden recorded at connect time."""
    from rest_framework.authtoken.models import Token

    from channels_warden.authenticators.base import token_digest

    assert revocation_message(token=Token(key="abc"))["token_id"] == token_digest("abc", "drf")


def test_token_may_be_a_knox_token() -> None:
    """A knox AuthToken is named by the prefix of its digest."""
    from knox.models import AuthToken

    assert revocation_message(token=AuthToken(digest="d" * 128))["token_id"] == "knox:" + "d" * 32


def test_token_of_another_type_is_refused() -> None:
    """Anything else as a token is a TypeError naming its type."""
    with pytest.raises(TypeError, match=r"^token must be a token id string or a DRF/knox token, not int$"):
        revocation_message(token=5)


# -- matching in this process ---------------------------------------------------------------------------


async def test_close_matching_revokes_the_named_sockets(registry: ConnectionRegistry) -> None:
    """Each matching socket is revoked with the message's code and reason; others are left."""
    mine, other = alice_socket("c1", session_key="s1"), alice_socket("c2", session_key="s2")
    registry.add(mine)  # type: ignore[arg-type]
    registry.add(other)  # type: ignore[arg-type]
    closed = await close_matching(revocation_message(session_key="s1", reason="logout"))
    assert (closed, mine.revoked, other.revoked) == (1, [(4499, "logout")], [])


async def test_close_matching_builds_the_frames_once_for_every_socket(registry: ConnectionRegistry) -> None:
    """A revocation hands every socket the same prepared frame and close, not one build per socket."""
    sockets = [alice_socket(f"c{index}") for index in range(3)]
    for socket in sockets:
        registry.add(socket)  # type: ignore[arg-type]
    await close_matching(revocation_message(user=ALICE, reason="logout"))
    frames = {id(socket.frames[0]) for socket in sockets}
    assert len(frames) == 1
    assert [message["type"] for message in sockets[0].frames[0]] == ["websocket.send", "websocket.close"]
    assert '"reason": "logout"' in sockets[0].frames[0][0]["text"]


async def test_close_matching_defaults_the_reason_to_the_codes(registry: ConnectionRegistry) -> None:
    """An eviction message with a code and no reason uses the code's reason."""
    socket = alice_socket("c1")
    registry.add(socket)  # type: ignore[arg-type]
    await close_matching({"type": "warden.revoke", "connection_id": "c1", "code": 4409})
    assert socket.revoked == [(4409, "replaced")]


async def test_without_a_channel_layer_revocations_stay_local(
    registry: ConnectionRegistry, no_channel_layer: None, caplog: pytest.LogCaptureFixture
) -> None:
    """With no channel layer a revocation reaches this process only, and the log says so once."""
    socket = alice_socket()
    registry.add(socket)  # type: ignore[arg-type]
    await disconnect(user=ALICE)
    await disconnect(user=ALICE)
    assert (socket.revoked, [r.getMessage() for r in caplog.records]) == (
        [(4499, "revoked"), (4499, "revoked")],
        ["no channel layer 'default': revocations reach this process only"],
    )


async def test_rekey_without_a_channel_layer(registry: ConnectionRegistry, no_channel_layer: None) -> None:
    """A session re-key is applied locally when there is no channel layer."""
    socket = alice_socket(session_key="old")
    registry.add(socket)  # type: ignore[arg-type]
    await rekey_session("old", "new")
    assert registry.matching(session_key="new") == [socket]


def test_disconnect_sync_from_synchronous_code(registry: ConnectionRegistry, no_channel_layer: None) -> None:
    """Views and management commands use the sync wrapper."""
    socket = alice_socket()
    registry.add(socket)  # type: ignore[arg-type]
    disconnect_sync(user=1, reason="admin")
    assert socket.revoked == [(4499, "admin")]


# -- the listener ------------------------------------------------------------------------------------------


async def test_listener_applies_group_messages(
    registry: ConnectionRegistry, running_listener: RevocationListener
) -> None:
    """A revocation sent to the group reaches this process's sockets through the listener."""
    socket = alice_socket()
    registry.add(socket)  # type: ignore[arg-type]
    await disconnect(user=ALICE, reason="logout")
    await asyncio.wait_for(socket.changed.wait(), timeout=5)
    assert socket.revoked == [(4499, "logout")]


async def test_listener_applies_rekeys(
    registry: ConnectionRegistry, running_listener: RevocationListener
) -> None:
    """A re-key sent to the group moves this process's sockets to the new session key."""
    socket = alice_socket(session_key="old")
    registry.add(socket)  # type: ignore[arg-type]
    await rekey_session("old", "new")
    await asyncio.wait_for(socket.changed.wait(), timeout=5)
    assert (registry.matching(session_key="old"), registry.matching(session_key="new")) == ([], [socket])


async def test_a_handler_that_hangs_holds_up_no_revocation(
    registry: ConnectionRegistry,
    running_listener: RevocationListener,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A registered handler (group memberships) runs beside the listener: while one hangs on a client
    that never reads, the next revocation is applied at once, and a handler's error is logged."""
    release = asyncio.Event()
    started = asyncio.Event()

    async def hangs(message: dict[str, Any]) -> None:
        started.set()
        await release.wait()
        raise RuntimeError("the client went away")

    monkeypatch.setitem(revocation.handlers, "test.hangs", hangs)
    socket = alice_socket()
    registry.add(socket)  # type: ignore[arg-type]
    await get_channel_layer().group_send(GROUP, {"type": "test.hangs"})
    await asyncio.wait_for(started.wait(), timeout=5)
    await disconnect(user=ALICE, reason="logout")
    await asyncio.wait_for(socket.changed.wait(), timeout=5)
    assert socket.revoked == [(4499, "logout")]
    release.set()
    for _ in range(20):
        await asyncio.sleep(0)
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR] == [
        "channel-layer message could not be applied"
    ]


async def test_listener_survives_a_bad_message(
    registry: ConnectionRegistry, running_listener: RevocationListener, caplog: pytest.LogCaptureFixture
) -> None:
    """A message that cannot be applied is logged, and the next one still works."""
    socket = alice_socket()
    registry.add(socket)  # type: ignore[arg-type]
    layer = get_channel_layer()
    await layer.group_send(GROUP, {"type": "warden.revoke", "user": "1", "code": 12})
    await disconnect(user=ALICE)
    await asyncio.wait_for(socket.changed.wait(), timeout=5)
    assert (socket.revoked, [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]) == (
        [(4499, "revoked")],
        ["revocation message could not be applied"],
    )


async def test_listener_starts_once_per_loop() -> None:
    """ensure_running on the loop it already runs on does not start a second listener."""
    listener = RevocationListener()
    listener.ensure_running()
    task = listener._task
    listener.ensure_running()
    assert listener._task is task
    await listener.stop()


async def test_listener_does_not_start_without_a_channel_layer(no_channel_layer: None) -> None:
    """Without a channel layer there is nothing to listen to."""
    listener = RevocationListener()
    listener.ensure_running()
    assert listener._task is None


async def test_listener_reconnects_after_a_layer_failure(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """When the channel layer fails, the listener logs it, backs off and joins again."""
    original = InMemoryChannelLayer.new_channel
    failures = [RuntimeError("layer down")]

    async def flaky_new_channel(self: InMemoryChannelLayer, prefix: str = "specific.") -> str:
        if failures:
            raise failures.pop()
        return await original(self, prefix)

    monkeypatch.setattr(InMemoryChannelLayer, "new_channel", flaky_new_channel)
    listener = RevocationListener()
    listener.ensure_running()
    await asyncio.wait_for(listener.joined.wait(), timeout=5)
    await listener.stop()
    assert [r.getMessage() for r in caplog.records if r.name == "channels_warden.revocation"] == [
        "revocation listener lost the channel layer (attempt 1)",
        "revocation listener reconnected after 1 failure(s)",
    ]


async def test_stopping_a_listener_that_never_ran() -> None:
    """stop() on an idle listener is harmless."""
    listener = RevocationListener()
    await listener.stop()
    assert listener._task is None


async def test_broadcast_uses_the_group() -> None:
    """With a channel layer, broadcast is one group message."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(GROUP, channel)
    await broadcast({"type": "warden.revoke", "user": "9"})
    message = await asyncio.wait_for(layer.receive(channel), timeout=5)
    await layer.group_discard(GROUP, channel)
    assert message == {"type": "warden.revoke", "user": "9"}


async def test_broadcast_retries_a_failed_send(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A group send that fails once is retried, with a warning."""
    original = InMemoryChannelLayer.group_send
    failures = [ConnectionError("blip")]

    async def flaky(self: InMemoryChannelLayer, group: str, message: dict[str, Any]) -> None:
        if failures:
            raise failures.pop()
        await original(self, group, message)

    monkeypatch.setattr(InMemoryChannelLayer, "group_send", flaky)
    await broadcast({"type": "warden.revoke", "user": "9"})
    assert [r.getMessage() for r in caplog.records] == [
        "broadcast of warden.revoke failed (ConnectionError('blip')); trying again"
    ]


async def test_broadcast_gives_up_after_its_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    """A channel layer that stays down makes broadcast raise, so the caller can log it."""

    async def down(self: InMemoryChannelLayer, group: str, message: dict[str, Any]) -> None:
        raise ConnectionError("down")

    monkeypatch.setattr(InMemoryChannelLayer, "group_send", down)
    with pytest.raises(ConnectionError, match=r"^down$"):
        await broadcast({"type": "warden.revoke", "user": "9"})


async def test_listener_rejoins_the_group_periodically(
    registry: ConnectionRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The listener re-adds itself to the group (channels_redis forgets members after a day)."""
    monkeypatch.setattr(revocation, "REJOIN_SECONDS", 0.0)
    joins: list[str] = []
    original = InMemoryChannelLayer.group_add

    async def counting(self: InMemoryChannelLayer, group: str, channel: str) -> None:
        joins.append(group)
        await original(self, group, channel)

    monkeypatch.setattr(InMemoryChannelLayer, "group_add", counting)
    listener = RevocationListener()
    listener.ensure_running()
    await asyncio.wait_for(listener.joined.wait(), timeout=5)
    socket = alice_socket()
    registry.add(socket)  # type: ignore[arg-type]
    await disconnect(user=ALICE)
    await asyncio.wait_for(socket.changed.wait(), timeout=5)
    await listener.stop()
    assert joins == [GROUP, GROUP]


async def test_listener_ignores_revocations_for_other_processes(
    registry: ConnectionRegistry, running_listener: RevocationListener
) -> None:
    """A revocation that matches no socket here closes nothing, and the listener keeps going."""
    socket = alice_socket()
    registry.add(socket)  # type: ignore[arg-type]
    await disconnect(user=99)
    await disconnect(user=ALICE)
    await asyncio.wait_for(socket.changed.wait(), timeout=5)
    assert socket.revoked == [(4499, "revoked")]


# -- identity-cache purges ---------------------------------------------------------------------------


def _cached_alice() -> Any:
    """Put an entry for user 1 in the process's identity cache; return its credential."""
    from channels_warden.authenticators import DRFTokenAuthenticator
    from channels_warden.credentials import Credential
    from channels_warden.identity import CredentialInfo
    from channels_warden.identity_cache import CacheConfig, identity_cache

    identity_cache.clear()
    credential = Credential("token", "k" * 40, "header")
    identity_cache.put(
        credential,
        DRFTokenAuthenticator(),
        User(pk=1, username="alice"),
        CredentialInfo(),
        config=CacheConfig(),
        generation=identity_cache.generation,
    )
    return credential


async def test_purge_without_a_channel_layer_forgets_the_user_and_closes_nothing(
    registry: ConnectionRegistry, no_channel_layer: None
) -> None:
    """A warden.purge message empties the user's cache entries and leaves their sockets open."""
    from channels_warden.authenticators import DRFTokenAuthenticator
    from channels_warden.identity_cache import identity_cache

    credential = _cached_alice()
    socket = alice_socket()
    registry.add(socket)  # type: ignore[arg-type]
    await broadcast({"type": revocation.PURGE_TYPE, "user": "1"})
    assert (identity_cache.get(credential, DRFTokenAuthenticator()), socket.revoked) == (None, [])


async def test_listener_applies_purges(
    registry: ConnectionRegistry, running_listener: RevocationListener
) -> None:
    """A purge sent to the group reaches this process's identity cache through the listener."""
    from channels_warden.authenticators import DRFTokenAuthenticator
    from channels_warden.identity_cache import identity_cache

    credential = _cached_alice()
    socket = alice_socket(conn_id="c9", session_key="s")
    registry.add(socket)  # type: ignore[arg-type]
    await broadcast({"type": revocation.PURGE_TYPE, "user": "1"})
    await disconnect(session_key="s")  # applied after the purge: a marker that the purge is done
    await asyncio.wait_for(socket.changed.wait(), timeout=5)
    assert identity_cache.get(credential, DRFTokenAuthenticator()) is None
