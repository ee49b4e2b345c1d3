"""A stand-in AI provider: a real HTTP server on 127.0.0.1, one behaviour per path."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.helpers import free_port

# Text the upstream puts in its error body; it must never reach a client or a log.
SENTINEL = "upstream-sentinel-" + secrets.token_hex(8)
REPLY_TEXT = json.dumps({"summary": "A short summary.", "keywords": ["alpha", "beta"]})


@dataclass
class Upstream:
    url: str
    # (path, headers) of every request received, for asserting where the key went.
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    slow_seconds: float = 3.0
    trickle_seconds: float = 5.0


def _handler(upstream: Upstream) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return None  # keep test output to the service's own log

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            self.rfile.read(length)
            upstream.requests.append((self.path, dict(self.headers.items())))
            mode = self.path.strip("/").split("/", 1)[0]

            if mode == "ok":
                self._send(200, _chat_reply(REPLY_TEXT))
            elif mode == "error":
                self._send(500, json.dumps({"error": SENTINEL}).encode())
            elif mode == "garbage":
                self._send(200, f"<html>{SENTINEL}</html>".encode())
            elif mode == "slow":
                time.sleep(upstream.slow_seconds)
                self._send(200, _chat_reply(REPLY_TEXT))
            elif mode == "trickle":
                body = _chat_reply(REPLY_TEXT)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                stop = time.monotonic() + upstream.trickle_seconds
                for byte in body:
                    if time.monotonic() > stop:
                        break
                    try:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    except OSError:
                        return
                    time.sleep(0.1)
            else:
                self._send(404, b"{}")

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def _chat_reply(content: str) -> bytes:
    reply = {
        "choices": [{"message": {"role": "assistant", "content": content}}],
        "usage": {"total_tokens": 42},
    }
    return json.dumps(reply).encode()


@contextmanager
def running_upstream() -> Iterator[Upstream]:
    port = free_port()
    upstream = Upstream(url=f"http://127.0.0.1:{port}")
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(upstream))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield upstream
    finally:
        server.shutdown()
        server.server_close()
