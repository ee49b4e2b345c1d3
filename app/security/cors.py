"""CORS from an explicit allowlist of origins, with explicit methods and headers.

Defends against: `allow_origins=["*"]` reaching production, which lets any
web site call the API from its visitors' browsers and read the responses;
allowlist entries that can never match (a trailing slash, a path, no
scheme) and so fail silently; and the credentialed wildcard, which would
reflect every origin with `Access-Control-Allow-Credentials: true`.

Needs: Starlette 1.x. Its `CORSMiddleware` does the matching, and this
module validates the configuration and overrides its `preflight_response`
so that a rejected preflight gets the generic error body. Imports nothing
else from this project.

Wiring into an existing app::

    from cors import CORSAllowlistMiddleware, parse_allowed_origins

    origins = parse_allowed_origins(os.environ.get("ALLOWED_ORIGINS", ""))
    app.add_middleware(CORSAllowlistMiddleware, allowed_origins=origins)

An empty allowlist means no cross-origin access at all. `"*"` is honoured
only with `allow_all_origins=True` (local development) and never together
with `allow_credentials=True`. Origins are compared exactly, as browsers
send them: scheme, host and port, lower case, no default port, no path.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp

__all__ = [
    "ALLOWED_HEADERS",
    "ALLOWED_METHODS",
    "ANY_ORIGIN",
    "CORSAllowlistMiddleware",
    "normalize_origin",
    "parse_allowed_origins",
]

ANY_ORIGIN = "*"
ALLOWED_METHODS = ("GET", "POST")
ALLOWED_HEADERS = ("X-API-Key", "Content-Type")

_DEFAULT_PORTS = {"http": 80, "https": 443}
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")


def normalize_origin(entry: str) -> str:
    """Return `entry` as a browser serializes an origin, or raise `ValueError`.

    Scheme and host are lower-cased and a default port is dropped, because
    browsers send `Origin` that way and the match is exact. Anything a
    browser never sends in `Origin` (a path, even a lone trailing slash, a
    query, a fragment, user info, a wildcard, `null`) is rejected.
    """
    text = entry.strip()
    if text.lower() == "null":
        # Sandboxed iframes and file:// pages send `null`, so allowing it
        # allows every such document, from any site.
        raise ValueError(f"{text!r} is rejected because any sandboxed page can send Origin: null")
    if "*" in text:
        raise ValueError(
            f"{text!r} contains a wildcard; list each origin, such as https://app.example.com"
        )
    if "://" not in text:
        raise ValueError(f"{text!r} has no scheme; write it as https://{text}")
    if not text.isascii():
        # Browsers send an internationalized host in its xn-- (punycode) form.
        raise ValueError(f"{text!r} is not ASCII; write the host in its xn-- form")

    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ValueError(f"{text!r} is not a valid origin (scheme://host[:port])") from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()

    if not _SCHEME.fullmatch(scheme) or not host or any(c.isspace() for c in text):
        raise ValueError(f"{text!r} is not a valid origin (scheme://host[:port])")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{text!r} contains user info; an origin is scheme://host[:port]")
    if parts.path or parts.query or parts.fragment or text.endswith(("?", "#")):
        raise ValueError(
            f"{text!r} has a path, query or fragment (a trailing slash counts); "
            "browsers send only scheme://host[:port], so it would never match"
        )

    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal keeps its brackets in an origin
    if port is None or port == _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def parse_allowed_origins(value: str | Sequence[str]) -> list[str]:
    """Parse a comma-separated string, a JSON list or a sequence into normalized origins.

    Whitespace around entries is trimmed, empty entries and repeats are
    dropped, and `"*"` must be the only entry. Raises `ValueError` naming
    the first bad entry.
    """
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                decoded = json.loads(text)
            except json.JSONDecodeError:
                raise ValueError("starts with '[' but is not a valid JSON list") from None
            if not isinstance(decoded, list) or not all(isinstance(i, str) for i in decoded):
                raise ValueError("must be a JSON list of strings")
            entries: Sequence[str] = decoded
        else:
            entries = text.split(",")
    else:
        entries = value

    cleaned = [entry.strip() for entry in entries if entry.strip()]
    if ANY_ORIGIN in cleaned:
        if len(cleaned) > 1:
            raise ValueError("'*' must be the only entry when it is used")
        return [ANY_ORIGIN]

    origins: list[str] = []
    for position, entry in enumerate(cleaned, start=1):
        try:
            origin = normalize_origin(entry)
        except ValueError as error:
            raise ValueError(f"entry {position} {error}") from None
        if origin not in origins:
            origins.append(origin)
    return origins


class CORSAllowlistMiddleware(CORSMiddleware):
    """Starlette's CORS middleware, fixed to an allowlist and explicit methods and headers.

    A request whose `Origin` is not on the list gets no `Access-Control-Allow-*`
    header. A rejected preflight gets 400 with the generic error body instead
    of Starlette's plain-text reply.
    """

    def __init__(
        self,
        app: ASGIApp,
        allowed_origins: Sequence[str],
        *,
        allow_credentials: bool = False,
        allow_all_origins: bool = False,
        max_age: int = 600,
    ) -> None:
        origins = parse_allowed_origins(allowed_origins)
        if ANY_ORIGIN in origins and not allow_all_origins:
            raise ValueError("'*' in allowed_origins needs allow_all_origins=True")
        if ANY_ORIGIN in origins and allow_credentials:
            # Starlette would echo every Origin back with credentials allowed,
            # so any site could make logged-in requests and read the responses.
            raise ValueError("'*' in allowed_origins cannot be combined with allow_credentials")

        super().__init__(
            app,
            allow_origins=origins,
            allow_methods=ALLOWED_METHODS,
            allow_headers=ALLOWED_HEADERS,
            allow_credentials=allow_credentials,
            max_age=max_age,
        )

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response

        request_id = request_headers.get("x-request-id")
        headers = {
            name: value
            for name, value in response.headers.items()
            if name not in {"content-length", "content-type"}
        }
        if request_id is None:
            request_id = uuid.uuid4().hex
            headers["X-Request-ID"] = request_id
        return JSONResponse(
            {"error": "bad request", "error_id": request_id}, status_code=400, headers=headers
        )
