"""Parsing of wrk's output and the Lua scripts the benchmark gives wrk."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.wrk import Load, parse_duration_ms, parse_wrk_output, write_script

CLEAN_RUN = """\
Running 2s test @ http://127.0.0.1:41234
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.85ms    1.02ms  20.31ms   90.12%
    Req/Sec     6.63k   412.77     7.01k    85.00%
  Latency Distribution
     50%  812.00us
     75%    4.93ms
     90%    5.54ms
     99%    1.20s
  13202 requests in 2.00s, 1.87MB read
Requests/sec:   6596.42
Transfer/sec:    957.25KB
"""

FAILED_RUN = """\
Running 2s test @ http://127.0.0.1:41234
  1 threads and 32 connections
  Latency Distribution
     50%    4.62ms
     75%    4.93ms
     90%    5.54ms
     99%    8.85ms
  13202 requests in 2.00s, 1.87MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 12
Requests/sec:   6596.42
Transfer/sec:    957.25KB
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [("812.00us", 0.812), ("4.62ms", 4.62), ("1.20s", 1200.0), ("1.50m", 90_000.0)],
)
def test_duration_units(text: str, expected: float) -> None:
    assert parse_duration_ms(text) == pytest.approx(expected)


def test_duration_without_unit() -> None:
    with pytest.raises(ValueError, match=r"not a wrk duration: '4\.62'"):
        parse_duration_ms("4.62")


def test_output_clean_run() -> None:
    result = parse_wrk_output(CLEAN_RUN)

    assert result.requests == 13202
    assert result.requests_per_second == pytest.approx(6596.42)
    assert result.p50_ms == pytest.approx(0.812)
    assert result.p99_ms == pytest.approx(1200.0)
    assert result.failed == 0
    assert result.is_valid


def test_output_counts_errors() -> None:
    result = parse_wrk_output(FAILED_RUN)

    assert result.failed == 17
    assert not result.is_valid


def test_output_without_latency() -> None:
    without_distribution = CLEAN_RUN.replace("     50%  812.00us\n", "")

    with pytest.raises(ValueError, match="no latency distribution"):
        parse_wrk_output(without_distribution)


def test_output_without_totals() -> None:
    with pytest.raises(ValueError, match="no request totals"):
        parse_wrk_output("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_script_escapes_body(tmp_path: Path) -> None:
    script = tmp_path / "load.lua"
    load = Load("POST", "/api/analyze", (("X-API-Key", "k"),), '{"text": "a\\b"}')

    write_script(script, [load])

    assert (
        'requests[1] = wrk.format("POST", "/api/analyze", {["X-API-Key"] = "k"}, '
        '"{\\"text\\": \\"a\\\\b\\"}")'
    ) in script.read_text()


def test_script_stops_after_count(tmp_path: Path) -> None:
    script = tmp_path / "load.lua"

    write_script(script, [Load("GET", "/a"), Load("GET", "/b")], stop_after=100)

    text = script.read_text()
    assert "next_index = next_index % 2 + 1" in text
    assert "if responses >= 100 then wrk.thread:stop() end" in text
