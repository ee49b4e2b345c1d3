"""`python -m bench.cpu_cost`: CPU time per request of GET /api/me, in-process.

Each ASGI app is called directly (no sockets, no uvicorn), so the figure is
the app's own work per request. It is CPU time of all threads
(`time.process_time`), not wall time, so other processes on a shared
machine disturb it far less than they disturb wrk. Compares the bare app with the service, and
with the service's access log turned off, to show what each part costs.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message

from tests.helpers import PRODUCTION_SETTINGS

WARMUP_REQUESTS = 500
ROUNDS = 7
REQUESTS_PER_ROUND = 3000


async def _call(app: ASGIApp, key: str) -> None:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/api/me",
        "raw_path": b"/api/me",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"x-api-key", key.encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    await app(scope, receive, send)
    if sent[0]["status"] != 200:
        raise RuntimeError(f"GET /api/me returned {sent[0]['status']}, expected 200")


async def microseconds_per_request(app: ASGIApp, key: str) -> tuple[float, float]:
    """Return the lowest and the median CPU time per request over the rounds."""
    for _ in range(WARMUP_REQUESTS):
        await _call(app, key)
    rounds: list[float] = []
    for _ in range(ROUNDS):
        started = time.process_time()
        for _ in range(REQUESTS_PER_ROUND):
            await _call(app, key)
        rounds.append((time.process_time() - started) / REQUESTS_PER_ROUND * 1e6)
    return min(rounds), statistics.median(rounds)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-cpu-") as folder:
        compare_apps(Path(folder))
    return 0


def compare_apps(workdir: Path) -> None:
    os.environ["BENCH_DATABASE_URL"] = f"sqlite:///{workdir / 'bench.db'}"

    from app.logging_config import configure_logging
    from app.main import create_app
    from app.settings import Settings
    from bench.bare_app import app as bare_app

    key = secrets.token_urlsafe(32)
    values: dict[str, Any] = {
        **PRODUCTION_SETTINGS,
        "api_keys": f"bench:{key}",
        "data_dir": workdir,
    }
    settings = Settings(_env_file=None, **values)
    # The production log set-up with its output discarded. Filtering and
    # formatting cost the same as in production, but the write is left out.
    configure_logging("INFO", json_lines=True, secrets=settings.secret_values())
    with open(os.devnull, "w") as devnull:
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(devnull)

        hardened = create_app(settings)
        access_logger = logging.getLogger("app.access")
        cases: list[tuple[str, ASGIApp, int]] = [
            ("bare FastAPI", bare_app, logging.INFO),
            ("service", hardened, logging.INFO),
            ("service, access log off", hardened, logging.WARNING),
        ]
        for name, app, access_level in cases:
            access_logger.setLevel(access_level)
            lowest, median = asyncio.run(microseconds_per_request(app, key))
            print(f"{name}: {lowest:.0f} us lowest, {median:.0f} us median CPU per request")


if __name__ == "__main__":
    sys.exit(main())
