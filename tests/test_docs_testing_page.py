"""docs/testing.md: every code block that names a file is written out and run with pytest, as written.

A reader copies these blocks into their own project; if they drift from the code (a renamed helper,
a missing import, a pytest setting the page forgot), this test fails, not the reader.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "testing.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
FILE_NAME = re.compile(r"^# ([\w./-]+\.(?:py|toml))\n")


def page_files() -> dict[str, str]:
    """The page's ``python`` and ``toml`` blocks, by the file name on their first line."""
    files: dict[str, str] = {}
    for language, body in BLOCK.findall(PAGE.read_text()):
        if language not in {"python", "toml"}:
            continue
        named = FILE_NAME.match(body)
        assert named, f"every {language} block on {PAGE.name} must start with '# <file name>':\n{body}"
        files[named.group(1)] = body
    return files


def test_every_python_block_on_the_page_is_a_named_file() -> None:
    """The page has the pytest configuration, the project, and test modules, each a whole file."""
    files = page_files()
    assert {"pyproject.toml", "myproject/settings.py", "myproject/asgi.py"} <= set(files)
    assert sum(name.startswith("tests/test_") for name in files) >= 4


def test_the_pages_examples_pass_as_written(tmp_path: Path) -> None:
    """Written to a fresh directory, the page's project and tests pass under pytest, with no daphne."""
    for name, body in page_files().items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    (tmp_path / "myproject" / "__init__.py").touch()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PYTEST_"))}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:cov", "-q", "-W", "error"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.fullmatch(r"\d+ passed in [\d.]+s", summary), summary
