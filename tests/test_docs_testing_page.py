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

from tests.docblocks import FILE_NAME, code_blocks, named_files, write_files

PAGE = "testing.md"
#: Run at interpreter start-up (sitecustomize): daphne cannot be imported, as in a uvicorn project.
BLOCK_DAPHNE = """
import importlib.abc, sys


class RefuseDaphne(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "daphne":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, RefuseDaphne())
"""


def test_every_python_block_on_the_page_is_a_named_file() -> None:
    """The page has the pytest configuration, the project, and test modules, each a whole file."""
    for body in code_blocks(PAGE):
        assert FILE_NAME.match(body), f"every Python block on {PAGE} must start with '# <file name>':\n{body}"
    files = named_files(PAGE)
    assert {"pyproject.toml", "myproject/settings.py", "myproject/asgi.py"} <= set(files)
    assert sum(name.startswith("tests/test_") for name in files) >= 4


def test_the_pages_examples_pass_as_written(tmp_path: Path) -> None:
    """Written to a fresh directory, the page's project and tests pass under pytest, with no daphne."""
    write_files(named_files(PAGE), tmp_path)
    (tmp_path / "myproject" / "__init__.py").touch()
    (tmp_path / "no-daphne").mkdir()
    (tmp_path / "no-daphne" / "sitecustomize.py").write_text(BLOCK_DAPHNE)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PYTEST_"))}
    env["PYTHONPATH"] = str(tmp_path / "no-daphne")
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
