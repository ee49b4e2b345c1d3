"""A real session over HTTP against `python -m app serve`, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.helpers import ALICE_KEY, PRODUCTION_ENV
from tests.live_server import live_server

REPOSITORY = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


@contextmanager
def running_server(env: dict[str, str], cwd: Path) -> Iterator[tuple[str, list[str]]]:
    """Start the service on a free loopback port; yield its URL and its output lines.

    The list fills as the server writes, and contains every line once the
    block has ended and the server has stopped.
    """
    with live_server(env, cwd) as server:
        yield server.url, server.lines


def test_session_end_to_end_survives_restart(tmp_path: Path) -> None:
    env = {**PRODUCTION_ENV, "DATA_DIR": str(tmp_path / "data")}
    headers = {"X-API-Key": ALICE_KEY}
    article = {"title": "Kept", "summary": "across restarts", "url": "https://example.com/kept"}

    with running_server(env, tmp_path) as (url, lines):
        assert httpx.get(f"{url}/api/me").status_code == 401
        assert httpx.get(f"{url}/api/me", headers=headers).json() == {"client_id": "alice"}
        created = httpx.post(f"{url}/api/articles", json=article, headers=headers)
        assert created.status_code == 201
        listed = httpx.get(f"{url}/api/articles").json()
        assert [item["title"] for item in listed["items"]] == ["Kept"]
        assert "server" not in created.headers

    # Production logs are JSON lines; one access line per request, no key.
    access = [json.loads(line) for line in lines if '"app.access"' in line]
    assert len(access) >= 4
    assert {"method", "path", "status", "duration_ms", "request_id", "client_id"} <= set(access[0])
    assert not [line for line in lines if ALICE_KEY in line]

    with running_server(env, tmp_path) as (url, _):
        listed = httpx.get(f"{url}/api/articles").json()
        assert [item["title"] for item in listed["items"]] == ["Kept"]


def test_development_env_file_from_init_env(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "app", "init-env"],
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(REPOSITORY)},
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    key = (tmp_path / ".env").read_text().split("API_KEYS=dev:", 1)[1].strip()

    with running_server({}, tmp_path) as (url, _):
        assert httpx.get(f"{url}/api/me", headers={"X-API-Key": key}).json() == {"client_id": "dev"}
        assert httpx.get(f"{url}/docs").status_code == 200
