"""The benchmark's statistics and CPU-time reading (bench/stats.py, bench/servers.py, bench/targets.py).

Pure functions on fixed numbers: no timing is asserted.
"""

from __future__ import annotations

import math

import pytest

from bench.servers import cpu_seconds_from_stat
from bench.stats import (
    Interval,
    converged,
    cost_ratio,
    format_interval,
    interval,
    inverted,
    t95,
)
from bench.targets import evaluate, quotient

STAT = (
    "4242 (uvicorn (main) x) S 1 4242 4242 0 -1 4194560 5000 0 0 0 1234 567 0 0 20 0 3 0 100 "
    "1000000 5000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0"
)


def test_cpu_seconds_adds_utime_and_stime_in_ticks() -> None:
    """utime (field 14) + stime (field 15) over the clock tick rate, whatever the command name holds."""
    assert cpu_seconds_from_stat(STAT, 100) == pytest.approx(18.01)


def test_cpu_seconds_reads_this_process() -> None:
    """The real /proc line of this process parses to a non-negative number of seconds."""
    with open("/proc/self/stat") as stat:
        assert cpu_seconds_from_stat(stat.read(), 100) >= 0


def test_t95_matches_the_table_and_the_normal_limit() -> None:
    """2 samples use t(1) = 12.706, 10 samples t(9) = 2.262, beyond 31 samples the normal 1.96."""
    assert (t95(1), t95(9), t95(30), t95(200)) == (12.706, 2.262, 2.042, 1.960)


def test_t95_needs_two_samples() -> None:
    """Zero degrees of freedom have no interval."""
    with pytest.raises(ValueError, match="at least two samples"):
        t95(0)


def test_interval_of_known_samples() -> None:
    """Mean 0.9, sample sd 0.1, n 4: half-width 3.182 * 0.1 / 2."""
    found = interval([0.8, 0.9, 1.0, 0.9 + 0.0])
    assert found.mean == pytest.approx(0.9)
    assert found.half_width == pytest.approx(3.182 * math.sqrt(2 / 300) / 2)
    assert found.samples == 4


def test_interval_of_one_sample_is_unbounded() -> None:
    """One round gives a mean and no interval; the JSON stores null."""
    found = interval([0.7])
    assert (found.mean, found.half_width) == (0.7, math.inf)
    assert found.as_json() == {"mean": 0.7, "ci95": None, "samples": 1}


def test_interval_of_identical_samples_is_zero_wide() -> None:
    """Equal rounds have no spread."""
    assert interval([0.5, 0.5, 0.5]).half_width == 0


def test_interval_of_nothing_is_an_error() -> None:
    """No samples, no mean."""
    with pytest.raises(ValueError, match="no samples"):
        interval([])


def test_cost_ratio_is_over_the_mean_of_both_baselines() -> None:
    """1.2 ms against baselines of 0.9 and 1.1 ms is 1.2."""
    assert cost_ratio(1.2e-3, 0.9e-3, 1.1e-3) == pytest.approx(1.2)


def test_cost_ratio_refuses_a_zero_cost() -> None:
    """A batch that read no CPU time cannot make a ratio."""
    with pytest.raises(ValueError, match="must be positive"):
        cost_ratio(0.0, 1.0, 1.0)


def test_inverted_reads_as_a_share_of_the_baseline_rate() -> None:
    """A configuration costing 1.25 times the baseline's CPU gets 0.8 of its rate per core."""
    assert inverted(1.25) == pytest.approx(0.8)


def test_converged_needs_every_interval_inside_the_bound() -> None:
    """One interval of ± 0.031 keeps the rounds going at a bound of 0.03."""
    narrow, wide = Interval(0.9, 0.01, 5), Interval(0.8, 0.031, 5)
    assert converged([narrow], 0.03)
    assert not converged([narrow, wide], 0.03)
    assert converged([], 0.03)


