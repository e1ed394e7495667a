"""warden.js is served in every setup docs/warden-js.md names, fetched over HTTP from a real server.

A throw-away project (settings, routing, and the ``asgi.py`` taken as written from the page) is served by
daphne's ``runserver``, uvicorn, daphne, and, after ``collectstatic``, a static file server.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.docblocks import named_files, write_files

from .conftest import ROOT, START_TIMEOUT, free_port

SHIPPED = ROOT / "src" / "channels_warden" / "static" / "channels_warden" / "warden.js"
PATH = "/static/channels_warden/warden.js"
JAVASCRIPT = {"text/javascript", "application/javascript"}

SETTINGS = """
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "tests-only-warden-js-served-0123456789-0123456789"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1"]
INSTALLED_APPS = [
    "daphne",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "channels",
    "channels_warden",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
ROOT_URLCONF = "myproject.urls"
ASGI_APPLICATION = "myproject.asgi.application"
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "public" / "static"
"""
MANAGE = """
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "myproject.settings")
from django.core.management import execute_from_command_line

execute_from_command_line(sys.argv)
"""
URLS = """
from django.http import HttpResponse
from django.urls import path

urlpatterns = [path("", lambda request: HttpResponse("home"))]
"""
#: Django's own runserver (WSGI): the same settings without daphne.
SETTINGS_WSGI = """
from myproject.settings import *  # noqa: F403

INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "daphne"]  # noqa: F405
"""
#: The same project without the page's advice: an ASGI app with no static handler.
BARE_ASGI = """
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "myproject.settings")
from django.core.asgi import get_asgi_application

application = get_asgi_application()
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The page's ``asgi.py`` in a project of its own, outside the checkout."""
    directory = tmp_path_factory.mktemp("warden-js-project")
    page = named_files("warden-js.md")
    write_files({"myproject/asgi.py": page["myproject/asgi.py"]}, directory)
    write_files(
        {
            "manage.py": MANAGE,
            "myproject/__init__.py": "",
            "myproject/settings.py": SETTINGS,
            # One route: with none at all, DEBUG answers every path with Django's welcome page (200).
            "myproject/urls.py": URLS,
            "myproject/routing.py": "websocket_urlpatterns = []\n",
            "myproject/asgi_bare.py": BARE_ASGI,
            "myproject/settings_wsgi.py": SETTINGS_WSGI,
        },
        directory,
    )
    return directory


def project_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    return {**env, "DJANGO_SETTINGS_MODULE": "myproject.settings", "PYTHONUNBUFFERED": "1"}


def serve(command: list[str], cwd: Path, port: int, log: Path) -> Iterator[str]:
    """Run a server until the caller is done; yield its base URL once it accepts connections."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=cwd, env=project_env(), stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{command} exited with {process.returncode}:\n{log.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{command} did not listen:\n{log.read_text()}") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def fetch(url: str) -> tuple[int, str, bytes]:
    """Status, content type (without parameters) and body of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers.get_content_type(), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get_content_type(), error.read()


def assert_serves_warden_js(base: str) -> None:
    status, content_type, body = fetch(base + PATH)
    assert (status, content_type in JAVASCRIPT, body == SHIPPED.read_bytes()) == (200, True, True), (
        status,
        content_type,
    )


@pytest.mark.parametrize(
    ("flavour", "settings"), [("daphne", "myproject.settings"), ("django", "myproject.settings_wsgi")]
)
def test_runserver_serves_it(project: Path, tmp_path: Path, flavour: str, settings: str) -> None:
    """`manage.py runserver` with DEBUG serves warden.js: daphne's ("daphne" installed) and Django's."""
    port = free_port()
    command = [
        sys.executable,
        "manage.py",
        "runserver",
        "--noreload",
        "--settings",
        settings,
        f"127.0.0.1:{port}",
    ]
    for base in serve(command, project, port, tmp_path / f"runserver-{flavour}.log"):
        assert_serves_warden_js(base)
        assert (flavour == "daphne") == (
            "daphne" in (tmp_path / f"runserver-{flavour}.log").read_text().lower()
        )


@pytest.mark.parametrize("kind", ["uvicorn", "daphne"])
def test_asgi_server_with_the_static_handler(project: Path, tmp_path: Path, kind: str) -> None:
    """uvicorn and daphne serve warden.js through the page's asgi.py (ASGIStaticFilesHandler)."""
    port = free_port()
    app = "myproject.asgi:application"
    command = {
        "uvicorn": [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)],
        "daphne": [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), app],
    }[kind]
    for base in serve(command, project, port, tmp_path / f"{kind}.log"):
        assert_serves_warden_js(base)


def test_uvicorn_without_a_static_handler_answers_404(project: Path, tmp_path: Path) -> None:
    """Without the page's advice, uvicorn answers 404: the trap the page warns about."""
    port = free_port()
    app = "myproject.asgi_bare:application"
    command = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    for base in serve(command, project, port, tmp_path / "bare.log"):
        assert fetch(base + PATH)[0] == 404


def test_collectstatic_behind_a_static_server_serves_it(project: Path, tmp_path: Path) -> None:
    """collectstatic copies warden.js into STATIC_ROOT, and a plain static file server serves it."""
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=project,
        env=project_env(),
        capture_output=True,
        timeout=60,
        check=True,
    )
    port = free_port()
    command = [sys.executable, "-m", "http.server", "-b", "127.0.0.1", "-d", "public", str(port)]
    for base in serve(command, project, port, tmp_path / "static.log"):
        assert_serves_warden_js(base)
