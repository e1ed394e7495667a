"""The example project's own manage.py, as a developer runs it: warden_explain and warden_disconnect.

Each command runs in a process of its own (``example/manage.py`` with ``chatsite.settings``) over a
seeded copy of the demo database, against the chat's real routes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .example_project import EXAMPLE, copy_database, demo_env, manage, migrated_sqlite

MINT = """
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework_simplejwt.tokens import RefreshToken
alice = get_user_model().objects.get(username="alice")
refresh = RefreshToken.for_user(alice)
print(Token.objects.get_or_create(user=alice)[0].key, refresh.access_token, refresh)
"""


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    database = copy_database(migrated_sqlite(tmp_path_factory), tmp_path_factory.mktemp("explain"))
    manage(database, "seed_demo")
    return database


@pytest.fixture(scope="module")
def secrets(seeded: Path) -> dict[str, str]:
    """alice's DRF token, SimpleJWT access token and refresh token, minted by the example itself."""
    token, access, refresh = manage(seeded, "shell", "-v", "0", "-c", MINT).split()
    return {"token": token, "access": access, "refresh": refresh}


def run(database: Path, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=EXAMPLE,
        env={**os.environ, **demo_env(database, **env)},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def explain(database: Path, secrets: dict[str, str], *args: str, stdin: str = "", **env: str) -> list[str]:
    """The output of ``manage.py warden_explain``, padding squeezed; fails if a secret shows anywhere."""
    result = run(database, "warden_explain", *args, stdin=stdin, **env)
    assert result.returncode == 0, result.stderr
    for secret in secrets.values():
        assert secret not in result.stdout + result.stderr
    return [" ".join(line.split()) for line in result.stdout.splitlines()]


def result_and_hints(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith(("refused ", "hint ", "result "))]


def test_admission_of_a_drf_token(seeded: Path, secrets: dict[str, str]) -> None:
    """Authorization: Token on a room alice may open: admitted as alice through the room's policy."""
    lines = explain(
        seeded,
        secrets,
        "ws://localhost:8000/ws/chat/lobby/",
        "-H",
        f"Authorization: Token {secrets['token']}",
    )
    assert [line for line in lines if line.startswith(("permission ", "admitted ", "result "))] == [
        "permission CanJoin('chat.{room}'): allowed",
        "admitted user 'alice' (pk 1); the application gets websocket.connect",
        "result admitted",
    ]


def test_refusal_of_a_foreign_origin(seeded: Path, secrets: dict[str, str]) -> None:
    """The React app's Origin on the default profile: 4403, naming the Origin and the allow-list."""
    lines = explain(
        seeded, secrets, "ws://localhost:8000/ws/chat/lobby/", "--origin", "http://localhost:3000",
        "--subprotocol", "warden", "--subprotocol", f"bearer.{secrets['access']}",
    )  # fmt: skip
    assert result_and_hints(lines) == [
        "refused 4403 forbidden; check origin: Origin http://localhost:3000 is not in ALLOWED_ORIGINS",
        "hint the Origin 'http://localhost:3000' is not in WARDEN['ALLOWED_ORIGINS'] = "
        "['http://127.0.0.1:8000', 'http://localhost:8000']; add it (scheme://host[:port], exactly as the "
        "browser sends it) if that front end is yours",
        "result close 4403 forbidden",
    ]


def test_refusal_of_a_refresh_token(seeded: Path, secrets: dict[str, str]) -> None:
    """The refresh token where the access token belongs, from a pasted curl command: 4401 with the hint."""
    curl = (
        f"curl 'ws://localhost:8000/ws/chat/lobby/' -H 'Authorization: Bearer {secrets['refresh']}' "
        "-H 'Sec-WebSocket-Version: 13' --compressed"
    )
    assert result_and_hints(explain(seeded, secrets, "-", stdin=curl)) == [
        "refused 4401 unauthenticated; check authenticator simplejwt: JWT refused by SimpleJWT: Token has "
        "wrong type",
        "hint the JWT is a refresh token (token_type 'refresh'); send the access token and keep the refresh "
        "token for your token-refresh endpoint",
        "result close 4401 unauthenticated",
    ]


def test_refusal_of_an_unknown_path(seeded: Path, secrets: dict[str, str]) -> None:
    """A path without its trailing slash, from a pasted raw request: 4404 with the chat's routes."""
    raw = (
        "GET /ws/chat/lobby HTTP/1.1\r\nHost: localhost:8000\r\n"
        f"Authorization: Token {secrets['token']}\r\n\r\n"
    )
    lines = explain(seeded, secrets, "-", stdin=raw)
    listing = next(line for line in lines if line.startswith("route no route below warden matches"))
    assert ("'ws/echo/'" in listing, "'ws/chat/'" in listing) == (True, True)
    assert (
        result_and_hints(lines)[0]
        == "refused 4404 not_found; check route: no route below warden matches the path"
    )
    assert result_and_hints(lines)[-1] == "result close 4404 not_found"


def test_compat_profile_admits_the_raw_jwt_and_shows_its_warnings(
    seeded: Path, secrets: dict[str, str]
) -> None:
    """WARDEN_COMPAT=seeds: seed 000's raw JWT from localhost:3000 is admitted; W002 and W003 show."""
    result = run(
        seeded, "warden_explain", "ws://localhost:8000/ws/chat/lobby/", "--origin", "http://localhost:3000",
        "--subprotocol", secrets["access"], WARDEN_COMPAT="seeds",
    )  # fmt: skip
    assert (result.returncode, result.stdout.splitlines()[-1].split()) == (0, ["result", "admitted"])
    assert ("channels_warden.W002" in result.stderr, "channels_warden.W003" in result.stderr) == (True, True)
    assert secrets["access"] not in result.stdout + result.stderr


def test_warden_disconnect_says_the_in_memory_layer_reaches_no_process(seeded: Path) -> None:
    """The default in-memory layer: warden_disconnect fails and says why, instead of claiming success."""
    result = run(seeded, "warden_disconnect", "--user", "alice")
    assert (result.returncode, result.stdout, result.stderr.strip()) == (
        1,
        "",
        "CommandError: Closed nothing: CHANNEL_LAYERS['default'] is InMemoryChannelLayer, which each process "
        "keeps to itself, so this command cannot reach any server process. Configure a shared channel layer "
        "such as 'channels_redis.core.RedisChannelLayer' (system check channels_warden.W005).",
    )
