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

# A production configuration that passes every start-up check: tests that
# run with APP_ENV=production start from this and change one thing.
PRODUCTION_ENV = {
    "APP_ENV": "production",
    "API_KEYS": TEST_API_KEYS,
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "AI_PROVIDER": "offline",
    "AI_ALLOW_OFFLINE_IN_PRODUCTION": "true",
}
PRODUCTION_SETTINGS = {name.lower(): value for name, value in PRODUCTION_ENV.items()}


def auth(key: str = ALICE_KEY) -> dict[str, str]:
    return {"X-API-Key": key}


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
