"""The package's import-time promise: importing it is safe anywhere in asgi.py, in any order."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import channels_warden

ROOT = Path(__file__).resolve().parent.parent


def run_python(code: str, *, settings_module: str | None) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (warnings are errors), with or without DJANGO_SETTINGS_MODULE."""
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "src")])
    if settings_module is not None:
        env["DJANGO_SETTINGS_MODULE"] = settings_module
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_import_before_settings_are_configured() -> None:
    """Importing the package and its public names reads no settings and touches no models."""
    result = run_python(
        """
        import channels_warden
        from channels_warden import WardenMiddlewareStack, guard, IsStaff, CloseCode
        import channels_warden.authenticators
        from django.conf import settings
        print(settings.configured, WardenMiddlewareStack.__name__, guard.__name__)
        """,
        settings_module=None,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "False WardenMiddlewareStack guard\n", "")


def test_middleware_built_before_django_setup() -> None:
    """asgi.py may build WardenMiddlewareStack(URLRouter(...)) before django.setup() has run."""
    result = run_python(
        """
        from django.conf import settings
        settings.configure(SECRET_KEY="x" * 50, INSTALLED_APPS=["django.contrib.auth",
            "django.contrib.contenttypes", "django.contrib.sessions", "channels_warden"])
        from channels.routing import URLRouter
        from channels_warden import WardenMiddlewareStack, guard

        application = WardenMiddlewareStack(URLRouter([]))
        import django
        django.setup()
        print(type(application).__name__)
        """,
        settings_module=None,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "SessionScopeMiddleware\n", "")


def test_project_asgi_imports_cleanly() -> None:
    """tests.project.asgi imports channels_warden before get_asgi_application(): that order works."""
    result = run_python(
        """
        import tests.project.asgi as asgi
        print(type(asgi.application).__name__)
        """,
        settings_module="tests.settings",
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "ProtocolTypeRouter\n", "")


def test_version_is_exported() -> None:
    """The package states its version."""
    assert channels_warden.__version__ == "0.1.0.dev0"


def test_public_names_are_exported() -> None:
    """Every name in __all__ is importable from the package."""
    assert [name for name in channels_warden.__all__ if not hasattr(channels_warden, name)] == []
