"""Unknown paths on the example chat, where warden is the outermost router's parent: 4404, never a 500.

Here Channels' URLRouter raises ``ValueError("No route found ...")`` (the test project nests its
routers, which raise ``Resolver404`` instead); warden must own both.
"""

from __future__ import annotations

import pytest

from ..hostile_table import CatalogClient, Request, frame
from .support import ChatServer


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/ws/nowhere/", id="unknown"),
        pytest.param("/ws/chat/lobby/extra/", id="longer-than-a-route"),
        pytest.param("/ws/%0d%0aInjected:%20yes/", id="crlf"),
        pytest.param("/ws/" + "9f" * 20 + "/", id="token-in-path"),
    ],
)
async def test_unknown_chat_path_is_4404_without_a_traceback(chat_server: ChatServer, path: str) -> None:
    """The example answers an unknown path with warden's 4404 frame; its log has no traceback."""
    before = len(chat_server.live.log())
    outcome, _ = await CatalogClient(chat_server.live).send(
        Request(path=path, origin=chat_server.origin.encode())
    )
    log = chat_server.live.log()[before:]
    assert (outcome.status, outcome.frame, outcome.close_code, "Traceback" in log) == (
        101,
        frame(4404),
        4404,
        False,
    )
