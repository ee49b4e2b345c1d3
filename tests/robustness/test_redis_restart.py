"""Redis stopped and started under load: cost routes 503 and recover, others unaffected."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.helpers import ALICE_KEY, TEST_API_KEYS
from tests.live_server import live_server
from tests.own_servers import RedisServer, own_redis

pytestmark = pytest.mark.slow

# 400 requests from 4 threads, each pausing 30 ms: about 4 s of load, with
# Redis down from 1.0 s to about 3.0 s. One request in four is a cost route.
REQUESTS = 400
WORKERS = 4
PAUSE = 0.03
ANALYZE = {"text": "Redis holds the counters. The route must fail closed."}
FREE_ROUTES = ("/api/articles", "/healthz", "/api/me")


def _restart_during_load(redis: RedisServer, started_again: list[float]) -> None:
    time.sleep(1.0)
    redis.stop()
    time.sleep(2.0)
    redis.start()
    started_again.append(time.monotonic())


def test_redis_restart_fails_closed_then_recovers(tmp_path: Path) -> None:
    cost_statuses: Counter[int] = Counter()
    # (time answered, status) of each cost request, to time the recovery.
    cost_answers: list[tuple[float, int]] = []
    started_again: list[float] = []
    free_statuses: Counter[int] = Counter()
    lock = threading.Lock()
    headers = {"X-API-Key": ALICE_KEY}

    with own_redis() as redis:
        env = {
            "APP_ENV": "development",
            "API_KEYS": TEST_API_KEYS,
            "RATE_LIMIT_STORAGE_URI": redis.url,
            # High enough that no request of this test is refused by a limit.
            "ANALYZE_RATE_LIMIT": "100000/minute",
            "AI_DAILY_BUDGET_CALLS": "100000",
            "AI_DAILY_BUDGET_TOTAL_CALLS": "100000",
            "AI_DAILY_BUDGET_TOKENS": "0",
            "AI_DAILY_BUDGET_TOTAL_TOKENS": "0",
        }
        with (
            live_server(env, tmp_path) as server,
            httpx.Client(base_url=server.url, timeout=10, headers=headers) as client,
        ):

            def send(number: int) -> None:
                if number % 4 == 0:
                    response = client.post("/api/analyze", json=ANALYZE)
                    counter = cost_statuses
                    with lock:
                        cost_answers.append((time.monotonic(), response.status_code))
                else:
                    response = client.get(FREE_ROUTES[number % 4 - 1])
                    counter = free_statuses
                with lock:
                    counter[response.status_code] += 1
                time.sleep(PAUSE)

            restarter = threading.Thread(target=_restart_during_load, args=(redis, started_again))
            restarter.start()
            with ThreadPoolExecutor(WORKERS) as pool:
                list(pool.map(send, range(REQUESTS)))
            restarter.join()

            # Recovery without a restart of the service, in case the load
            # ended before Redis came back.
            while (response := client.post("/api/analyze", json=ANALYZE)).status_code != 200:
                assert time.monotonic() - started_again[0] < 10, (
                    f"no recovery: last status {response.status_code}"
                )
                time.sleep(0.1)
            cost_answers.append((time.monotonic(), 200))

    recovery_seconds = (
        min(at for at, status in cost_answers if status == 200 and at > started_again[0])
        - started_again[0]
    )

    failures = [line for line in server.lines if "rate-limit storage failed" in line]
    recoveries = [line for line in server.lines if "rate-limit storage recovered" in line]
    assert set(free_statuses) == {200}, free_statuses
    assert set(cost_statuses) <= {200, 503}, cost_statuses
    assert cost_statuses[503] > 0, "Redis was never seen down, so the test proved nothing"
    assert cost_statuses[200] > 0
    # The outage is logged a few times (once per start of an outage), not
    # once per refused request.
    assert 1 <= len(failures) <= 3, failures
    assert len(recoveries) >= 1
    assert recovery_seconds < 5
    print(
        f"\nRELIABILITY redis-restart requests={REQUESTS + 1} cost={dict(cost_statuses)} "
        f"free={dict(free_statuses)} recovery_ms={recovery_seconds * 1000:.0f} "
        f"outage_log_lines={len(failures)}"
    )
