"""Summaries of repeated runs, hardened-to-bare ratios and the targets they are checked against."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Literal

from bench.wrk import WrkResult

__all__ = [
    "Comparison",
    "Operator",
    "Spread",
    "Target",
    "TargetCheck",
    "check_target",
    "is_met",
    "summarize",
]


@dataclass(frozen=True)
class Spread:
    """Median, minimum and maximum of one figure over the repetitions."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        if not values:
            raise ValueError("a spread needs at least one value")
        return cls(statistics.median(values), min(values), max(values))


@dataclass
class Comparison:
    """Bare and hardened runs of one scenario, paired by repetition."""

    scenario: str
    bare: list[WrkResult] = field(default_factory=list)
    hardened: list[WrkResult] = field(default_factory=list)
    skipped: str | None = None  # why the scenario was not measured

    def add(self, bare: WrkResult, hardened: WrkResult) -> None:
        self.bare.append(bare)
        self.hardened.append(hardened)

    @property
    def invalid_runs(self) -> int:
        return sum(not run.is_valid for run in [*self.bare, *self.hardened])

    def rps_ratio(self) -> Spread:
        """Hardened over bare requests per second, paired within each repetition."""
        return Spread.of([h.requests_per_second / b.requests_per_second for b, h in self._pairs()])

    def cpu_ratio(self) -> Spread | None:
        """Hardened over bare requests per server CPU second, paired within each repetition.

        Other processes on a shared core slow both servers' wall-clock rate,
        but hardly the CPU time each request costs, so this ratio shows what
        the controls cost on a busy machine better than requests per second.
        """
        ratios: list[float] = []
        for bare, hardened in self._pairs():
            if bare.requests_per_cpu_second is None or hardened.requests_per_cpu_second is None:
                return None
            ratios.append(hardened.requests_per_cpu_second / bare.requests_per_cpu_second)
        return Spread.of(ratios)

    def p99_ratio(self) -> Spread:
        """Hardened over bare 99th percentile latency, paired within each repetition."""
        return Spread.of([h.p99_ms / b.p99_ms for b, h in self._pairs()])

    def _pairs(self) -> list[tuple[WrkResult, WrkResult]]:
        pairs = list(zip(self.bare, self.hardened, strict=True))
        if not pairs:
            raise ValueError(f"{self.scenario} has no measured runs")
        return pairs


def summarize(runs: list[WrkResult]) -> dict[str, Spread]:
    """Spread of requests per second, p50 and p99 (milliseconds) over `runs`."""
    return {
        "rps": Spread.of([run.requests_per_second for run in runs]),
        "p50_ms": Spread.of([run.p50_ms for run in runs]),
        "p99_ms": Spread.of([run.p99_ms for run in runs]),
    }


Operator = Literal[">=", "<=", "<"]


@dataclass(frozen=True)
class Target:
    """A bound on one measured figure: `measured <operator> bound` must hold."""

    name: str
    operator: Operator
    bound: float


@dataclass(frozen=True)
class TargetCheck:
    target: Target
    measured: float | None  # None: not measured
    detail: str = ""

    @property
    def verdict(self) -> str:
        if self.measured is None:
            return "not measured"
        return "met" if is_met(self.target, self.measured) else "missed"


def is_met(target: Target, measured: float) -> bool:
    if target.operator == ">=":
        return measured >= target.bound
    if target.operator == "<=":
        return measured <= target.bound
    return measured < target.bound


def check_target(target: Target, measured: float | None, detail: str = "") -> TargetCheck:
    return TargetCheck(target, measured, detail)
