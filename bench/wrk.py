"""Run wrk against one URL and parse what it prints.

wrk (https://github.com/wg/wrk, 4.x) prints requests per second, and with
`--latency` a latency distribution; this module reads those lines and
counts responses that were not 2xx or 3xx, so a run that hit a rate limit
or an error is marked invalid instead of looking fast.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Load", "WrkResult", "parse_duration_ms", "parse_wrk_output", "run_wrk", "write_script"]

_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_DURATION = re.compile(r"([0-9.]+)(us|ms|s|m)")
_RPS = re.compile(r"^Requests/sec:\s+([0-9.]+)", re.MULTILINE)
_TOTAL = re.compile(r"^\s*([0-9]+) requests in ", re.MULTILINE)
_PERCENTILE = re.compile(r"^\s+(50|75|90|99)%\s+(\S+)", re.MULTILINE)
_NON_2XX = re.compile(r"^\s*Non-2xx or 3xx responses:\s+([0-9]+)", re.MULTILINE)
_SOCKET_ERRORS = re.compile(
    r"Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+)"
)


@dataclass(frozen=True)
class Load:
    """One request that wrk repeats: method, path, headers and body."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None


@dataclass(frozen=True)
class WrkResult:
    requests: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    failed: int  # non-2xx/3xx responses plus socket errors
    # CPU time the server process used during the run, all threads; None
    # when not measured. Set by the caller, because wrk cannot see it.
    server_cpu_seconds: float | None = None

    @property
    def requests_per_cpu_second(self) -> float | None:
        if not self.server_cpu_seconds:
            return None
        return self.requests / self.server_cpu_seconds

    @property
    def is_valid(self) -> bool:
        return self.failed == 0 and self.requests > 0


def parse_duration_ms(text: str) -> float:
    """Convert a wrk duration such as `812.00us`, `1.25ms` or `2.01s` to milliseconds."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNIT_MS[match.group(2)]


def parse_wrk_output(output: str) -> WrkResult:
    """Read the totals and the 50th and 99th latency percentiles from `wrk --latency`."""
    rps = _RPS.search(output)
    total = _TOTAL.search(output)
    if rps is None or total is None:
        raise ValueError(f"wrk output has no request totals:\n{output}")
    percentiles = {name: parse_duration_ms(value) for name, value in _PERCENTILE.findall(output)}
    if "50" not in percentiles or "99" not in percentiles:
        raise ValueError(f"wrk output has no latency distribution (run with --latency):\n{output}")

    failed = 0
    non_2xx = _NON_2XX.search(output)
    if non_2xx:
        failed += int(non_2xx.group(1))
    socket_errors = _SOCKET_ERRORS.search(output)
    if socket_errors:
        failed += sum(int(count) for count in socket_errors.groups())
    return WrkResult(
        requests=int(total.group(1)),
        requests_per_second=float(rps.group(1)),
        p50_ms=percentiles["50"],
        p99_ms=percentiles["99"],
        failed=failed,
    )


def _lua_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def write_script(path: Path, loads: list[Load], stop_after: int | None = None) -> None:
    """Write a wrk Lua script that cycles through `loads`.

    With `stop_after`, each wrk thread stops after that many responses, so a
    run with one thread sends a fixed count (wrk itself only bounds time).
    """
    # The requests are built in init(), because wrk sets the Host header
    # that wrk.format adds only after the script's top level has run.
    lines = ["local requests = {}", "init = function(args)"]
    for index, load in enumerate(loads, start=1):
        headers = ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in load.headers)
        body = _lua_string(load.body) if load.body is not None else "nil"
        lines.append(
            f"  requests[{index}] = wrk.format({_lua_string(load.method)}, "
            f"{_lua_string(load.path)}, {{{headers}}}, {body})"
        )
    lines += [
        "end",
        "local next_index = 0",
        "request = function()",
        f"  next_index = next_index % {len(loads)} + 1",
        "  return requests[next_index]",
        "end",
    ]
    if stop_after is not None:
        lines += [
            "local responses = 0",
            "response = function(status, headers, body)",
            "  responses = responses + 1",
            f"  if responses >= {stop_after} then wrk.thread:stop() end",
            "end",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_wrk(
    base_url: str,
    script: Path,
    *,
    seconds: float,
    connections: int,
    cpu: int | None,
) -> WrkResult:
    """Load `base_url` with one wrk thread for at most `seconds`, pinned to `cpu` if given."""
    command = [
        "wrk",
        "--threads=1",
        f"--connections={connections}",
        f"--duration={max(1, round(seconds))}s",
        "--timeout=10s",
        "--latency",
        f"--script={script}",
        base_url,
    ]
    if cpu is not None:
        command = ["taskset", "--cpu-list", str(cpu), *command]
    finished = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + 60
    )
    return parse_wrk_output(finished.stdout)
