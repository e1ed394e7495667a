"""Two runs side by side: each uvicorn CPU-cost ratio with its interval, and whether the runs agree.

    python -m bench.compare bench/results/<run-a>.json bench/results/<run-b>.json

Prints Markdown tables for ``bench/NOTES.md``: "agree" means the two 95 % intervals overlap; the
instruction ratios (deterministic, no interval) are shown with their difference.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from .configs import BY_NAME
from .stats import Interval, format_interval

SERVER = "uvicorn"


def _interval(figures: dict[str, Any]) -> Interval:
    half = math.inf if figures["ci95"] is None else float(figures["ci95"])
    return Interval(float(figures["mean"]), half, int(figures["samples"]))


def rows(first: dict[str, Any], second: dict[str, Any]) -> list[tuple[str, Interval, Interval]]:
    """``(label, interval in run 1, interval in run 2)`` for every configuration both runs measured."""
    found = []
    for name, figures in first.get("handshakes", {}).get(SERVER, {}).items():
        other = second.get("handshakes", {}).get(SERVER, {}).get(name)
        if "cpu_rate_ratio" not in figures or not other or "cpu_rate_ratio" not in other:
            continue
        config = BY_NAME[name]
        label = f"{config.label} ({config.cache})" if config.cache else config.label
        found.append((label, _interval(figures["cpu_rate_ratio"]), _interval(other["cpu_rate_ratio"])))
    for name in ("warden_jwt_stateless_cold",):
        echo_a = first.get("echo", {}).get(SERVER, {}).get(name)
        echo_b = second.get("echo", {}).get(SERVER, {}).get(name)
        if echo_a and echo_b:
            found.append(
                (
                    "per-frame CPU overhead, % (stateless JWT)",
                    _interval(echo_a["cpu_overhead_percent"]),
                    _interval(echo_b["cpu_overhead_percent"]),
                )
            )
    return found


def table(first: dict[str, Any], second: dict[str, Any], names: tuple[str, str]) -> str:
    lines = [
        f"| uvicorn, CPU × no-auth | {names[0]} | {names[1]} | agree |",
        "|---|---|---|---|",
    ]
    agreed = 0
    found = rows(first, second)
    for label, a, b in found:
        agree = a.overlaps(b)
        agreed += agree
        lines.append(
            f"| {label} | {format_interval(a)} | {format_interval(b)} | {'yes' if agree else '**no**'} |"
        )
    lines.append("")
    lines.append(f"{agreed} of {len(found)} figures agree within their 95 % intervals.")
    return "\n".join(lines)


def instruction_table(first: dict[str, Any], second: dict[str, Any], names: tuple[str, str]) -> str:
    """The instruction ratios both runs counted, with how far apart they are."""
    a, b = first.get("instructions") or {}, second.get("instructions") or {}
    common = [name for name in a if isinstance(a[name], dict) and isinstance(b.get(name), dict)]
    if not common:
        return ""
    lines = [f"| instructions × no-auth | {names[0]} | {names[1]} | difference |", "|---|---|---|---|"]
    for name in common:
        config = BY_NAME[name]
        label = f"{config.label} ({config.cache})" if config.cache else config.label
        one, two = a[name]["ratio"], b[name]["ratio"]
        lines.append(f"| {label} | {one:.3f} | {two:.3f} | {two - one:+.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m bench.compare <run-a>.json <run-b>.json", file=sys.stderr)
        return 2
    first, second = (json.loads(Path(arg).read_text()) for arg in args)
    names = (Path(args[0]).stem, Path(args[1]).stem)
    print(table(first, second, names))
    if counted := instruction_table(first, second, names):
        print()
        print(counted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
