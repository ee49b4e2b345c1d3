"""One layer between internal errors and HTTP responses.

Defends against: exception text (`str(e)`), tracebacks, file paths, database
user names and library versions reaching a client, and validation errors
echoing submitted values (which may be secrets) back to the client and into
logs.

Every error response has the body `{"error": "<generic message>",
"error_id": "<request id>"}`; a 422 adds `fields`, each with the location and
message of one invalid field, never its value. The server log keeps the full
exception under the same id.

Needs: FastAPI (Starlette). Imports nothing else from this project. The
request id is read from the request's `X-Request-ID` header, which a request
id middleware (such as asgi-correlation-id) sets. Without one, the error
layer makes an id itself and sends it in `X-Request-ID`.

Wiring into an existing app::

    from errors import ErrorBoundaryMiddleware, install_error_handlers

    app = FastAPI(debug=False)
    install_error_handlers(app)
    app.add_middleware(ErrorBoundaryMiddleware)  # add it before (inside) your id middleware
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "ERROR_RESPONSES",
    "GENERIC_MESSAGES",
    "REQUEST_ID_HEADER",
    "ErrorBody",
    "ErrorBoundaryMiddleware",
    "FieldError",
    "ValidationErrorBody",
    "error_response",
    "install_error_handlers",
]

REQUEST_ID_HEADER = "X-Request-ID"

# The only wording a client ever sees for an error, by status. Handlers
# raise HTTPException(status) and this table supplies the text, so the
# wording cannot drift between routes and no exception text can leak.
GENERIC_MESSAGES: Mapping[int, str] = {
    400: "bad request",
    401: "missing or invalid API key",
    403: "forbidden",
    404: "not found",
    405: "method not allowed",
    409: "conflict",
    413: "request body too large",
    415: "unsupported media type",
    422: "invalid request",
    429: "too many requests",
    500: "internal server error",
    502: "bad gateway",
    503: "service unavailable",
    504: "gateway timeout",
}

logger = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: str
    error_id: str


class FieldError(BaseModel):
    """One invalid field: where it is and what is wrong, never its value."""

    loc: list[str | int]
    msg: str


class ValidationErrorBody(ErrorBody):
    fields: list[FieldError]


# For `responses=` on a router or route, so the OpenAPI schema documents the
# error body that clients really receive (FastAPI's default documents its own
# 422 shape, which this layer replaces).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ValidationErrorBody if status == 422 else ErrorBody, "description": message}
    for status, message in {
        400: "Malformed request",
        413: "Request body too large",
        422: "Invalid request",
        429: "Too many requests",
        500: "Internal error; error_id matches the server log",
        503: "A dependency is unavailable",
    }.items()
}


def _message_for(status_code: int) -> str:
    if status_code in GENERIC_MESSAGES:
        return GENERIC_MESSAGES[status_code]
    try:
        return HTTPStatus(status_code).phrase.lower()
    except ValueError:
        return "error"


def _request_id_from_scope(scope: Scope) -> tuple[str, bool]:
    """Return the request id and whether it was made here (no id middleware)."""
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            return value.decode("latin-1"), False
    return uuid.uuid4().hex, True


def error_response(
    request: Request,
    status_code: int,
    *,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    """Build the generic error body for `status_code`, with the request's id."""
    request_id, made_here = _request_id_from_scope(request.scope)
    body: dict[str, Any] = {"error": _message_for(status_code), "error_id": request_id}
    if extra:
        body.update(extra)
    response_headers = dict(headers or {})
    if made_here:
        response_headers[REQUEST_ID_HEADER] = request_id
    return JSONResponse(body, status_code=status_code, headers=response_headers)


async def _http_exception_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101  # registered for this type only
    # `exc.detail` is dropped on purpose: handlers and libraries put internal
    # text there. Headers (WWW-Authenticate, Retry-After, Allow) are kept.
    return error_response(request, exc.status_code, headers=exc.headers)


# A body with thousands of unknown keys would otherwise get a 422 listing
# each of them: a response larger than the request, built for free.
MAX_FIELD_ERRORS = 20


async def _validation_exception_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101  # registered for this type only
    fields = []
    for error in exc.errors()[:MAX_FIELD_ERRORS]:
        # Only location and message: FastAPI's default body also has `input`
        # (the submitted value) and `ctx`, which can hold a secret or the text
        # of a validator's exception.
        location = [part for part in error.get("loc", ()) if isinstance(part, str | int)]
        if error.get("type") == "extra_forbidden" and location:
            # The name of an unknown key is submitted content too, so the
            # response gives where it was, not what it was.
            location = location[:-1]
        fields.append({"loc": location, "msg": str(error.get("msg", "invalid value"))})
    return error_response(request, 422, extra={"fields": fields})


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn HTTP and validation errors into the generic body."""
    app.add_exception_handler(StarletteHTTPException, _http_exception_handler)
    app.add_exception_handler(RequestValidationError, _validation_exception_handler)


class ErrorBoundaryMiddleware:
    """Pure ASGI middleware that turns any unhandled exception into a generic 500.

    It logs one ERROR line with the request id, method, path and traceback,
    and does not re-raise, so the server does not log the exception a second
    time. The exception is a response that had already started: no error
    body can follow its headers, so it re-raises and the server aborts the
    connection.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        response_started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            request_id, made_here = _request_id_from_scope(scope)
            logger.exception(
                "unhandled exception: error_id=%s method=%s path=%s",
                request_id,
                scope.get("method"),
                scope.get("path"),
                extra={"error_id": request_id},
            )
            if response_started:
                # Headers are already sent, so no error body can follow; raising
                # again lets the server abort the connection.
                raise
            headers = {REQUEST_ID_HEADER: request_id} if made_here else {}
            response = JSONResponse(
                {"error": GENERIC_MESSAGES[500], "error_id": request_id},
                status_code=500,
                headers=headers,
            )
            await response(scope, receive, send)
