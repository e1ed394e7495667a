"""Sending through a channel layer that pushes back (``ChannelFull``): wait for room, within a bound."""

from __future__ import annotations

from typing import Any

import pytest
from channels.exceptions import ChannelFull

from channels_warden.groups.delivery import send_when_room


class FullLayer:
    """A layer whose channel is full for the first ``full_for`` sends."""

    def __init__(self, full_for: int) -> None:
        self.full_for = full_for
        self.attempts = 0
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        self.attempts += 1
        if self.attempts <= self.full_for:
            raise ChannelFull(channel)
        self.sent.append((channel, message))


async def test_a_message_waits_for_room_and_is_sent_once() -> None:
    """Three ChannelFull answers, then room: the message is sent exactly once."""
    layer = FullLayer(full_for=3)
    await send_when_room(layer, "specific.a!1", {"type": "ack"}, within=2)
    assert (layer.attempts, layer.sent) == (4, [("specific.a!1", {"type": "ack"})])


async def test_a_channel_that_stays_full_raises_after_the_bound() -> None:
    """No room within the bound: ChannelFull reaches the caller, after a few tries, not forever."""
    layer = FullLayer(full_for=10_000)
    with pytest.raises(ChannelFull):
        await send_when_room(layer, "specific.a!1", {"type": "ack"}, within=0.05)
    assert 1 < layer.attempts < 20
    assert layer.sent == []


async def test_other_errors_are_not_retried() -> None:
    """Only ChannelFull is backpressure; any other error is raised at once."""

    class Broken:
        attempts = 0

        async def send(self, channel: str, message: dict[str, Any]) -> None:
            self.attempts += 1
            raise ConnectionError("layer down")

    layer = Broken()
    with pytest.raises(ConnectionError):
        await send_when_room(layer, "c", {}, within=1)
    assert layer.attempts == 1
