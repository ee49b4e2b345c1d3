"""The server killed with SIGKILL mid-upload: the next start sweeps the upload folder."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.helpers import ALICE_KEY, TEST_API_KEYS
from tests.live_server import LiveServer, live_server

pytestmark = pytest.mark.slow

UPLOADS = 5
LOAD_THREADS = 4
# The uploads announce this many bytes and send a small part of them, so
# each stays open, its temporary file on disk, until the kill.
ANNOUNCED_BYTES = 1_000_000
CSV = b"title,url\nImported after the restart,https://example.com/after\n"


def _start_slow_upload(server: LiveServer) -> socket.socket:
    """Send the headers and the start of a multipart body over a raw socket, and keep it open."""
    host, port = server.url.removeprefix("http://").split(":")
    boundary = uuid.uuid4().hex
    head = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="slow.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + b"title,url\n"
        + b"x" * 4096
    )
    request = (
        "POST /api/articles/import HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        f"X-API-Key: {ALICE_KEY}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {ANNOUNCED_BYTES}\r\n\r\n"
    ).encode()
    connection = socket.create_connection((host, int(port)), timeout=10)
    connection.sendall(request + head)
    return connection


def _wait_for_files(folder: Path, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(list(folder.iterdir())) < count:
        assert time.monotonic() < deadline, f"{count} upload files never appeared in {folder}"
        time.sleep(0.05)


def test_sigkill_upload_swept_at_restart(tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    env = {
        "APP_ENV": "development",
        "API_KEYS": TEST_API_KEYS,
        "UPLOAD_TMP_DIR": str(uploads),
        "IMPORT_RATE_LIMIT": "100000/minute",
    }
    statuses: Counter[str] = Counter()
    lock = threading.Lock()
    stop = threading.Event()

    def load(url: str) -> None:
        # Reads until the kill, and a little after it (refused connections).
        with httpx.Client(base_url=url, timeout=5, headers={"X-API-Key": ALICE_KEY}) as client:
            while not stop.is_set():
                try:
                    outcome = str(client.get("/api/articles").status_code)
                except httpx.TransportError:
                    outcome = "refused"
                with lock:
                    statuses[outcome] += 1
                time.sleep(0.02)

    with live_server(env, tmp_path) as server:
        readers = [threading.Thread(target=load, args=(server.url,)) for _ in range(LOAD_THREADS)]
        for reader in readers:
            reader.start()
        connections = [_start_slow_upload(server) for _ in range(UPLOADS)]
        _wait_for_files(uploads, UPLOADS)
        time.sleep(1.5)  # reads keep running alongside the open uploads
        files_at_kill = len(list(uploads.iterdir()))
        server.kill()
        time.sleep(0.2)
        stop.set()
        for reader in readers:
            reader.join()
        for connection in connections:
            connection.close()
    # The kill left the files behind: nothing ran to delete them.
    assert len(list(uploads.iterdir())) == UPLOADS

    with (
        live_server(env, tmp_path) as restarted,
        httpx.Client(base_url=restarted.url, timeout=10) as client,
    ):
        files_after_restart = len(list(uploads.iterdir()))
        imported = client.post(
            "/api/articles/import",
            files={"file": ("after.csv", CSV, "text/csv")},
            headers={"X-API-Key": ALICE_KEY},
        )
        files_after_import = len(list(uploads.iterdir()))

    assert files_at_kill == UPLOADS
    assert files_after_restart == 0
    assert f"upload folder ready: removed {UPLOADS} leftover file(s)" in restarted.output()
    assert imported.status_code == 200
    assert imported.json()["imported"] == 1
    assert files_after_import == 0
    assert set(statuses) <= {"200", "refused"}, statuses
    assert statuses["200"] > 0
    print(
        f"\nRELIABILITY kill-during-upload uploads_open={files_at_kill} "
        f"reads={dict(statuses)} files_after_restart={files_after_restart} "
        f"swept={UPLOADS} files_after_import={files_after_import}"
    )
