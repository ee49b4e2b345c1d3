"""A faulty AI provider for the fault tests: a real HTTP server on 127.0.0.1.

The test sets `fault` to one of these, and may change it between phases of
one run:

- `hang`: reads the request and sends nothing until the caller closes
  the connection or the server stops;
- `reset`: reads the request and resets the connection (RST, no reply);
- `garbage`: answers 200 with a body that is not JSON and holds SENTINEL;
- `slow`: answers a valid reply after `slow_seconds`, unless the caller
  closes the connection first.

Every request is recorded with how it ended, so a test can tell whether
the service gave up on the call (`closed`) or waited for the answer.
"""

from __future__ import annotations

import json
import secrets
import select
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.helpers import free_port

# Text in the garbage reply. It must never reach a client or a log line.
SENTINEL = "garbage-sentinel-" + secrets.token_hex(8)
TOKENS_PER_REPLY = 42


@dataclass(frozen=True)
class Call:
    fault: str
    # "closed" (the caller closed the connection first), "answered", "reset",
    # or "stopped" (still open when the server stopped).
    outcome: str
    seconds: float


@dataclass
class FaultUpstream:
    url: str
    fault: str = "slow"
    slow_seconds: float = 2.0
    calls: list[Call] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)


def _wait_for_close(connection: socket.socket, seconds: float, stopping: threading.Event) -> bool:
    """Wait up to `seconds`; return True as soon as the caller closes the connection."""
    end = time.monotonic() + seconds
    while time.monotonic() < end and not stopping.is_set():
        readable, _, _ = select.select([connection], [], [], 0.05)
        if readable:
            try:
                if connection.recv(1, socket.MSG_PEEK) == b"":
                    return True
            except OSError:
                return True
    return False


def _handler(upstream: FaultUpstream) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return None  # keep test output to the service's own log

        def do_POST(self) -> None:
            started = time.monotonic()
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            fault = upstream.fault
            outcome = "answered"

            if fault == "hang":
                closed = _wait_for_close(self.connection, 600, upstream.stopping)
                outcome = "closed" if closed else "stopped"
                self.close_connection = True
            elif fault == "reset":
                # Linger 0: close() sends RST instead of FIN.
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()
                self.close_connection = True
                outcome = "reset"
            elif fault == "garbage":
                self._send(200, f"<html>{SENTINEL}</html>".encode())
            elif fault == "slow":
                if _wait_for_close(self.connection, upstream.slow_seconds, upstream.stopping):
                    outcome = "closed"
                    self.close_connection = True
                else:
                    self._send(200, _chat_reply())
            else:
                self._send(404, b"{}")
            upstream.record(Call(fault, outcome, time.monotonic() - started))

        def _send(self, status: int, body: bytes) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                self.close_connection = True

    return Handler


def _chat_reply() -> bytes:
    content = json.dumps({"summary": "A slow summary.", "keywords": ["slow"]})
    reply = {
        "choices": [{"message": {"role": "assistant", "content": content}}],
        "usage": {"total_tokens": TOKENS_PER_REPLY},
    }
    return json.dumps(reply).encode()


class _Server(ThreadingHTTPServer):
    # The default backlog of 5 drops connections when a test opens a dozen
    # at once, which the service would see as a connect timeout.
    request_queue_size = 128


@contextmanager
def fault_upstream(fault: str, *, slow_seconds: float = 2.0) -> Iterator[FaultUpstream]:
    port = free_port()
    upstream = FaultUpstream(f"http://127.0.0.1:{port}", fault, slow_seconds)
    server = _Server(("127.0.0.1", port), _handler(upstream))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield upstream
    finally:
        upstream.stopping.set()
        server.shutdown()
        server.server_close()
