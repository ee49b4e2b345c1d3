"""`python -m bench`: measure the service against bare FastAPI and write docs/benchmarks.md.

Settings come from the environment (the Makefile passes make variables on):
BENCH_DURATION, BENCH_WARMUP (seconds per run), BENCH_REPETITIONS,
BENCH_CONNECTIONS, BENCH_LEAK_REQUESTS, BENCH_IMPORT_MB and BENCH_OUTPUT.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

from bench import servers
from bench.config import ROUTE_MISSING, Cores, Options, Run
from bench.memory import check_growth, check_import_memory
from bench.report import Report, write_report
from bench.results import Comparison, Target, TargetCheck, check_target
from bench.wrk import Load
from tests.helpers import PRODUCTION_ENV

MIB = 1024 * 1024
# High enough that no benchmark run reaches it, so the limiter is measured
# on its normal path (count and allow), never on its 429 path.
UNREACHED_RATE_LIMIT = "1000000000/minute"
ANALYZE_TEXT = "Rate limits bound what one client can spend. " * 8


def ensure_wrk() -> str | None:
    """Return None when wrk is usable, else why it is not; installs Debian's wrk as root."""
    if shutil.which("wrk"):
        return None
    if shutil.which("apt-get") is None:
        return "wrk is not installed and this system has no apt-get; install wrk 4.x and rerun"
    if os.geteuid() != 0:
        return "wrk is not installed; run `sudo apt-get install wrk` (Debian package wrk) and rerun"

    print("wrk is missing; installing Debian's package wrk with apt-get", flush=True)
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    installed = subprocess.run(
        ["apt-get", "install", "--yes", "--no-install-recommends", "wrk"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if installed.returncode != 0 or shutil.which("wrk") is None:
        return f"wrk is not installed and `apt-get install wrk` failed:\n{installed.stderr[-1000:]}"
    return None


def hardened_env(run: Run, storage_uri: str) -> dict[str, str]:
    data = run.workdir / "data"
    return {
        **PRODUCTION_ENV,
        # A key made for this run only; the test suite's keys stay in the tests.
        "API_KEYS": f"bench:{run.key}",
        "DATA_DIR": str(data),
        "DATABASE_URL": f"sqlite:///{data / 'bench.db'}",
        "UPLOAD_TMP_DIR": str(run.workdir / "uploads"),
        "TMPDIR": str(run.workdir / "tmp"),
        "RATE_LIMIT_STORAGE_URI": storage_uri,
        "ANALYZE_RATE_LIMIT": UNREACHED_RATE_LIMIT,
        "IMPORT_RATE_LIMIT": UNREACHED_RATE_LIMIT,
        "AI_DAILY_BUDGET_CALLS": str(10**12),
        "AI_DAILY_BUDGET_TOKENS": str(10**15),
        "AI_DAILY_BUDGET_TOTAL_CALLS": str(10**12),
        "AI_DAILY_BUDGET_TOTAL_TOKENS": str(10**15),
        # The 50 MB CSV has about 91,000 rows; the import must take them all.
        "IMPORT_MAX_ROWS": "100000",
        "MAX_UPLOAD_BYTES": str((run.options.import_mb + 16) * MIB),
        "LOG_LEVEL": "INFO",
    }


def bare_env(run: Run) -> dict[str, str]:
    return {"BENCH_DATABASE_URL": f"sqlite:///{run.workdir / 'data' / 'bench.db'}"}


def seed_articles(server: servers.Server, key: str, count: int = 20) -> None:
    with httpx.Client(base_url=server.base_url, headers={"X-API-Key": key}) as client:
        for number in range(count):
            article = {
                "title": f"Benchmark article {number}",
                "summary": "A short summary of the kind the list route returns. " * 3,
                "url": f"https://example.com/articles/{number}",
            }
            client.post("/api/articles", json=article).raise_for_status()


def probe(server: servers.Server, load: Load) -> str | None:
    """Send `load` once; return None if it succeeds, else why it cannot be measured."""
    response = httpx.request(
        load.method,
        server.base_url + load.path,
        headers=dict(load.headers),
        content=load.body,
        timeout=10,
    )
    if response.status_code in ROUTE_MISSING:
        return "not measured: route missing"
    if response.is_error:
        return f"not measured: probe returned {response.status_code}"
    return None


def compare(
    run: Run, scenario: str, load: Load, bare: servers.Server, hardened: servers.Server
) -> Comparison:
    """Alternate bare and hardened runs of one load, after an uncounted warm-up of each."""
    comparison = Comparison(scenario)
    reason = probe(bare, load) or probe(hardened, load)
    if reason is not None:
        comparison.skipped = reason
        print(f"{scenario}: {reason}", flush=True)
        return comparison

    run.load(bare, load, run.options.warmup)
    run.load(hardened, load, run.options.warmup)
    for repetition in range(run.options.repetitions):
        # Swap the order each repetition so a drift in the machine's load
        # does not always favour the same server.
        if repetition % 2 == 0:
            bare_result = run.load(bare, load, run.options.duration)
            hardened_result = run.load(hardened, load, run.options.duration)
        else:
            hardened_result = run.load(hardened, load, run.options.duration)
            bare_result = run.load(bare, load, run.options.duration)
        comparison.add(bare_result, hardened_result)
        print(
            f"{scenario} #{repetition + 1}: bare {bare_result.requests_per_second:.0f} rps, "
            f"hardened {hardened_result.requests_per_second:.0f} rps",
            flush=True,
        )
    return comparison


def start_redis(stack: ExitStack, run: Run) -> str | None:
    """Start a private redis-server and return its URL, or None when Redis is not installed."""
    executable = shutil.which("redis-server")
    if executable is None:
        return None
    port = servers.free_port()
    command = [
        executable,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
    ]
    if run.cores.load is not None:
        command = ["taskset", "--cpu-list", str(run.cores.load), *command]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop() -> None:
        process.terminate()
        process.wait(timeout=15)

    stack.callback(stop)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        ping = subprocess.run(
            ["redis-cli", "-p", str(port), "ping"],
            capture_output=True,
            text=True,
            check=False,
        )
        if ping.stdout.strip() == "PONG":
            return f"redis://127.0.0.1:{port}/0"
        time.sleep(0.1)
    raise RuntimeError("redis-server did not start within 10 s")


def main() -> int:
    options = Options.from_environment()
    missing = ensure_wrk()
    if missing is not None:
        print(f"benchmark skipped: {missing}", file=sys.stderr)
        return 0

    started = time.time()
    load_before = os.getloadavg()
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    for folder in ("data", "uploads", "tmp"):
        (workdir / folder).mkdir(mode=0o700)
    run = Run(options, Cores.detect(), workdir, secrets.token_urlsafe(32))
    try:
        measure(run)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    report = Report.collect(
        started=started,
        load_before=load_before,
        load_after=os.getloadavg(),
        options=options,
        cores=(run.cores.server, run.cores.load),
        comparisons=run.comparisons,
        checks=run.checks,
        memory=run.memory,
    )
    write_report(options.output, report)
    print(f"wrote {options.output}")
    return 0


def measure(run: Run) -> None:
    me = Load("GET", "/api/me", (("X-API-Key", run.key),))
    articles = Load("GET", "/api/articles")
    analyze = Load(
        "POST",
        "/api/analyze",
        (("X-API-Key", run.key), ("Content-Type", "application/json")),
        json.dumps({"text": ANALYZE_TEXT}),
    )

    with ExitStack() as stack:
        cpu = run.cores.server
        hardened = stack.enter_context(
            servers.running(
                "hardened", "app.main:app", hardened_env(run, "memory://"), run.workdir, cpu
            )
        )
        seed_articles(hardened, run.key)
        bare = stack.enter_context(
            servers.running("bare", "bench.bare_app:app", bare_env(run), run.workdir, cpu)
        )

        public_read = compare(run, "public read: GET /api/articles", articles, bare, hardened)
        authenticated_read = compare(run, "authenticated read: GET /api/me", me, bare, hardened)
        analyze_memory = compare(
            run, "analyze, memory://: POST /api/analyze", analyze, bare, hardened
        )
        run.comparisons += [public_read, authenticated_read, analyze_memory]

        redis_url = start_redis(stack, run)
        redis_scenario = "analyze, Redis: POST /api/analyze"
        if redis_url is None:
            run.comparisons.append(
                Comparison(redis_scenario, skipped="not measured: redis-server not installed")
            )
        else:
            with servers.running(
                "hardened-redis", "app.main:app", hardened_env(run, redis_url), run.workdir, cpu
            ) as hardened_redis:
                run.comparisons.append(compare(run, redis_scenario, analyze, bare, hardened_redis))

        run.checks += check_throughput(authenticated_read, analyze_memory)
        run.checks += check_growth(run, hardened, [articles, me, analyze])
        run.checks += check_import_memory(run, hardened)


def check_throughput(authenticated_read: Comparison, analyze: Comparison) -> list[TargetCheck]:
    rps_target = Target("authenticated read: requests/s, hardened / bare", ">=", 0.8)
    p99_target = Target("authenticated read: p99 latency, hardened / bare", "<=", 1.5)
    analyze_target = Target("analyze with memory://: requests/s, hardened / bare", ">=", 0.65)

    checks: list[TargetCheck] = []
    if authenticated_read.skipped:
        checks.append(check_target(rps_target, None, authenticated_read.skipped))
        checks.append(check_target(p99_target, None, authenticated_read.skipped))
    else:
        checks.append(check_target(rps_target, authenticated_read.rps_ratio().median))
        checks.append(check_target(p99_target, authenticated_read.p99_ratio().median))
    if analyze.skipped:
        checks.append(check_target(analyze_target, None, analyze.skipped))
    else:
        checks.append(check_target(analyze_target, analyze.rps_ratio().median))
    return checks


if __name__ == "__main__":
    sys.exit(main())
