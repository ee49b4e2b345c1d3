"""PostgreSQL restarted under load: 503 while down, recovery, no acknowledged write lost."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.helpers import ALICE_KEY, TEST_API_KEYS
from tests.live_server import live_server
from tests.own_servers import PostgresServer, own_postgres

pytestmark = pytest.mark.slow

# 400 requests from 4 threads, each pausing 50 ms: about 5 s of load, with
# the database down from 1.5 s to about 3.5 s.
REQUESTS = 400
WORKERS = 4
PAUSE = 0.05


def _restart_during_load(database: PostgresServer) -> None:
    time.sleep(1.5)
    database.stop()
    time.sleep(2.0)
    database.start()


def _post(client: httpx.Client, title: str) -> httpx.Response:
    return client.post(
        "/api/articles",
        json={"title": title, "url": "https://example.com"},
        headers={"X-API-Key": ALICE_KEY},
    )


def test_postgres_restart_loses_no_acknowledged_write(tmp_path: Path) -> None:
    statuses: Counter[int] = Counter()
    acknowledged: list[str] = []
    lock = threading.Lock()

    with own_postgres() as database:
        env = {"APP_ENV": "development", "API_KEYS": TEST_API_KEYS, "DATABASE_URL": database.url}
        with (
            live_server(env, tmp_path) as server,
            httpx.Client(base_url=server.url, timeout=10) as client,
        ):

            def send(number: int) -> None:
                if number % 4 == 3:
                    response = client.get("/api/articles", params={"limit": 5})
                else:
                    response = _post(client, f"write-{number}")
                with lock:
                    statuses[response.status_code] += 1
                    if response.status_code == 201:
                        acknowledged.append(f"write-{number}")
                time.sleep(PAUSE)

            restarter = threading.Thread(target=_restart_during_load, args=(database,))
            restarter.start()
            with ThreadPoolExecutor(WORKERS) as pool:
                list(pool.map(send, range(REQUESTS)))
            restarter.join()

            # Recovery without a restart of the service: writes succeed again
            # within 10 s of the database coming back.
            deadline = time.monotonic() + 10
            while (response := _post(client, "after-restart")).status_code != 201:
                assert time.monotonic() < deadline, (
                    f"no recovery: last status {response.status_code}"
                )
                time.sleep(0.2)
            assert client.get("/readyz").status_code == 200

        logged_outages = [line for line in server.lines if "database unavailable" in line]
        engine = create_engine(database.url)
        with engine.connect() as connection:
            stored = set(connection.scalars(text("SELECT title FROM articles")))
        engine.dispose()

    assert set(statuses) <= {200, 201, 503}, statuses
    assert statuses[503] > 0, "the database was never seen down, so the test proved nothing"
    assert statuses[201] > 0
    assert set(acknowledged) <= stored
    # The outage is logged a few times, not once per failed request.
    assert 1 <= len(logged_outages) <= 5
    print(
        f"\nRELIABILITY postgres-restart statuses={dict(statuses)} acknowledged={len(acknowledged)} lost={len(set(acknowledged) - stored)}"
    )
