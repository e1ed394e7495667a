"""The example project (``example/``) run the way ``make demo`` runs it: helpers shared by its suites.

Its processes (``manage.py``, uvicorn, daphne) get ``chatsite.settings`` and an environment in which
every setting has its default, whatever the environment running the tests says, except the ones a
suite passes on purpose (a database URL, a Redis URL...).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT, LiveServer, start_server

EXAMPLE = ROOT / "example"
TIMEOUT = float(os.environ.get("WARDEN_E2E_TIMEOUT", "10"))
#: seed_demo's default password for alice, bob and carol.
PASSWORD = "warden-demo"
APP = "chatsite.asgi:application"

_templates: dict[Path, Path] = {}


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def demo_env(database: Path | str, **extra: str) -> dict[str, str]:
    """The environment of the example's processes: its settings, this database, defaults for the rest.

    ``database`` is a SQLite file or a ``DATABASE_URL``.
    """
    env = {
        "DJANGO_SETTINGS_MODULE": "chatsite.settings",
        "DATABASE_URL": sqlite_url(database) if isinstance(database, Path) else database,
        # Empty means "use the default", whatever the environment running the tests says.
        "DJANGO_SECRET_KEY": "",
        "DJANGO_DEBUG": "",
        "DJANGO_ALLOWED_HOSTS": "",
        "DJANGO_CSRF_TRUSTED_ORIGINS": "",
        "WARDEN_ALLOWED_ORIGINS": "",
        "WARDEN_COMPAT": "",
        "REDIS_URL": "",
        "JWT_SIGNING_KEY": "",
        "JWT_ACCESS_LIFETIME": "",
        "CHAT_PRESENCE_LEASE": "",
    }
    return {**env, **extra}


def manage(database: Path | str, *args: str, **env: str) -> str:
    """Run ``python manage.py <args>`` in ``example/`` and return its output; fail on a non-zero exit."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=EXAMPLE,
        env={**os.environ, **demo_env(database, **env)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty SQLite database, made once per test run; copy it, never write to it."""
    base = tmp_path_factory.getbasetemp()
    if base not in _templates:
        path = tmp_path_factory.mktemp("example-db") / "migrated.sqlite3"
        manage(path, "migrate", "--noinput")
        _templates[base] = path
    return _templates[base]


def copy_database(template: Path, directory: Path) -> Path:
    return Path(shutil.copy(template, directory / "db.sqlite3"))


def start_example(kind: str, directory: Path, env: dict[str, str]) -> LiveServer:
    """Serve the example with ``kind`` from ``example/``, logging to ``directory/server.log``."""
    return start_server(kind, directory / "server.log", env, app=APP, cwd=EXAMPLE)
