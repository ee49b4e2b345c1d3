"""Reading a process's CPU time from /proc."""

from __future__ import annotations

import pytest

from bench.servers import parse_cpu_seconds

# proc(5): pid (comm) state ppid ... utime (field 14) stime (field 15) ...
STAT = "4404 (python -m uvicorn) S 4390 4404 4390 0 -1 4194560 9 0 0 0 250 50 0 0 20 0 3 0"


def test_cpu_seconds_command_with_spaces() -> None:
    assert parse_cpu_seconds(STAT, 100) == pytest.approx(3.0)
