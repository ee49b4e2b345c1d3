"""Reject requests whose `Host` header is not on an allowlist.

Defends against: Host header attacks (poisoned password-reset or cache
entries built from `request.url`, and DNS rebinding, where a hostile name
resolves to this server so a browser treats it as that site's own).

This is a small pure ASGI middleware instead of Starlette's
`TrustedHostMiddleware`, because Starlette responds to a bad Host with a
plain-text body and can redirect to a `www.` name. Here the response is 400
with the same JSON body as every other error, and there is no redirect.

Needs: Starlette. Imports nothing else from this project.

Wiring into an existing app::

    from trusted_hosts import TrustedHostsMiddleware

    app.add_middleware(TrustedHostsMiddleware, allowed_hosts=["api.example.com"])

Entries are host names or IP addresses without a port (`[::1]` for IPv6),
or `*.example.com` for every subdomain of example.com (not example.com
itself). The port of the request's Host is ignored.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["TrustedHostsMiddleware", "host_from_header", "parse_allowed_hosts"]

logger = logging.getLogger(__name__)

# host[:port], where host is a name or an IPv4 address, or [IPv6][:port].
_HOST_HEADER = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(?P<port>[0-9]{1,5}))?")
_PATTERN = re.compile(r"(\*\.)?(\[[0-9a-f:.]+\]|[a-z0-9.-]+)")


def host_from_header(value: str | None) -> str | None:
    """Return the lower-cased host of a `Host` header without its port, or None if malformed."""
    if value is None:
        return None
    match = _HOST_HEADER.fullmatch(value)
    if match is None:
        return None
    return match["host"].lower()


def parse_allowed_hosts(entries: Sequence[str]) -> list[str]:
    """Return the entries trimmed and lower-cased, or raise `ValueError` naming a bad one."""
    hosts: list[str] = []
    for position, entry in enumerate(entries, start=1):
        host = entry.strip().lower()
        if not host:
            continue
        if not _PATTERN.fullmatch(host):
            raise ValueError(
                f"entry {position} {entry.strip()!r} is invalid: use a host name or IP address "
                "without scheme or port, or *.example.com for every subdomain"
            )
        hosts.append(host)
    return hosts


class TrustedHostsMiddleware:
    """Pure ASGI middleware: 400 with a generic JSON body unless the Host is allowed."""

    def __init__(self, app: ASGIApp, allowed_hosts: Sequence[str]) -> None:
        patterns = parse_allowed_hosts(allowed_hosts)
        self.app = app
        self.exact_hosts = frozenset(p for p in patterns if not p.startswith("*."))
        # "*.example.com" is stored as ".example.com" and matched as a suffix.
        self.suffixes = tuple(p[1:] for p in patterns if p.startswith("*."))

    def is_allowed_host(self, host: str) -> bool:
        return host in self.exact_hosts or host.endswith(self.suffixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return

        headers = Headers(scope=scope)
        # Two Host headers are ambiguous: a proxy may route by one while
        # this app reads the other, so neither is trusted.
        values = headers.getlist("host")
        host = host_from_header(values[0]) if len(values) == 1 else None
        if host is not None and self.is_allowed_host(host):
            await self.app(scope, receive, send)
            return

        request_id = headers.get("x-request-id")
        # INFO, like the access line it explains: scanners send stray Host
        # values all day. The value itself is client-controlled and not logged.
        logger.info("rejected a request with an untrusted Host header: request_id=%s", request_id)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return

        response_headers = {}
        if request_id is None:
            request_id = uuid.uuid4().hex
            response_headers["X-Request-ID"] = request_id
        response = JSONResponse(
            {"error": "bad request", "error_id": request_id},
            status_code=400,
            headers=response_headers,
        )
        await response(scope, receive, send)
