"""Request body limits with the service's JSON error body.

Defends against: one client filling memory or disk with a large or endless
request body, including a chunked body that has no `Content-Length`.

The counting is Starlette's `RequestBodyLimitMiddleware`. It counts bytes as
the app receives them and rejects a `Content-Length` above the limit before
reading any byte. A route or router given its own `max_body_size` in FastAPI
replaces the app-wide limit for that route (higher or lower). Over
the limit, a read raises an `HTTPException(413)` subclass, which the app's
exception handlers turn into the JSON body. What it lacks, and the reason
for the pure ASGI `JSONBodyLimitReply` here: in two cases it sends a plain
text "Content Too Large" itself, which no exception handler sees (a route
that answers without reading an oversized body, and a limit error raised
outside the exception handlers). `JSONBodyLimitReply` replaces such a plain
413 with `{"error": "request body too large", "error_id": ...}`.

Needs: Starlette 1.x (FastAPI 0.16x). Imports nothing else from this project.

Wiring into an existing app::

    from body_limit import add_body_limit

    add_body_limit(app, max_body_size=1024 * 1024)      # before your id middleware
    app.include_router(uploads, max_body_size=10 * 1024 * 1024)  # a larger route limit

Do not also pass `max_body_size` to `FastAPI(...)`: that copy sits outside
every user middleware, where its plain reply cannot be replaced. Without an
error layer such as errors.py, a limit passed while the route reads the
body (a chunked body) gets FastAPI's default `{"detail": "Content Too Large"}`.
"""

from __future__ import annotations

import json
import uuid

from starlette.applications import Starlette
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["TOO_LARGE_MESSAGE", "JSONBodyLimitReply", "add_body_limit"]

TOO_LARGE_MESSAGE = "request body too large"


def add_body_limit(app: Starlette, max_body_size: int) -> None:
    """Limit every request body of `app` to `max_body_size` bytes, with a JSON 413."""
    app.add_middleware(RequestBodyLimitMiddleware, max_body_size=max_body_size)
    # Added after, so it runs first and receives the limiter's response.
    app.add_middleware(JSONBodyLimitReply)


class JSONBodyLimitReply:
    """Pure ASGI middleware that turns a non-JSON 413 into the JSON error body.

    The error id is the request's `X-Request-ID` header (set by a request id
    middleware further out), or a new id sent back in `X-Request-ID`.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        replacing = False

        async def send_json_413(message: Message) -> None:
            nonlocal replacing
            if message["type"] == "http.response.start" and _is_plain_413(message):
                replacing = True
                await _send_json_413(scope, send)
                return
            if replacing:
                # The JSON body was sent whole, so the plain body is dropped.
                return
            await send(message)

        await self.app(scope, receive, send_json_413)


def _is_plain_413(message: Message) -> bool:
    if message["status"] != 413:
        return False
    for name, value in message.get("headers", []):
        if name.lower() == b"content-type":
            return not value.startswith(b"application/json")
    return True


async def _send_json_413(scope: Scope, send: Send) -> None:
    request_id = None
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            request_id = value.decode("latin-1")
    headers = [(b"content-type", b"application/json")]
    if request_id is None:
        request_id = uuid.uuid4().hex
        headers.append((b"x-request-id", request_id.encode("latin-1")))
    body = json.dumps(
        {"error": TOO_LARGE_MESSAGE, "error_id": request_id}, separators=(",", ":")
    ).encode()
    headers.append((b"content-length", str(len(body)).encode("latin-1")))
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
