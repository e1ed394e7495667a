"""Code blocks of the docs' Markdown pages, by the file name on their first line (``# path/file.py``).

Pages whose examples must run as written name each block's file; tests write those files out and run
them, so the docs cannot drift from the code.
"""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
FILE_NAME = re.compile(r"^# ([\w./-]+\.(?:py|toml))\n")


def code_blocks(page: str, languages: frozenset[str] = frozenset({"python", "toml"})) -> list[str]:
    """Every fenced block of ``docs/<page>`` in one of ``languages``, in page order."""
    return [body for language, body in BLOCK.findall((DOCS / page).read_text()) if language in languages]


def named_files(page: str) -> dict[str, str]:
    """The blocks of ``docs/<page>`` that start with ``# <file name>``, by that name."""
    files: dict[str, str] = {}
    for body in code_blocks(page):
        named = FILE_NAME.match(body)
        if named:
            files[named.group(1)] = body
    return files


def write_files(files: dict[str, str], directory: Path) -> None:
    """Write ``files`` (name to text) under ``directory``."""
    for name, body in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
