"""Small statistics: medians and nearest-rank percentiles, rounded for the JSON."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` in 0..1) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def summary_ms(seconds: Sequence[float]) -> dict[str, float | int]:
    """p50, p99, min and max of durations, in milliseconds."""
    return {
        "samples": len(seconds),
        "p50_ms": ms(percentile(seconds, 0.50)),
        "p99_ms": ms(percentile(seconds, 0.99)),
        "min_ms": ms(min(seconds)),
        "max_ms": ms(max(seconds)),
    }
