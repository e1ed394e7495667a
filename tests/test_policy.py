"""Route policy: the defaults for unguarded routes, and guard() for one route."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from channels.db import database_sync_to_async

from channels_warden import WardenMiddleware, guard
from channels_warden.identity import AuthInfo
from channels_warden.permissions import BasePermission
from channels_warden.testing import (
    HandshakeOutcome,
    WardenCommunicator,
    connect_as,
    handshake,
)
from tests.inprocess import (
    FORBIDDEN,
    INTERNAL,
    UNAUTHENTICATED,
    RecordingApp,
    SentMessages,
    echo_application,
    queue_receive,
    whoami,
)

pytestmark = pytest.mark.usefixtures("stop_revocation_listener")


# -- the default policy ----------------------------------------------------------------------------


async def test_default_policy_refuses_anonymous() -> None:
    """A route without a guard follows ALLOW_ANONYMOUS (False): 4401."""
    outcome = await handshake(WardenCommunicator(echo_application(), "/ws/echo/"))
    assert (outcome.admitted, outcome.close_code) == (False, 4401)


async def test_allow_anonymous_setting_admits_anonymous() -> None:
    """With ALLOW_ANONYMOUS the same route admits a client without credentials."""
    communicator = WardenCommunicator(echo_application(ALLOW_ANONYMOUS=True), "/ws/echo/")
    assert (await handshake(communicator)).admitted is True
    assert (await whoami(communicator))["is_authenticated"] is False


async def test_default_permissions_apply_to_unguarded_routes(alice: Any) -> None:
    """DEFAULT_PERMISSIONS is checked on routes without a guard."""
    application = echo_application(DEFAULT_PERMISSIONS=["channels_warden.permissions.IsStaff"])
    _, outcome = await connect_as(application, alice, "/ws/echo/", credential="jwt")
    assert outcome.close_code == 4403


async def test_refused_by_policy_the_app_never_receives_connect() -> None:
    """Without credentials on a route that needs them, the app runs but never sees websocket.connect."""
    inner = RecordingApp()
    outcome = await handshake(WardenCommunicator(WardenMiddleware(inner), "/ws/"))
    assert outcome == HandshakeOutcome(admitted=False, close_code=4401, frame=UNAUTHENTICATED)
    assert inner.events == []


# -- guard() ---------------------------------------------------------------------------------------


async def test_guard_allow_anonymous_admits_anonymous() -> None:
    """guard(allow_anonymous=True) overrides the default for its route."""
    communicator = WardenCommunicator(echo_application(), "/ws/public/")
    assert (await handshake(communicator)).admitted is True
    assert (await whoami(communicator))["user"] is None


async def test_guard_permissions_refuse_anonymous_with_4401() -> None:
    """A staff-only route refuses a client without credentials with 4401: credentials would help."""
    outcome = await handshake(WardenCommunicator(echo_application(), "/ws/staff/"))
    assert outcome.close_code == 4401


async def test_guard_permissions_refuse_a_user_with_4403(alice: Any) -> None:
    """A staff-only route refuses an authenticated non-staff user with 4403."""
    _, outcome = await connect_as(echo_application(), alice, "/ws/staff/", credential="jwt")
    assert (outcome.close_code, outcome.frame) == (4403, FORBIDDEN)


async def test_guard_permissions_admit_staff(make_user: Any, transactional_db: None) -> None:
    """A staff user opens the staff-only route."""
    staff = await database_sync_to_async(make_user)("carol", is_staff=True)
    communicator, outcome = await connect_as(echo_application(), staff, "/ws/staff/", credential="jwt")
    assert outcome.admitted is True
    assert (await whoami(communicator))["user"] == "carol"


async def test_permission_that_raises_fails_closed(caplog: pytest.LogCaptureFixture) -> None:
    """A permission that crashes refuses the socket with 4500 and logs the traceback."""

    class Broken(BasePermission):
        def has_permission(self, scope: Any, auth: AuthInfo) -> bool:
            raise RuntimeError("permission backend down")

    application = WardenMiddleware(guard(RecordingApp(), allow_anonymous=True, permissions=[Broken()]))
    outcome = await handshake(WardenCommunicator(application, "/ws/"))
    assert (outcome.close_code, outcome.frame) == (4500, INTERNAL)
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR] == [
        "policy check failed on /ws/"
    ]


async def test_guard_without_middleware_explains_the_fix() -> None:
    """guard() outside WardenMiddleware fails loudly, saying where the middleware must go."""
    from django.core.exceptions import ImproperlyConfigured

    communicator = WardenCommunicator(guard(RecordingApp()), "/ws/")
    await communicator.send_input({"type": "websocket.connect"})
    with pytest.raises(ImproperlyConfigured) as exc_info:
        await communicator.receive_output()
    assert str(exc_info.value) == (
        "guard() found no warden connection in the scope: WardenMiddleware (or "
        "WardenMiddlewareStack) must be above the URLRouter that contains this route."
    )


async def test_guard_passes_other_scopes_through() -> None:
    """An http scope goes through a guard untouched."""
    inner = RecordingApp()
    scope = {"type": "http", "path": "/"}
    await guard(inner)(scope, queue_receive(), SentMessages())
    assert inner.scope is scope
