"""Resident memory and descriptors over many requests, and peak memory during an import."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from bench import servers
from bench.config import ROUTE_MISSING, Run
from bench.results import Target, TargetCheck, check_target
from bench.wrk import Load, run_wrk, write_script

__all__ = ["check_growth", "check_import_memory", "write_csv"]

MIB = 1024 * 1024
KIB_PER_MB = 1000 / 1.024  # /proc reports KiB; targets are in MB (10**6 bytes)
CSV_HEADER = "title,summary,url\n"
# Bounds on the fixed-count load, so a slow or stuck server cannot hold the run.
MAX_ROUNDS = 5
MAX_ROUND_SECONDS = 300


def _settled_stats(pid: int) -> servers.ProcessStats:
    # Closed client connections and finished thread-pool work release their
    # descriptors a moment after wrk exits.
    time.sleep(1)
    return servers.read_stats(pid)


def check_growth(run: Run, server: servers.Server, loads: list[Load]) -> list[TargetCheck]:
    """Send a fixed number of requests (cycling through `loads`) and compare RSS and fds."""
    rss_target = Target(
        f"resident memory growth over {run.options.leak_requests:,} requests (MB)", "<=", 10
    )
    fd_target = Target(
        f"open descriptor growth over {run.options.leak_requests:,} requests", "<=", 0
    )
    available = [load for load in loads if _responds(server, load)]
    if not available:
        return [
            check_target(rss_target, None, "no route answered"),
            check_target(fd_target, None, "no route answered"),
        ]

    warmup_script = run.workdir / "growth-warmup.lua"
    write_script(warmup_script, available)
    warmup = run_wrk(
        server.base_url,
        warmup_script,
        seconds=run.options.warmup,
        connections=run.options.connections,
        cpu=run.cores.load,
    )
    before = _settled_stats(server.pid)
    sent, failed = _send_requests(run, server, available, warmup.requests_per_second)
    after = _settled_stats(server.pid)

    paths = ", ".join(f"{load.method} {load.path}" for load in available)
    run.memory["growth requests"] = f"{sent:,} ({paths}), {failed} failed"
    run.memory["resident memory after warm-up"] = f"{before.rss_kib / 1024:.1f} MiB"
    run.memory[f"resident memory after {sent:,} requests"] = f"{after.rss_kib / 1024:.1f} MiB"
    run.memory["open descriptors after warm-up"] = str(before.open_fds)
    run.memory[f"open descriptors after {sent:,} requests"] = str(after.open_fds)

    detail = "" if sent >= run.options.leak_requests else f"only {sent:,} requests sent"
    return [
        check_target(rss_target, (after.rss_kib - before.rss_kib) / KIB_PER_MB, detail),
        check_target(fd_target, after.open_fds - before.open_fds, detail),
    ]


def _send_requests(
    run: Run, server: servers.Server, loads: list[Load], estimated_rps: float
) -> tuple[int, int]:
    """Send `run.options.leak_requests` requests; return how many were sent and failed.

    wrk bounds a run by time only: the script stops its thread at the count,
    but wrk still waits out the duration, so each round lasts about as long
    as the remaining count takes at the warm-up's rate.
    """
    target = run.options.leak_requests
    sent = failed = 0
    for _round in range(MAX_ROUNDS):
        remaining = target - sent
        if remaining <= 0:
            break
        script = run.workdir / "growth.lua"
        write_script(script, loads, stop_after=remaining)
        seconds = min(MAX_ROUND_SECONDS, 1.2 * remaining / max(estimated_rps, 1.0) + 1)
        result = run_wrk(
            server.base_url,
            script,
            seconds=seconds,
            connections=run.options.connections,
            cpu=run.cores.load,
        )
        sent += result.requests
        failed += result.failed
    return sent, failed


def _responds(server: servers.Server, load: Load) -> bool:
    response = httpx.request(
        load.method,
        server.base_url + load.path,
        headers=dict(load.headers),
        content=load.body,
        timeout=10,
    )
    return response.is_success


def write_csv(path: Path, size_bytes: int) -> int:
    """Write a CSV of articles of at least `size_bytes`; return the number of rows."""
    rows = 0
    # About 550 bytes a row, so 50 MB stays under the import's 100,000-row bound.
    summary = "A summary long enough to look like real text in an imported article. " * 7
    with path.open("w", encoding="utf-8", newline="") as csv_file:
        csv_file.write(CSV_HEADER)
        written = len(CSV_HEADER)
        while written < size_bytes:
            line = (
                f"Imported article {rows},{summary.strip()},https://example.com/imported/{rows}\n"
            )
            csv_file.write(line)
            written += len(line)
            rows += 1
    return rows


def check_import_memory(run: Run, server: servers.Server) -> list[TargetCheck]:
    """Upload a large CSV to the import route and measure the rise of the server's peak memory."""
    size_mb = run.options.import_mb
    peak_target = Target(f"import of a {size_mb} MB CSV: peak memory rise (MB)", "<", 20)
    folder_target = Target("files left in the upload folder after the run", "<=", 0)

    small = run.workdir / "probe.csv"
    write_csv(small, 1)
    status = _upload(server, run.key, small)
    if status in ROUTE_MISSING:
        return [
            check_target(peak_target, None, "not measured: route missing"),
            check_target(folder_target, None, "not measured: route missing"),
        ]
    if not 200 <= status < 300:
        reason = f"not measured: probe upload returned {status}"
        return [check_target(peak_target, None, reason), check_target(folder_target, None, reason)]

    large = run.workdir / "import.csv"
    rows = write_csv(large, size_mb * 1000 * 1000)
    before = _settled_stats(server.pid)
    if not servers.reset_peak_memory(server.pid):
        reason = "not measured: the kernel refused to reset the peak resident size"
        return [check_target(peak_target, None, reason), check_target(folder_target, None, reason)]

    started = time.monotonic()
    status = _upload(server, run.key, large)
    seconds = time.monotonic() - started
    after = servers.read_stats(server.pid)
    leftovers = _files_in(run.workdir / "uploads") + _files_in(run.workdir / "tmp")

    run.memory["import"] = (
        f"{large.stat().st_size / MIB:.1f} MiB, {rows:,} rows, status {status}, {seconds:.1f} s"
    )
    run.memory["resident memory before the import"] = f"{before.rss_kib / 1024:.1f} MiB"
    run.memory["peak resident memory during the import"] = f"{after.peak_rss_kib / 1024:.1f} MiB"
    detail = "" if 200 <= status < 300 else f"upload returned {status}"
    return [
        check_target(peak_target, (after.peak_rss_kib - before.rss_kib) / KIB_PER_MB, detail),
        check_target(folder_target, len(leftovers), ", ".join(leftovers[:5])),
    ]


def _upload(server: servers.Server, key: str, path: Path) -> int:
    with path.open("rb") as upload:
        # httpx sends a file object in chunks, so the client never reads the whole file into memory.
        response = httpx.post(
            f"{server.base_url}/api/articles/import",
            headers={"X-API-Key": key},
            files={"file": (path.name, upload, "text/csv")},
            timeout=600,
        )
    return response.status_code


def _files_in(folder: Path) -> list[str]:
    if not folder.exists():
        return []
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())
