"""A burst of parallel anonymous reads never exhausts the database pool."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.helpers import TEST_API_KEYS
from tests.live_server import live_server

pytestmark = pytest.mark.slow

# More simultaneous requests than FastAPI's 40 threads. When a session was
# held by a yield-dependency, a request kept its connection while it waited
# for a thread to validate its response, every thread waited for a
# connection, and all but about 30 requests got 503 after pool_timeout.
PARALLEL = 100


async def _burst(url: str) -> Counter[int]:
    limits = httpx.Limits(max_connections=PARALLEL)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        responses = await asyncio.gather(
            *(client.get("/api/articles", params={"limit": 100}) for _ in range(PARALLEL))
        )
    return Counter(response.status_code for response in responses)


def test_parallel_reads_all_succeed(tmp_path: Path) -> None:
    env = {"APP_ENV": "development", "API_KEYS": TEST_API_KEYS, "DATA_DIR": str(tmp_path / "data")}
    with live_server(env, tmp_path) as server:
        statuses = asyncio.run(_burst(server.url))

    assert statuses == Counter({200: PARALLEL})
    print(f"\nRELIABILITY read-burst parallel={PARALLEL} statuses={dict(statuses)}")