def test_intervals_overlap_when_they_share_a_point() -> None:
    """0.90 ± 0.02 and 0.93 ± 0.015 agree; 0.90 ± 0.01 and 0.93 ± 0.01 do not."""
    assert Interval(0.90, 0.02, 5).overlaps(Interval(0.93, 0.015, 5))
    assert not Interval(0.90, 0.01, 5).overlaps(Interval(0.93, 0.01, 5))


def test_format_interval() -> None:
    """Three digits by default, a question mark for a single sample."""
    assert format_interval(Interval(0.91234, 0.0211, 6)) == "0.912 ± 0.021"
    assert format_interval(Interval(0.7, math.inf, 1)) == "0.700 ± ?"


def test_quotient_adds_relative_widths_in_quadrature() -> None:
    """(1.2 ± 0.036) / (0.8 ± 0.032): 1.5 ± 1.5 * hypot(0.03, 0.04)."""
    found = quotient(Interval(1.2, 0.036, 5), Interval(0.8, 0.032, 6))
    assert found.mean == pytest.approx(1.5)
    assert found.half_width == pytest.approx(1.5 * 0.05)
    assert found.samples == 5


def _handshakes(**means: float) -> dict[str, object]:
    return {
        "handshakes": {
            "uvicorn": {
                name: {"cpu_rate_ratio": {"mean": mean, "ci95": 0.02, "samples": 6}, "ratio": 0.5}
                for name, mean in means.items()
            }
        }
    }


def test_targets_are_judged_on_the_cpu_ratio_not_the_rate() -> None:
    """A 0.91 CPU ratio meets the 0.90 stateless target although the rate ratio is 0.5."""
    targets = {
        t["id"]: t for t in evaluate(_handshakes(warden_jwt_stateless_cold=0.91, peer_jwt_stateless=0.85))
    }
    stateless = targets["jwt_stateless_cold"]
    assert stateless["met"] is True
    assert stateless["measured"] == "0.910 ± 0.020x CPU; rate 0.50x; peer 0.850 ± 0.020x"
    assert stateless["note"] == "the bound is inside the interval"


def test_stateless_cold_must_also_lead_the_peer() -> None:
    """0.92 against a peer at 0.95 is not met, although it clears 0.90."""
    targets = {
        t["id"]: t for t in evaluate(_handshakes(warden_jwt_stateless_cold=0.92, peer_jwt_stateless=0.95))
    }
    assert targets["jwt_stateless_cold"]["met"] is False


def test_session_target_is_a_quotient_of_two_cpu_ratios() -> None:
    """Session at 0.75 over AuthMiddlewareStack at 0.5 is 1.5x: met."""
    targets = {t["id"]: t for t in evaluate(_handshakes(warden_session=0.75, peer_auth_stack=0.5))}
    assert targets["session_vs_auth_stack"]["met"] is True
    assert targets["session_vs_auth_stack"]["measured"].startswith("1.500 ± 0.072x CPU")


def test_per_frame_target_reads_the_cpu_overhead() -> None:
    """2.5 % ± 1 % CPU per frame meets ≤ 3 %; the bound is inside the interval."""
    echo = {
        "echo": {
            "uvicorn": {
                "warden_jwt_stateless_cold": {
                    "cpu_overhead_percent": {"mean": 2.5, "ci95": 1.0, "samples": 5},
                    "throughput_overhead_percent": 8.0,
                }
            }
        }
    }
    (frame,) = [t for t in evaluate(echo) if t["id"] == "per_frame"]
    assert (frame["met"], frame["measured"]) == (True, "2.5 ± 1.0 % CPU; throughput 8.0 %")
    assert frame["note"] == "the bound is inside the interval"


