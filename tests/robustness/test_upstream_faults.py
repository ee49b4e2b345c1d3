"""The AI upstream hanging, resetting and sending garbage, under load on a real server."""

from __future__ import annotations

import secrets
import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.helpers import ALICE_KEY, TEST_API_KEYS
from tests.live_server import LiveServer, live_server
from tests.robustness.fault_upstream import SENTINEL, FaultUpstream, fault_upstream

pytestmark = pytest.mark.slow

PROVIDER_KEY = "prov-" + secrets.token_urlsafe(24)
ANALYZE = {"text": "The upstream misbehaves. The service must answer anyway."}
READ_TIMEOUT = 1.0
DEADLINE = 2.0
# A response may arrive this much after the deadline, for the server's own
# work on a shared, busy machine.
SLACK = 1.0
LATENCY_SAMPLES = 60
HANGING_CALLERS = 8
FAILING_CALLS = 40


def _service_env(upstream: FaultUpstream) -> dict[str, str]:
    return {
        "APP_ENV": "development",
        "API_KEYS": TEST_API_KEYS,
        "AI_PROVIDER": "openai",
        "AI_API_KEY": PROVIDER_KEY,
        "AI_BASE_URL": upstream.url,
        "AI_CONNECT_TIMEOUT": "1",
        "AI_READ_TIMEOUT": str(READ_TIMEOUT),
        "AI_DEADLINE": str(DEADLINE),
        "ANALYZE_RATE_LIMIT": "100000/minute",
        "AI_DAILY_BUDGET_CALLS": "0",
        "AI_DAILY_BUDGET_TOKENS": "0",
        "AI_DAILY_BUDGET_TOTAL_CALLS": "0",
        "AI_DAILY_BUDGET_TOTAL_TOKENS": "0",
    }


def _median_latency(client: httpx.Client) -> float:
    seconds = []
    for _ in range(LATENCY_SAMPLES):
        started = time.monotonic()
        response = client.get("/api/articles")
        seconds.append(time.monotonic() - started)
        assert response.status_code == 200
        time.sleep(0.02)
    return statistics.median(seconds)


class Analyses:
    """Analyze calls from several threads: statuses, slowest response, bodies."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.statuses: Counter[int] = Counter()
        self.slowest = 0.0
        self.bodies: list[str] = []
        self.lock = threading.Lock()

    def call(self, _number: int = 0) -> None:
        started = time.monotonic()
        response = httpx.post(
            f"{self.server.url}/api/analyze",
            json=ANALYZE,
            headers={"X-API-Key": ALICE_KEY},
            timeout=DEADLINE + 10,
        )
        with self.lock:
            self.statuses[response.status_code] += 1
            self.slowest = max(self.slowest, time.monotonic() - started)
            self.bodies.append(response.text)


def test_upstream_faults_fail_fast_under_load(tmp_path: Path) -> None:
    with (
        fault_upstream("hang") as upstream,
        live_server(_service_env(upstream), tmp_path) as server,
        httpx.Client(base_url=server.url, timeout=10, headers={"X-API-Key": ALICE_KEY}) as client,
    ):
        baseline = _median_latency(client)

        # Several callers keep analyze calls hanging while the latency
        # of another route is measured again.
        hanging = Analyses(server)
        measured = threading.Event()

        def keep_hanging() -> None:
            while not measured.is_set():
                hanging.call()

        callers = [threading.Thread(target=keep_hanging) for _ in range(HANGING_CALLERS)]
        for caller in callers:
            caller.start()
        time.sleep(0.3)  # let every caller reach the upstream
        during_hang = _median_latency(client)
        measured.set()
        for caller in callers:
            caller.join()

        failing: dict[str, Analyses] = {}
        for fault in ("reset", "garbage"):
            upstream.fault = fault
            analyses = failing[fault] = Analyses(server)
            with ThreadPoolExecutor(4) as pool:
                # list() re-raises here any exception a call raised.
                list(pool.map(analyses.call, range(FAILING_CALLS)))

    assert set(hanging.statuses) == {504}, hanging.statuses
    assert failing["reset"].statuses == {502: FAILING_CALLS}, failing["reset"].statuses
    assert failing["garbage"].statuses == {502: FAILING_CALLS}, failing["garbage"].statuses
    for analyses in (hanging, *failing.values()):
        assert analyses.slowest < DEADLINE + SLACK
    # Generous on purpose: a worker blocked by the hanging calls would take
    # seconds, not a few times its usual milliseconds.
    assert during_hang < 5 * baseline + 0.05, (baseline, during_hang)

    responses = "".join(
        body for analyses in (hanging, *failing.values()) for body in analyses.bodies
    )
    for secret in (PROVIDER_KEY, SENTINEL):
        assert secret not in responses
        assert secret not in server.output()

    hung = Counter(call.outcome for call in upstream.calls if call.fault == "hang")
    sent = 2 * LATENCY_SAMPLES + sum(hanging.statuses.values()) + 2 * FAILING_CALLS
    print(
        f"\nRELIABILITY upstream-faults requests={sent} hang={dict(hanging.statuses)} "
        f"reset={dict(failing['reset'].statuses)} garbage={dict(failing['garbage'].statuses)} "
        f"slowest_s={max(a.slowest for a in (hanging, *failing.values())):.2f} "
        f"articles_p50_ms={baseline * 1000:.1f}->{during_hang * 1000:.1f} "
        f"latency_samples={2 * LATENCY_SAMPLES} upstream_hang_calls={dict(hung)} leaks=0"
    )
