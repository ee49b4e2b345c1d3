"""Start and stop the servers under test, and read a process's memory and descriptors.

Both servers run as one uvicorn worker with the same command-line options,
so the only difference between them is the app. Linux only: the figures come
from /proc.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ProcessStats",
    "Server",
    "free_port",
    "parse_cpu_seconds",
    "read_cpu_seconds",
    "read_stats",
    "reset_peak_memory",
    "running",
]

REPOSITORY = Path(__file__).resolve().parent.parent

# Options both servers share. Uvicorn's access log is off for both, because
# the service writes its own access line (app.access), which is part of what
# the benchmark measures. The bare app has no logging at all.
UVICORN_OPTIONS = (
    "--host=127.0.0.1",
    "--workers=1",
    "--no-access-log",
    "--no-server-header",
    "--no-proxy-headers",
    "--log-level=warning",
)


@dataclass(frozen=True)
class Server:
    name: str
    base_url: str
    pid: int
    log_path: Path


@dataclass(frozen=True)
class ProcessStats:
    rss_kib: int
    peak_rss_kib: int  # VmHWM: the largest resident size since start or the last reset
    open_fds: int


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def read_stats(pid: int) -> ProcessStats:
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in {"VmRSS", "VmHWM"}:
            fields[name] = int(value.split()[0])  # reported in kB
    open_fds = len(os.listdir(f"/proc/{pid}/fd"))
    return ProcessStats(fields["VmRSS"], fields["VmHWM"], open_fds)


def read_cpu_seconds(pid: int) -> float:
    """Return the user and system CPU time the process has used so far, all threads."""
    return parse_cpu_seconds(Path(f"/proc/{pid}/stat").read_text(), os.sysconf("SC_CLK_TCK"))


def parse_cpu_seconds(stat: str, ticks_per_second: int) -> float:
    """Read utime plus stime, in seconds, from the text of /proc/PID/stat."""
    # The command name in brackets may contain spaces, so split after it:
    # the fields then start at field 3 (state), and utime and stime are
    # fields 14 and 15, in clock ticks (proc(5)).
    fields = stat.rpartition(")")[2].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / ticks_per_second


def reset_peak_memory(pid: int) -> bool:
    """Reset the process's VmHWM to its current resident size (Linux 4.0+); False if refused."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _wait_until_healthy(process: subprocess.Popen[bytes], base_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"server exited with status {process.returncode}:\n{output}")
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=1) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server at {base_url} did not respond to /healthz within 30 s")


@contextmanager
def running(
    name: str, app: str, env: dict[str, str], workdir: Path, cpu: int | None
) -> Iterator[Server]:
    """Run `uvicorn <app>` on a free loopback port, pinned to `cpu` when given."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", app, f"--port={port}", *UVICORN_OPTIONS]
    if cpu is not None:
        taskset = shutil.which("taskset")
        if taskset is None:
            raise RuntimeError("taskset is not installed (Debian package util-linux)")
        command = [taskset, "--cpu-list", str(cpu), *command]

    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            env={"PATH": os.environ["PATH"], "PYTHONPATH": str(REPOSITORY), **env},
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(process, base_url, log_path)
        # taskset execs uvicorn, so the process id is the server's own.
        yield Server(name, base_url, process.pid, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
