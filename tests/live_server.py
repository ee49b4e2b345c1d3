"""Run `python -m app serve` as a real server process for tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.helpers import free_port

REPOSITORY = Path(__file__).resolve().parent.parent


@dataclass
class LiveServer:
    """A started server: its base URL, process and the output lines read so far."""

    url: str
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    def output(self) -> str:
        return "\n".join(self.lines)

    def kill(self) -> None:
        """Stop the server with SIGKILL, as a crash or an OOM killer would."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


def _read_lines(process: subprocess.Popen[str], lines: list[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line.rstrip("\n"))


def wait_until_healthy(url: str, process: subprocess.Popen[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise AssertionError(f"server exited with status {process.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"server did not answer /healthz within {timeout} s")
        time.sleep(0.1)


@contextmanager
def live_server(env: dict[str, str], cwd: Path, *, port: int | None = None) -> Iterator[LiveServer]:
    """Start the service with `env` (and nothing else from this process's environment)."""
    port = port or free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve"],
        env={
            "PATH": os.environ["PATH"],
            "PYTHONPATH": str(REPOSITORY),
            "HOST": "127.0.0.1",
            "PORT": str(port),
            **env,
        },
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    server = LiveServer(f"http://127.0.0.1:{port}", process)
    reader = threading.Thread(target=_read_lines, args=(process, server.lines), daemon=True)
    reader.start()
    try:
        try:
            wait_until_healthy(server.url, process)
        except AssertionError as error:
            reader.join(timeout=5)
            raise AssertionError(f"{error}\n{server.output()}") from None
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        reader.join(timeout=5)
        if process.stdout is not None:
            process.stdout.close()
