"""Constants and small functions the tests share."""

from __future__ import annotations

import secrets
import socket

# Keys are made at run time, so no key-shaped literal sits in the source for
# a secret scanner to flag.
ALICE_KEY = secrets.token_urlsafe(32)
BOB_KEY = secrets.token_urlsafe(32)
TEST_API_KEYS = f"alice:{ALICE_KEY},bob:{BOB_KEY}"

GENERIC_KEYS = {"error", "error_id"}


def auth(key: str = ALICE_KEY) -> dict[str, str]:
    return {"X-API-Key": key}


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
