"""Database outages become 503 with the generic body, logged without flooding.

While the database is down every request that touches it fails the same
way. The first failure is logged with its cause. Later ones are counted and
summarised at most once per interval, so an outage under load writes a few
lines, not one per request.
"""

from __future__ import annotations

import logging
import threading
import time

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from app.security.errors import error_response

logger = logging.getLogger(__name__)

SUMMARY_INTERVAL_SECONDS = 30.0


class ThrottledErrorLog:
    """Log the first error of a burst, then one summary line per interval."""

    def __init__(self, log: logging.Logger, interval: float = SUMMARY_INTERVAL_SECONDS) -> None:
        self._log = log
        self._interval = interval
        self._lock = threading.Lock()
        self._last_logged = float("-inf")
        self._suppressed = 0

    def error(self, message: str, *args: object) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last_logged < self._interval:
                self._suppressed += 1
                return
            suppressed, self._suppressed = self._suppressed, 0
            self._last_logged = now
        if suppressed:
            self._log.error(
                message + " (%d similar errors not logged since the last line)", *args, suppressed
            )
        else:
            self._log.error(message, *args)


def install_database_error_handler(app: FastAPI) -> None:
    """Respond to database connection failures with 503 instead of a 500."""
    throttled = ThrottledErrorLog(logger)

    async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        # The exception text can hold the server address and user name, so
        # the log gets its type and the driver's error class only.
        original = getattr(exc, "orig", None)
        throttled.error(
            "database unavailable: error=%s driver_error=%s method=%s path=%s",
            type(exc).__name__,
            type(original).__name__ if original is not None else "-",
            request.method,
            request.url.path,
        )
        return error_response(request, 503)

    for error_type in (OperationalError, InterfaceError, PoolTimeoutError):
        app.add_exception_handler(error_type, database_unavailable)
