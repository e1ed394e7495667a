"""What the results were measured on: CPU, cores, and the versions that matter."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = (
    "Django",
    "channels",
    "channels-warden",
    "uvicorn",
    "daphne",
    "websockets",
    "uvloop",
    "Twisted",
    "channels_redis",
    "redis",
    "djangorestframework",
    "djangorestframework-simplejwt",
    "PyJWT",
    "channels-auth-token-middlewares",
    "django-channels-jwt-stateless",
)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def describe() -> dict[str, Any]:
    return {
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "memory_bytes": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "versions": {package: version(package) for package in PACKAGES},
        "load_average_at_start": list(os.getloadavg()),
    }
