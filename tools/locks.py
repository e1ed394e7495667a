"""Small checks around the committed locks, for the Makefile.

``python -m tools.locks pins FILE``: every ``name==version`` line of FILE is what is installed, so a job
that claims to prove the oldest versions really ran on them.

``python -m tools.locks diff LOCKED LATEST``: what a ``make lock`` today would change, package by package,
so a maintainer reads the drift before the test results.
"""

from __future__ import annotations

import re
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def canonical(name: str) -> str:
    """PEP 503 normalised name: ``Django_REST`` and ``django-rest`` are one package."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path) -> dict[str, str]:
    """``{name: version}`` for every ``name==version`` line (comments, hashes and markers skipped)."""
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        match = _PIN.match(line.strip())
        if match:
            pins[canonical(match.group(1))] = match.group(2)
    return pins


def check_pins(path: Path) -> list[str]:
    """One line per pin of ``path`` that the running interpreter does not have installed."""
    problems = []
    for name, wanted in sorted(read_pins(path).items()):
        try:
            installed = version(name)
        except PackageNotFoundError:
            problems.append(f"{name}: not installed, {wanted} expected")
            continue
        if installed != wanted and not installed.startswith(f"{wanted}."):
            problems.append(f"{name}: {installed} installed, {wanted} expected")
    return problems


def diff_pins(locked: dict[str, str], latest: dict[str, str]) -> list[str]:
    """One line per package whose version differs, appears or disappears between two locks."""
    lines = []
    for name in sorted(locked.keys() | latest.keys()):
        old, new = locked.get(name), latest.get(name)
        if old != new:
            lines.append(f"  {name}: {old or '(not locked)'} -> {new or '(gone)'}")
    return lines


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "pins":
        problems = check_pins(Path(argv[1]))
        for line in problems:
            print(line, file=sys.stderr)
        if not problems:
            print(f"locks: every pin of {argv[1]} is installed")
        return 1 if problems else 0
    if len(argv) == 3 and argv[0] == "diff":
        lines = diff_pins(read_pins(Path(argv[1])), read_pins(Path(argv[2])))
        print(f"locks: {len(lines)} package(s) differ between {argv[1]} and the newest releases")
        print("\n".join(lines))
        return 0
    print("usage: python -m tools.locks pins FILE | diff LOCKED LATEST", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
