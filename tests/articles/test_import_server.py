"""The import over a real socket to `python -m app serve`: disconnects and early refusals."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.helpers import ALICE_KEY, PRODUCTION_ENV
from tests.test_server import running_server

pytestmark = pytest.mark.slow

BOUNDARY = "b0undary"


def _wait_until(condition: Callable[[], bool], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _request_head(host: str, content_length: int) -> bytes:
    return (
        "POST /api/articles/import HTTP/1.1\r\n"
        f"Host: {host}\r\n"
        f"X-API-Key: {ALICE_KEY}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {content_length}\r\n"
        "\r\n"
    ).encode()


def _part_head() -> bytes:
    return (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="file"; filename="a.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
        "title,summary,url\r\n"
    ).encode()


def _read_response(client: socket.socket) -> tuple[bytes, bytes]:
    """Read one response; return its head and its body (by Content-Length)."""
    received = b""
    while b"\r\n\r\n" not in received:
        received += client.recv(65536)
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += client.recv(65536)
    return head, body


def test_client_disconnect_mid_upload_leaves_no_file(tmp_path: Path) -> None:
    upload_dir = tmp_path / "uploads"
    env = {**PRODUCTION_ENV, "DATA_DIR": str(tmp_path / "data"), "UPLOAD_TMP_DIR": str(upload_dir)}

    with running_server(env, tmp_path) as (url, lines):
        address = urlsplit(url)
        assert address.hostname is not None
        assert address.port is not None
        with socket.create_connection((address.hostname, address.port), timeout=10) as client:
            client.sendall(_request_head(address.netloc, 1024 * 1024) + _part_head())
            client.sendall(b"T,S,https://example.com/a\r\n" * 2000)
            # The server is writing the file now; the client goes away.
            assert _wait_until(lambda: any(upload_dir.iterdir()))
        assert _wait_until(lambda: not any(upload_dir.iterdir()))

    assert list(upload_dir.iterdir()) == []
    assert [line for line in lines if "client disconnected" in line]


def test_oversized_content_length_is_413_before_body(tmp_path: Path) -> None:
    upload_dir = tmp_path / "uploads"
    env = {
        **PRODUCTION_ENV,
        "DATA_DIR": str(tmp_path / "data"),
        "UPLOAD_TMP_DIR": str(upload_dir),
        "MAX_UPLOAD_BYTES": "65536",
    }

    with running_server(env, tmp_path) as (url, _):
        address = urlsplit(url)
        assert address.hostname is not None
        assert address.port is not None
        with socket.create_connection((address.hostname, address.port), timeout=10) as client:
            # Only the head is sent, so the 413 must arrive without the body.
            client.sendall(_request_head(address.netloc, 65537))
            head, body = _read_response(client)

    assert head.startswith(b"HTTP/1.1 413 ")
    assert body.startswith(b'{"error":"request body too large","error_id":"')
    assert list(upload_dir.iterdir()) == []
