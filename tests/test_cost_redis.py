"""Limits in a real Redis: shared by two workers, and failing closed when Redis is down."""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import redis

import tests.test_server as server_tests
from tests.conftest import ClientFactory
from tests.helpers import ALICE_KEY, PRODUCTION_ENV, auth, free_port

# The outage tests start a redis-server of their own and need only the
# binary; the two-worker test needs TEST_REDIS_URL.
pytestmark = [pytest.mark.redis, pytest.mark.slow]

TEXT = {"text": "Counted in Redis."}


@pytest.fixture
def key_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards (no FLUSHDB)."""
    prefix = f"test-{uuid.uuid4().hex}"
    yield prefix
    with redis.Redis.from_url(redis_url) as connection:
        for key in connection.scan_iter(match=f"{prefix}*"):
            connection.delete(key)


def test_two_workers_share_one_limit(redis_url: str, key_prefix: str, tmp_path: Path) -> None:
    env = {
        **PRODUCTION_ENV,
        "DATA_DIR": str(tmp_path / "data"),
        "WEB_CONCURRENCY": "2",
        "RATE_LIMIT_STORAGE_URI": redis_url,
        "RATE_LIMIT_KEY_PREFIX": key_prefix,
        "ANALYZE_RATE_LIMIT": "10/minute",
    }

    with server_tests.running_server(env, tmp_path) as (url, lines):
        statuses = []
        for _ in range(11):
            # A new connection for each call, so the kernel hands calls to
            # both workers.
            response = httpx.post(f"{url}/api/analyze", json=TEXT, headers=auth(), timeout=10)
            statuses.append(response.status_code)
        ready = httpx.get(f"{url}/readyz", timeout=10)

    assert statuses == [200] * 10 + [429]
    assert sum("service started" in line for line in lines) == 2  # both workers ran
    assert ready.json() == {"status": "ready"}
    assert not [line for line in lines if ALICE_KEY in line]


@contextmanager
def own_redis(port: int) -> Iterator[subprocess.Popen[bytes]]:
    """A redis-server of this test's own on a free loopback port."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                if redis.Redis(port=port, socket_timeout=0.5).ping():
                    break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise AssertionError("redis-server did not start") from None
                time.sleep(0.05)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_redis_down_fails_closed(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="app")
    port = free_port()
    with own_redis(port) as server:
        client = make_client(rate_limit_storage_uri=f"redis://127.0.0.1:{port}/0")
        assert client.post("/api/analyze", json=TEXT, headers=auth()).status_code == 200
        server.terminate()
        server.wait(timeout=10)

        responses = [client.post("/api/analyze", json=TEXT, headers=auth()) for _ in range(3)]
        invalid_key = client.post("/api/analyze", json=TEXT, headers={"X-API-Key": "wrong"})
        healthz = client.get("/healthz")
        readyz = client.get("/readyz")
        me = client.get("/api/me", headers=auth())

    assert [response.status_code for response in responses] == [503, 503, 503]
    assert responses[0].json() == {
        "error": "service unavailable",
        "error_id": responses[0].headers["x-request-id"],
    }
    assert invalid_key.status_code == 503
    assert healthz.status_code == 200
    assert readyz.status_code == 503
    assert readyz.json()["error"] == "service unavailable"
    assert me.status_code == 200
    # One line for the outage, not one per request.
    outage = [
        record for record in caplog.records if "rate-limit storage failed" in record.getMessage()
    ]
    assert len(outage) == 1
    assert "error=ConnectionError" in outage[0].getMessage()


def test_redis_back_ends_the_outage(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="app")
    port = free_port()
    client = make_client(rate_limit_storage_uri=f"redis://127.0.0.1:{port}/0")

    assert client.post("/api/analyze", json=TEXT, headers=auth()).status_code == 503
    with own_redis(port):
        response = client.post("/api/analyze", json=TEXT, headers=auth())

    assert response.status_code == 200
    assert "rate-limit storage recovered" in caplog.text
