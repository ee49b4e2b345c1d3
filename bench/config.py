"""Options of one benchmark run, and the results it has collected so far."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from bench import servers
from bench.results import Comparison, TargetCheck
from bench.wrk import Load, WrkResult, run_wrk, write_script

__all__ = ["ROUTE_MISSING", "Cores", "Options", "Run"]

# Statuses of a probe request that mean the route does not exist yet. 405
# counts because a missing POST route can share its path with a GET route
# (POST /api/articles/import matches GET /api/articles/{article_id}).
ROUTE_MISSING = frozenset({404, 405})


@dataclass(frozen=True)
class Options:
    duration: float
    warmup: float
    repetitions: int
    connections: int
    leak_requests: int
    import_mb: int
    output: Path

    @classmethod
    def from_environment(cls) -> Options:
        return cls(
            duration=float(os.environ.get("BENCH_DURATION", "10")),
            warmup=float(os.environ.get("BENCH_WARMUP", "3")),
            repetitions=int(os.environ.get("BENCH_REPETITIONS", "5")),
            connections=int(os.environ.get("BENCH_CONNECTIONS", "32")),
            leak_requests=int(os.environ.get("BENCH_LEAK_REQUESTS", "100000")),
            import_mb=int(os.environ.get("BENCH_IMPORT_MB", "50")),
            output=Path(os.environ.get("BENCH_OUTPUT", "docs/benchmarks.md")),
        )


@dataclass
class Cores:
    server: int | None  # the core both servers are pinned to
    load: int | None  # the core wrk and Redis run on

    @classmethod
    def detect(cls) -> Cores:
        available = sorted(os.sched_getaffinity(0))
        if len(available) >= 2:
            return cls(available[0], available[1])
        return cls(None, None)


@dataclass
class Run:
    options: Options
    cores: Cores
    workdir: Path
    key: str
    comparisons: list[Comparison] = field(default_factory=list)
    checks: list[TargetCheck] = field(default_factory=list)
    memory: dict[str, str] = field(default_factory=dict)
    scripts_written: int = 0

    def load(self, server: servers.Server, load: Load, seconds: float) -> WrkResult:
        self.scripts_written += 1
        script = self.workdir / f"load-{self.scripts_written}.lua"
        write_script(script, [load])
        cpu_before = servers.read_cpu_seconds(server.pid)
        result = run_wrk(
            server.base_url,
            script,
            seconds=seconds,
            connections=self.options.connections,
            cpu=self.cores.load,
        )
        cpu_used = servers.read_cpu_seconds(server.pid) - cpu_before
        return replace(result, server_cpu_seconds=cpu_used)
