"""One access log line per request, without secrets.

Defends against: API keys, cookies and tokens reaching the log through
headers or query strings, and requests that cannot be traced to a client.

The line contains the method, the path (never the query string, which can
carry a key), the status, the duration in milliseconds, the request id and
the authenticated client id. No header value is logged. Imports nothing else
from this project.

Wiring into an existing app::

    from access_log import AccessLogMiddleware

    app.add_middleware(AccessLogMiddleware)   # inside the request id middleware

The client id is read from `scope["state"]["client_id"]`, which
`request.state.client_id = ...` in an authentication dependency sets.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["AccessLogMiddleware"]

logger = logging.getLogger("app.access")

# The ASGI path is percent-decoded, so `%0a` arrives as a newline: escape
# control characters, or a client could write fake lines into a text log.
_ESCAPES = {code: f"\\x{code:02x}" for code in [*range(0x20), 0x7F]}


def _printable(path: str) -> str:
    return path.translate(_ESCAPES)


class AccessLogMiddleware:
    """Pure ASGI middleware that logs one INFO line when each response ends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        start = time.perf_counter()
        status_code = 500  # what the server sends if the app raises before responding

        async def send_wrapper(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            if logger.isEnabledFor(logging.INFO):
                duration_ms = (time.perf_counter() - start) * 1000
                state = scope.get("state") or {}
                request_id = ""
                for name, value in scope.get("headers", []):
                    if name == b"x-request-id":
                        request_id = value.decode("latin-1")
                        break
                path = _printable(scope.get("path", ""))
                logger.info(
                    "%s %s %d %.1fms request_id=%s client_id=%s",
                    scope.get("method"),
                    path,
                    status_code,
                    duration_ms,
                    request_id,
                    state.get("client_id", "-"),
                    extra={
                        "method": scope.get("method"),
                        "path": path,
                        "status": status_code,
                        "duration_ms": round(duration_ms, 1),
                        "request_id": request_id,
                        "client_id": state.get("client_id"),
                    },
                )