def test_compare_marks_runs_that_agree_within_their_intervals() -> None:
    """Two runs: overlapping intervals agree, disjoint ones do not, and the count says so."""
    from bench.compare import table

    def run(stateless: float, drf: float) -> dict[str, object]:
        figures = {
            "warden_jwt_stateless_cold": {"cpu_rate_ratio": {"mean": stateless, "ci95": 0.02, "samples": 6}},
            "warden_drf_cold": {"cpu_rate_ratio": {"mean": drf, "ci95": 0.01, "samples": 6}},
        }
        return {"handshakes": {"uvicorn": figures}}

    lines = table(run(0.90, 0.70), run(0.93, 0.75), ("a", "b")).splitlines()
    assert lines[2] == "| warden: SimpleJWT stateless (cold) | 0.900 ± 0.020 | 0.930 ± 0.020 | yes |"
    assert lines[3] == "| warden: DRF token (cold) | 0.700 ± 0.010 | 0.750 ± 0.010 | **no** |"
    assert lines[-1] == "1 of 2 figures agree within their 95 % intervals."


def test_compare_shows_instruction_ratios_with_their_difference() -> None:
    """Counted ratios of both runs side by side; a configuration only one run counted is left out."""
    from bench.compare import instruction_table

    first = {
        "instructions": {
            "handshakes": 40,
            "warden_drf_cold": {"ratio": 0.631},
            "warden_session": {"ratio": 0.5},
        }
    }
    second = {"instructions": {"handshakes": 40, "warden_drf_cold": {"ratio": 0.629}}}
    lines = instruction_table(first, second, ("a", "b")).splitlines()
    assert lines == [
        "| instructions \u00d7 no-auth | a | b | difference |",
        "|---|---|---|---|",
        "| warden: DRF token (cold) | 0.631 | 0.629 | -0.002 |",
    ]
    assert instruction_table({}, second, ("a", "b")) == ""


def test_named_configurations_are_measured_and_counted_in_every_mode() -> None:
    """``--configs`` names what is measured and what callgrind counts, in quick mode too."""
    from bench.plan import PLANS
    from bench.runner import restricted

    for mode in ("full", "quick", "smoke"):
        plan = restricted(PLANS[mode], "warden_drf_warm, warden_jwt_db_cold", "uvicorn")
        assert plan.handshake_configs == ("warden_drf_warm", "warden_jwt_db_cold")
        assert plan.instruction_configs == ("warden_drf_warm", "warden_jwt_db_cold")
        assert plan.servers == ("uvicorn",)


def test_an_unknown_configuration_or_server_is_refused_by_name() -> None:
    """A typo stops the run before anything starts, naming the choices."""
    from bench.plan import PLANS
    from bench.runner import restricted

    with pytest.raises(SystemExit, match=r"unknown configuration.*warden_drf_hot.*choose from"):
        restricted(PLANS["quick"], "warden_drf_hot", None)
    with pytest.raises(SystemExit, match=r"unknown server.*hypercorn"):
        restricted(PLANS["quick"], None, "hypercorn")


def test_echo_intervals_are_never_narrower_than_one_clock_tick() -> None:
    """Rounds that agree to the tick (seen: three ratios of exactly 1.0) give Student's interval 0;
    the reported interval keeps the reading's resolution instead of claiming an exact 0 %."""
    from bench.echo import _overhead, _summary, tick_fraction
    from bench.plan import PLANS

    plan = PLANS["full"]
    frames = plan.echo_sockets * plan.echo_frames
    tick = tick_fraction(plan, [0.3 / frames] * 3)  # a 0.3 s measurement: one tick is 1/30 of it
    assert tick == pytest.approx(1 / 30)
    agreeing = _overhead([1.0, 1.0, 1.0], tick)
    assert agreeing.mean == 0.0
    assert agreeing.half_width == pytest.approx(100 / 30)
    assert _overhead([1.0, 1.2, 1.4], tick).half_width > 100 / 30  # a real spread still shows
    summary = _summary([10.0] * 3, [1.0] * 3, [1.0] * 3, tick)
    assert summary["cpu_overhead_percent"]["ci95"] == pytest.approx(3.3333, abs=1e-4)
    assert summary["cpu_rate_ratio"]["ci95"] == pytest.approx(0.0333, abs=1e-4)
    assert tick_fraction(plan, [0.0] * 3) == 1.0  # a batch that read 0 s knows nothing
