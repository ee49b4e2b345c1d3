"""Ratios, spreads and target verdicts of the benchmark."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bench.results import Comparison, Operator, Spread, Target, check_target
from bench.wrk import WrkResult


def result(rps: float, p99_ms: float) -> WrkResult:
    return WrkResult(requests=1000, requests_per_second=rps, p50_ms=1.0, p99_ms=p99_ms, failed=0)


def test_spread_odd_count() -> None:
    assert Spread.of([3.0, 1.0, 2.0]) == Spread(2.0, 1.0, 3.0)


def test_spread_empty() -> None:
    with pytest.raises(ValueError, match="at least one value"):
        Spread.of([])


def test_ratio_pairs_repetitions() -> None:
    comparison = Comparison("read")
    comparison.add(result(1000, 2.0), result(800, 3.0))
    comparison.add(result(500, 4.0), result(450, 4.0))

    # Paired per repetition: 0.8 and 0.9, not the ratio of the medians.
    rps_ratio = comparison.rps_ratio()
    assert rps_ratio.median == pytest.approx(0.85)
    assert (rps_ratio.low, rps_ratio.high) == (0.8, 0.9)
    p99_ratio = comparison.p99_ratio()
    assert p99_ratio.median == pytest.approx(1.25)
    assert (p99_ratio.low, p99_ratio.high) == (1.0, 1.5)


def test_ratio_without_runs() -> None:
    with pytest.raises(ValueError, match="read has no measured runs"):
        Comparison("read").rps_ratio()


@pytest.mark.parametrize(
    ("operator", "measured", "verdict"),
    [
        (">=", 0.8, "met"),
        (">=", 0.79, "missed"),
        ("<=", 0.8, "met"),
        ("<=", 0.81, "missed"),
        ("<", 0.8, "missed"),
        ("<", 0.79, "met"),
    ],
)
def test_target_verdict(operator: Operator, measured: float, verdict: str) -> None:
    target = Target("ratio", operator, 0.8)

    assert check_target(target, measured).verdict == verdict


def test_target_not_measured() -> None:
    check = check_target(Target("ratio", ">=", 0.8), None, "not measured: route missing")

    assert check.verdict == "not measured"


def test_cpu_ratio_pairs_repetitions() -> None:
    comparison = Comparison("read")
    comparison.add(
        replace(result(1000, 1.0), server_cpu_seconds=1.0),
        replace(result(1000, 1.0), server_cpu_seconds=2.0),
    )

    cpu_ratio = comparison.cpu_ratio()

    assert cpu_ratio == Spread(0.5, 0.5, 0.5)


def test_cpu_ratio_not_measured() -> None:
    comparison = Comparison("read")
    comparison.add(result(1000, 1.0), replace(result(1000, 1.0), server_cpu_seconds=2.0))

    assert comparison.cpu_ratio() is None
