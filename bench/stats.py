"""Small statistics: medians, percentiles, and confidence intervals of per-round ratios.

The CPU-cost figures are means over interleaved rounds with a Student-t 95 % interval: a round's
ratio pairs a configuration with the baselines measured right before and after it, so the rounds
are independent samples of the same ratio and the interval says how far the mean can be trusted.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

#: Two-sided 95 % quantiles of Student's t distribution, by degrees of freedom (1..30).
_T95 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
_Z95 = 1.960


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


def t95(degrees_of_freedom: int) -> float:
    """The two-sided 95 % Student-t quantile; the normal one beyond 30 degrees of freedom."""
    if degrees_of_freedom < 1:
        raise ValueError("a confidence interval needs at least two samples")
    return _T95[degrees_of_freedom - 1] if degrees_of_freedom <= len(_T95) else _Z95


@dataclass(frozen=True)
class Interval:
    """A sample mean with the half-width of its 95 % confidence interval (``inf`` for one sample)."""

    mean: float
    half_width: float
    samples: int

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width

    def overlaps(self, other: Interval) -> bool:
        """Whether the two intervals share a point (two runs "agree within their intervals")."""
        return self.low <= other.high and other.low <= self.high

    def as_json(self) -> dict[str, float | int | None]:
        half = self.half_width if math.isfinite(self.half_width) else None
        return {
            "mean": round(self.mean, 4),
            "ci95": None if half is None else round(half, 4),
            "samples": self.samples,
        }


def interval(values: Sequence[float], *, floor: float = 0.0) -> Interval:
    """Mean and 95 % confidence half-width of independent samples (Student's t).

    ``floor``: the resolution of one reading. Samples that agree to it (a CPU clock tick) give
    Student's half-width 0, but the mean is known only to the resolution, so it is never narrower.
    """
    if not values:
        raise ValueError("no samples")
    mean = statistics.fmean(values)
    if len(values) == 1:
        return Interval(mean, math.inf, 1)
    half = t95(len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))
    return Interval(mean, max(half, floor), len(values))


def cost_ratio(cost: float, before: float, after: float) -> float:
    """CPU cost per unit of a configuration over the mean of the baselines measured around it."""
    base = (before + after) / 2
    if base <= 0 or cost <= 0:
        raise ValueError(f"CPU costs must be positive (got {cost}, {before}, {after})")
    return cost / base


def inverted(ratio: float) -> float:
    """A cost ratio as a rate: 1 / ratio, so that 0.94 reads "94 % of the baseline's rate per core"."""
    if ratio <= 0:
        raise ValueError(f"a cost ratio must be positive, not {ratio}")
    return 1 / ratio


def converged(intervals: Sequence[Interval], bound: float) -> bool:
    """Whether every interval is narrower than ``± bound`` (an empty list has nothing to wait for)."""
    return all(item.half_width < bound for item in intervals)


def format_interval(value: Interval, digits: int = 3) -> str:
    """``0.912 ± 0.021`` (``± ?`` for a single sample)."""
    if not math.isfinite(value.half_width):
        return f"{value.mean:.{digits}f} ± ?"
    return f"{value.mean:.{digits}f} ± {value.half_width:.{digits}f}"
