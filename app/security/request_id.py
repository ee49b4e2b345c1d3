"""Request ids: accept a well-formed inbound `X-Request-ID`, otherwise make one.

Defends against: log injection and log forging through a client-chosen id
(newlines, control characters, very long values), and errors that support
cannot match to a log line.

Built on asgi-correlation-id (pure ASGI, sets a context variable that its
`CorrelationIdFilter` copies into every log record); this module only adds a
stricter validator. Imports nothing else from this project.

Wiring into an existing app::

    from request_id import add_request_id_middleware

    add_request_id_middleware(app)   # add it last, so it is the outermost layer
"""

from __future__ import annotations

import re
import uuid

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI

__all__ = [
    "REQUEST_ID_HEADER",
    "add_request_id_middleware",
    "is_valid_request_id",
    "new_request_id",
]

REQUEST_ID_HEADER = "X-Request-ID"

# 32 hex digits (nginx's $request_id, uuid4().hex, trace ids) or a canonical
# hyphenated UUID. Anything else is replaced, never echoed into logs.
_REQUEST_ID = re.compile(r"[0-9a-fA-F]{32}|[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")


def is_valid_request_id(value: str) -> bool:
    return _REQUEST_ID.fullmatch(value) is not None


def new_request_id() -> str:
    return uuid.uuid4().hex


def add_request_id_middleware(app: FastAPI) -> None:
    """Add the middleware that sets `X-Request-ID` on the request and the response."""
    app.add_middleware(
        CorrelationIdMiddleware,
        header_name=REQUEST_ID_HEADER,
        generator=new_request_id,
        validator=is_valid_request_id,
        # The accepted or new id replaces the inbound header, so handlers and
        # the error layer read one id from the request.
        update_request_header=True,
    )
