"""Write the results of a run as docs/benchmarks.md.

Everything above `NOTES_MARKER` is regenerated on each run. The hand-written
notes below it (what was changed and what each change bought) are kept.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from bench.config import Options
from bench.results import Comparison, Spread, TargetCheck, summarize

__all__ = ["NOTES_MARKER", "Report", "render", "write_report"]

NOTES_MARKER = "<!-- Everything below this line is kept when `make bench` rewrites the page. -->"
PACKAGES = (
    "fastapi",
    "starlette",
    "uvicorn",
    "pydantic",
    "uvloop",
    "httptools",
    "slowapi",
    "limits",
    "redis",
)


@dataclass(frozen=True)
class Report:
    date: str
    machine: list[str]
    versions: list[str]
    command: str
    load_average: str
    options: Options
    cores: tuple[int | None, int | None]
    comparisons: list[Comparison]
    checks: list[TargetCheck]
    memory: dict[str, str]

    @classmethod
    def collect(
        cls,
        *,
        started: float,
        load_before: tuple[float, float, float],
        load_after: tuple[float, float, float],
        options: Options,
        cores: tuple[int | None, int | None],
        comparisons: list[Comparison],
        checks: list[TargetCheck],
        memory: dict[str, str],
    ) -> Report:
        command = (
            f"make bench BENCH_DURATION={options.duration:g} BENCH_WARMUP={options.warmup:g} "
            f"BENCH_REPETITIONS={options.repetitions} BENCH_CONNECTIONS={options.connections} "
            f"BENCH_LEAK_REQUESTS={options.leak_requests} BENCH_IMPORT_MB={options.import_mb}"
        )
        return cls(
            date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)),
            machine=_machine(),
            versions=_versions(),
            command=command,
            load_average=(
                f"{load_before[0]:.2f} (1 min) before the run, {load_after[0]:.2f} after"
            ),
            options=options,
            cores=cores,
            comparisons=comparisons,
            checks=checks,
            memory=memory,
        )


def _machine() -> list[str]:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.partition(":")[2].strip()
            break
    memory_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory_kib = int(line.split()[1])
    return [
        f"{model}, {len(os.sched_getaffinity(0))} cores available",
        f"{memory_kib / 1024 / 1024:.1f} GiB memory",
        f"{platform.system()} {platform.release()} ({platform.machine()})",
    ]


def _versions() -> list[str]:
    versions = [f"Python {platform.python_version()} ({sys.implementation.name})"]
    for package in PACKAGES:
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{package} not installed")
    wrk = shutil.which("wrk")
    if wrk:
        # `wrk -v` prints its version and exits with status 1.
        output = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
        versions.append((output.stdout or output.stderr).splitlines()[0].strip())
    return versions


def _spread(spread: Spread, digits: int = 0) -> str:
    return f"{spread.median:,.{digits}f} ({spread.low:,.{digits}f} to {spread.high:,.{digits}f})"


def _comparison_rows(comparison: Comparison) -> list[str]:
    if comparison.skipped:
        return [f"| {comparison.scenario} | {comparison.skipped} | | | | | | |"]

    bare = summarize(comparison.bare)
    hardened = summarize(comparison.hardened)
    invalid = f" ({comparison.invalid_runs} runs had errors)" if comparison.invalid_runs else ""
    cpu_ratio = comparison.cpu_ratio()
    return [
        f"| {comparison.scenario}{invalid} "
        f"| {_spread(bare['rps'])} | {_spread(hardened['rps'])} "
        f"| {_spread(comparison.rps_ratio(), 2)} "
        f"| {bare['p50_ms'].median:.2f} / {hardened['p50_ms'].median:.2f} "
        f"| {bare['p99_ms'].median:.2f} / {hardened['p99_ms'].median:.2f} "
        f"| {_spread(comparison.p99_ratio(), 2)} "
        f"| {_spread(cpu_ratio, 2) if cpu_ratio else 'not measured'} |"
    ]


def _check_row(check: TargetCheck) -> str:
    measured = "" if check.measured is None else f"{check.measured:.2f}"
    target = f"{check.target.operator} {check.target.bound:g}"
    return f"| {check.target.name} | {target} | {measured} | {check.verdict} | {check.detail} |"


def render(report: Report) -> str:
    options = report.options
    server_core, load_core = report.cores
    if server_core is None:
        pinning = "Only one core is available, so the servers and wrk share it (no pinning)."
    else:
        pinning = (
            f"Both servers are pinned to core {server_core} with taskset; wrk and Redis "
            f"run on core {load_core}."
        )

    lines = [
        "# Benchmarks: the hardened service against bare FastAPI",
        "",
        "The same routes are served twice in one run: by a bare FastAPI app with no",
        "controls (`bench/bare_app.py`) and by the service in its production",
        "configuration. Only ratios from the same run carry over to other machines;",
        "absolute numbers do not. Generated by `make bench` (code in `bench/`).",
        "",
        f"- Date: {report.date}",
        f"- Command: `{report.command}`",
        "- Machine: " + "; ".join(report.machine),
        "- Versions: " + "; ".join(report.versions),
        f"- Load average: {report.load_average}",
        "",
        "## How it runs",
        "",
        "Each server is one uvicorn worker started with the same options",
        f"(`bench/servers.py`), listening on 127.0.0.1. {pinning} wrk runs one",
        f"thread with {options.connections} connections. For each scenario both servers get an",
        f"uncounted warm-up of {options.warmup:g} s, then {options.repetitions} repetitions of "
        f"{options.duration:g} s each,",
        "alternating bare and hardened (the order swaps every repetition). A ratio",
        "is hardened over bare within one repetition; the tables give its median",
        "and, in brackets, the lowest and highest value over the repetitions. Any",
        "non-2xx response or socket error marks a run as having errors.",
        "",
        "The service runs with the production settings of the test suite, a key",
        "made for the run, the offline AI provider and SQLite. Its analysis and",
        "import rate limits and budgets are set high enough never to trigger, so",
        "the limiter is measured on its counting path. A scenario whose route answers a probe",
        "request with 404 or 405 is reported as not measured.",
        "",
        "The machine is shared: the load average above and the spread in brackets",
        "show how much other work ran at the same time. Treat a ratio whose range",
        "crosses its target as unsettled, and rerun on a quiet machine. The last",
        "column divides each server's requests by the CPU time its process used",
        "during the run (user and system, all threads, from /proc). Other work on",
        "the core lowers requests per second but hardly changes the CPU time a",
        "request costs. So that ratio is the steadier estimate of what the",
        "controls cost on a dedicated core.",
        "",
        "## Throughput and latency",
        "",
        "| scenario | bare requests/s | hardened requests/s | ratio | p50 ms bare / hardened | p99 ms bare / hardened | p99 ratio | requests per CPU second, ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for comparison in report.comparisons:
        lines += _comparison_rows(comparison)

    lines += ["", "## Memory and descriptors", ""]
    lines += [f"- {name}: {value}" for name, value in report.memory.items()] or ["- not measured"]

    lines += [
        "",
        "## Targets",
        "",
        "| target | bound | measured | verdict | detail |",
        "|---|---|---|---|---|",
    ]
    lines += [_check_row(check) for check in report.checks]
    lines += [""]
    return "\n".join(lines)


def write_report(path: Path, report: Report) -> None:
    notes = ""
    if path.exists():
        previous = path.read_text(encoding="utf-8")
        if NOTES_MARKER in previous:
            notes = previous.split(NOTES_MARKER, 1)[1]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(report) + "\n" + NOTES_MARKER + notes, encoding="utf-8")
