"""Sending through a channel layer that pushes back.

channels_redis keeps every channel of one server process in a single inbox capped at ``capacity``
messages (100 by default) and raises ``ChannelFull`` beyond it. A membership revocation of a
thousand sockets sends one ``warden.left`` per consumer into the inboxes of the processes that hold
them, faster than those processes drain them, and the confirmation a waiting ``revoke_membership``
expects travels through the same kind of inbox. Both are worth a short wait, never a lost message.
"""

from __future__ import annotations

import asyncio
from typing import Any

from channels.exceptions import ChannelFull

FIRST_PAUSE = 0.005
LONGEST_PAUSE = 0.1


async def send_when_room(layer: Any, channel: str, message: dict[str, Any], *, within: float) -> None:
    """``layer.send``, waiting out ``ChannelFull`` with growing pauses for at most ``within`` seconds.

    Raises ``ChannelFull`` once ``within`` has passed without room in the channel.
    """
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + within
    pause = FIRST_PAUSE
    while True:
        try:
            await layer.send(channel, message)
            return
        except ChannelFull:
            if loop.time() + pause > give_up_at:
                raise
        await asyncio.sleep(pause)
        pause = min(pause * 2, LONGEST_PAUSE)
