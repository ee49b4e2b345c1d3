"""Clients that hang up during a slow analysis: the upstream call is bounded, nothing leaks."""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis

from app.analysis.router import TOKENS_PER_CHAR
from tests.helpers import ALICE_KEY, TEST_API_KEYS
from tests.live_server import LiveServer, live_server
from tests.own_servers import own_redis
from tests.robustness.fault_upstream import TOKENS_PER_REPLY, Call, fault_upstream

pytestmark = pytest.mark.slow

PROVIDER_KEY = "prov-" + secrets.token_urlsafe(24)
DEADLINE = 3.0
MAX_TOKENS = 512
SLACK = 1.0
DISCONNECTS = 10
LOAD_THREADS = 4
TEXT = "A long analysis. The caller will not wait for it."
ANALYZE = json.dumps({"text": TEXT}).encode()
# What analyze reserves before calling the upstream (app/analysis/router.py).
RESERVED_TOKENS = MAX_TOKENS + int(len(TEXT) * TOKENS_PER_CHAR) + 1


def _analyze_and_hang_up(server: LiveServer) -> None:
    """Send a whole analyze request over a raw socket, then close before the reply."""
    host, port = server.url.removeprefix("http://").split(":")
    request = (
        "POST /api/analyze HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        f"X-API-Key: {ALICE_KEY}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(ANALYZE)}\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(request + ANALYZE)
        time.sleep(0.3)


def _budget_counters(url: str) -> dict[str, int]:
    """The budget counters of client alice, by kind (`calls`, `tokens`)."""
    counters = {}
    with redis.Redis.from_url(url) as connection:
        for key in connection.scan_iter(match="*ai-budget*:client:alice"):
            kind = "calls" if b":calls:" in key else "tokens"
            counters[kind] = int(connection.get(key) or 0)
    return counters


@dataclass
class Outcome:
    calls: list[Call]
    budget: dict[str, int]
    reads: Counter[int]
    after_status: int
    log: str

    def summary(self) -> str:
        outcomes = Counter(call.outcome for call in self.calls)
        longest = max(call.seconds for call in self.calls)
        return (
            f"disconnects={DISCONNECTS} upstream={dict(outcomes)} longest_upstream_s={longest:.2f} "
            f"budget={self.budget} reads={dict(self.reads)} after={self.after_status}"
        )


def _disconnect_under_load(tmp_path: Path, upstream_seconds: float) -> Outcome:
    """Hang up on DISCONNECTS analyze calls while reads run, and collect the outcome."""
    reads: Counter[int] = Counter()
    lock = threading.Lock()
    stop = threading.Event()

    with own_redis() as storage, fault_upstream("slow", slow_seconds=upstream_seconds) as upstream:
        env = {
            "APP_ENV": "development",
            "API_KEYS": TEST_API_KEYS,
            "RATE_LIMIT_STORAGE_URI": storage.url,
            "AI_PROVIDER": "openai",
            "AI_API_KEY": PROVIDER_KEY,
            "AI_BASE_URL": upstream.url,
            "AI_CONNECT_TIMEOUT": "1",
            "AI_READ_TIMEOUT": str(DEADLINE),
            "AI_DEADLINE": str(DEADLINE),
            "AI_MAX_TOKENS": str(MAX_TOKENS),
            "ANALYZE_RATE_LIMIT": "100000/minute",
            "AI_DAILY_BUDGET_CALLS": "1000",
            "AI_DAILY_BUDGET_TOKENS": "10000000",
        }
        with live_server(env, tmp_path) as server:

            def load() -> None:
                with httpx.Client(
                    base_url=server.url, timeout=10, headers={"X-API-Key": ALICE_KEY}
                ) as client:
                    while not stop.is_set():
                        response = client.get("/api/articles")
                        with lock:
                            reads[response.status_code] += 1
                        time.sleep(0.02)

            readers = [threading.Thread(target=load) for _ in range(LOAD_THREADS)]
            for reader in readers:
                reader.start()
            callers = [
                threading.Thread(target=_analyze_and_hang_up, args=(server,))
                for _ in range(DISCONNECTS)
            ]
            for caller in callers:
                caller.start()
            for caller in callers:
                caller.join()

            # Every upstream call ends, answered or closed, by the deadline.
            deadline = time.monotonic() + DEADLINE + SLACK
            while len(upstream.calls) < DISCONNECTS and time.monotonic() < deadline:
                time.sleep(0.05)
            calls = list(upstream.calls)
            stop.set()
            for reader in readers:
                reader.join()
            # The service settles after the upstream call ends: give it a moment.
            time.sleep(0.5)
            budget = _budget_counters(storage.url)

            # The service still serves the same route to a caller that waits.
            upstream.slow_seconds = 0.1
            after = httpx.post(
                f"{server.url}/api/analyze",
                content=ANALYZE,
                headers={"X-API-Key": ALICE_KEY, "Content-Type": "application/json"},
                timeout=10,
            )
    return Outcome(calls, budget, reads, after.status_code, server.output())


def test_disconnect_slow_reply_settles_tokens(tmp_path: Path) -> None:
    outcome = _disconnect_under_load(tmp_path, upstream_seconds=1.5)

    # The service finishes the call for the caller that left, and settles
    # it: one call each, the reserved tokens replaced by those reported.
    assert [call.outcome for call in outcome.calls] == ["answered"] * DISCONNECTS
    assert max(call.seconds for call in outcome.calls) < DEADLINE
    assert outcome.budget == {"calls": DISCONNECTS, "tokens": DISCONNECTS * TOKENS_PER_REPLY}
    assert set(outcome.reads) == {200}, outcome.reads
    assert outcome.after_status == 200
    assert PROVIDER_KEY not in outcome.log
    print(f"\nRELIABILITY client-disconnect-slow-reply {outcome.summary()}")


def test_disconnect_hung_reply_ends_at_deadline(tmp_path: Path) -> None:
    outcome = _disconnect_under_load(tmp_path, upstream_seconds=60)

    # The service closes the upstream connection at the deadline, not
    # after the upstream's 60 s. A failed call keeps its reservation: the provider may
    # have charged for work it did not deliver.
    assert [call.outcome for call in outcome.calls] == ["closed"] * DISCONNECTS
    assert max(call.seconds for call in outcome.calls) < DEADLINE + SLACK
    assert outcome.budget == {"calls": DISCONNECTS, "tokens": DISCONNECTS * RESERVED_TOKENS}
    assert outcome.log.count("reason=upstream timed out") == DISCONNECTS
    assert set(outcome.reads) == {200}, outcome.reads
    assert outcome.after_status == 200
    assert PROVIDER_KEY not in outcome.log
    print(f"\nRELIABILITY client-disconnect-hung-reply {outcome.summary()}")
