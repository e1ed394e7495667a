"""The built wheel, installed into a fresh virtual environment outside the checkout, runs a project.

``python -m build`` makes the sdist and then the wheel *from the sdist*, so a file missing from either
(``py.typed``, ``static/channels_warden/warden.js``, the management commands) or an import that only
works from the source tree fails here, as it would for the first person to ``pip install`` the package.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from .conftest import ROOT, START_TIMEOUT, free_port

# Building, a fresh venv and pip (which may download the pinned packages on a new machine) happen in
# the first tests' fixtures: more than pytest-timeout's 60 s default allows a cold machine.
pytestmark = pytest.mark.timeout(300)

SETTINGS = """
SECRET_KEY = "tests-only-wheel-install-0123456789-0123456789-0123456789"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "channels",
    "channels_warden",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}}
ROOT_URLCONF = "shop.urls"
STATIC_URL = "/static/"
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
"""
ASGI = """
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.urls import path

from channels_warden import WardenMiddlewareStack, guard


async def whoami(scope, receive, send):
    await receive()
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": str(scope["user"])})
    while (await receive())["type"] != "websocket.disconnect":
        pass


application = ProtocolTypeRouter(
    {
        "http": ASGIStaticFilesHandler(django_asgi_app),
        "websocket": WardenMiddlewareStack(
            URLRouter([path("ws/public/", guard(whoami, allow_anonymous=True)), path("ws/private/", whoami)])
        ),
    }
)
"""
MANAGE = """
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
from django.core.management import execute_from_command_line

execute_from_command_line(sys.argv)
"""
#: What the fresh environment gets besides the wheel, pinned to the versions this suite runs on.
REQUIREMENTS = [
    f"{name}=={version(name)}" for name in ("Django", "channels", "asgiref", "uvicorn", "websockets")
]


def clean_env() -> dict[str, str]:
    """This environment minus anything that would put the checkout or its venv on the path."""
    drop = {"PYTHONPATH", "VIRTUAL_ENV", "DJANGO_SETTINGS_MODULE", "PYTHONHOME"}
    return {key: value for key, value in os.environ.items() if key not in drop}


def run(command: list[str], cwd: Path, timeout: float = 120) -> str:
    result = subprocess.run(
        command, cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`python -m build` output (sdist, then the wheel built from it), checked by twine."""
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], cwd=out, timeout=180)
    run([sys.executable, "-m", "twine", "check", "--strict", *map(str, sorted(out.iterdir()))], cwd=out)
    return out


@pytest.fixture(scope="module")
def installed(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment outside the checkout with the wheel installed; its python."""
    venv = tmp_path_factory.mktemp("venv")
    run([sys.executable, "-m", "venv", str(venv)], cwd=venv)
    (wheel,) = dist.glob("channels_warden-*.whl")
    python = venv / "bin" / "python"
    run([str(python), "-m", "pip", "install", "--quiet", str(wheel), *REQUIREMENTS], cwd=venv, timeout=300)
    return python


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("shop")
    (directory / "shop").mkdir()
    (directory / "manage.py").write_text(MANAGE)
    (directory / "shop" / "__init__.py").write_text("")
    (directory / "shop" / "settings.py").write_text(SETTINGS)
    (directory / "shop" / "urls.py").write_text("urlpatterns = []\n")
    (directory / "shop" / "asgi.py").write_text(ASGI)
    return directory


def test_dist_holds_an_sdist_and_a_wheel(dist: Path) -> None:
    """`python -m build` makes both files, named after the version."""
    assert sorted(path.name for path in dist.iterdir()) == [
        "channels_warden-0.1.0.dev0-py3-none-any.whl",
        "channels_warden-0.1.0.dev0.tar.gz",
    ]


def test_the_wheel_installs_its_package_data(installed: Path, project: Path) -> None:
    """The installed package is the venv's own, with py.typed and warden.js next to it."""
    script = (
        "import pathlib, channels_warden as w; p = pathlib.Path(w.__file__).parent; "
        "print(p.is_relative_to(pathlib.Path(__import__('sys').prefix)), (p / 'py.typed').is_file(), "
        "(p / 'static/channels_warden/warden.js').is_file(), w.__version__)"
    )
    assert run([str(installed), "-c", script], cwd=project).split() == ["True", "True", "True", "0.1.0.dev0"]


def test_manage_py_check_runs_wardens_checks(installed: Path, project: Path) -> None:
    """`manage.py check` passes and runs warden's checks from the wheel: W001 (no ALLOWED_ORIGINS) and
    W005 (the in-memory channel layer of this DEBUG=False project reaches one process only)."""
    output = run([str(installed), "manage.py", "check"], cwd=project)
    found = ("(channels_warden.W001)" in output, "(channels_warden.W005)" in output)
    last = output.splitlines()[-1]
    assert (found, last) == ((True, True), "System check identified 2 issues (0 silenced).")


def test_management_commands_are_installed(installed: Path, project: Path) -> None:
    """warden's management commands ship in the wheel."""
    output = run([str(installed), "manage.py", "help", "warden_disconnect"], cwd=project)
    assert "usage: manage.py warden_disconnect" in output


@pytest.fixture(scope="module")
def uvicorn(installed: Path, project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """uvicorn from the fresh environment serving the project; its port."""
    port = free_port()
    log = tmp_path_factory.mktemp("uvicorn") / "uvicorn.log"
    command = [str(installed), "-m", "uvicorn", "shop.asgi:application", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=project, env=clean_env(), stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while b"Uvicorn running" not in log.read_bytes():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


async def handshake(port: int, path: str) -> tuple[list[str], int | None]:
    """The frames a client receives on ``path`` until the socket closes or goes quiet, and the close code."""
    frames: list[str] = []
    origin = f"http://127.0.0.1:{port}"  # same-origin, as a page served by this project
    async with connect(f"ws://127.0.0.1:{port}{path}", origin=origin) as socket:
        try:
            while True:
                frames.append(str(await asyncio.wait_for(socket.recv(), timeout=1)))
        except TimeoutError:
            return frames, None
        except Exception:
            return frames, socket.close_code


async def test_a_refused_handshake_through_uvicorn(uvicorn: int) -> None:
    """No credentials on a protected route: warden's 4401 frame and close code, from the wheel's code."""
    frames, code = await handshake(uvicorn, "/ws/private/")
    assert ([json.loads(frame) for frame in frames], code) == (
        [{"type": "warden.disconnect", "code": 4401, "reason": "unauthenticated", "reconnect": "refresh"}],
        4401,
    )


async def test_an_admitted_handshake_through_uvicorn(uvicorn: int) -> None:
    """A public route admits the anonymous client and the app sees warden's scope["user"]."""
    assert await handshake(uvicorn, "/ws/public/") == (["AnonymousUser"], None)


def test_warden_js_is_served_from_the_wheel(uvicorn: int) -> None:
    """The static handler finds warden.js in the installed package."""
    with urllib.request.urlopen(f"http://127.0.0.1:{uvicorn}/static/channels_warden/warden.js") as response:
        body = response.read()
    assert (response.status, body) == (
        200,
        (ROOT / "src" / "channels_warden" / "static" / "channels_warden" / "warden.js").read_bytes(),
    )
