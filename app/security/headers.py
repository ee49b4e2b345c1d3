"""Security headers on every response, as pure ASGI middleware.

Defends against: MIME sniffing of API responses into script
(`X-Content-Type-Options`), framing and clickjacking (`X-Frame-Options`,
CSP `frame-ancestors`), content loaded or run from an API response (CSP
`default-src 'none'`), URLs with ids leaking through `Referer`, cross-window
access from opened pages (`Cross-Origin-Opener-Policy`), powerful browser
features (`Permissions-Policy`), downgrade to plain HTTP in production
(`Strict-Transport-Security`), and shared caches keeping answers meant for
one authenticated client (`Cache-Control: no-store`).

Contract: a header is set only when the response has not set it already.
A route that sends its own header keeps it. In this template the HTML page
at `GET /` sends its own `Content-Security-Policy`, which therefore wins over
the API default `default-src 'none'; frame-ancestors 'none'`. `Cache-Control: no-store` is
added when the request is authenticated: `scope["state"]["client_id"]` is
set (what `request.state.client_id = ...` does), or the request carried an
`X-API-Key` header, even one that was rejected.

Why not the `secure` package: `secure` 2.x has an ASGI middleware with a
fixed header policy, but the no-store rule above depends on each request,
and the header values here are a few constants. A short module with no
dependency is easier to review and to copy than a policy object plus a
wrapper for the per-request part.

Needs: nothing beyond an ASGI server. Imports nothing else from this project.

Wiring into an existing app::

    from headers import SecurityHeadersMiddleware

    app.add_middleware(SecurityHeadersMiddleware, hsts=True)  # hsts only behind HTTPS

Add it outside (after) the middleware whose responses should carry the
headers, such as an error boundary or a Host check. Starlette answers an
unhandled exception in its `ServerErrorMiddleware`, outside every user
middleware, so that 500 carries the headers only when an error boundary
sits inside this middleware: copy errors.py as well and add
`ErrorBoundaryMiddleware` before this one.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "API_CONTENT_SECURITY_POLICY",
    "DEFAULT_HEADERS",
    "HSTS_VALUE",
    "SecurityHeadersMiddleware",
]

API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"

DEFAULT_HEADERS: tuple[tuple[str, str], ...] = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    (
        "Permissions-Policy",
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
        "microphone=(), payment=(), usb=()",
    ),
    ("Content-Security-Policy", API_CONTENT_SECURITY_POLICY),
)

# Two years, in seconds. `preload` is left out because adding a domain to
# the browsers' preload list is a decision for the operator of that domain.
HSTS_VALUE = "max-age=63072000; includeSubDomains"


class SecurityHeadersMiddleware:
    """Add the security headers a response lacks; see the module docstring for the contract."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        headers = [(name.lower().encode(), value.encode()) for name, value in DEFAULT_HEADERS]
        if hsts:
            headers.append((b"strict-transport-security", HSTS_VALUE.encode()))
        self.headers = tuple(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        carried_api_key = any(name == b"x-api-key" for name, _ in scope.get("headers", []))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in self.headers:
                    if name not in present:
                        headers.append((name, value))

                # Read at response time: the authentication dependency sets
                # the client id while the request is handled.
                state = scope.get("state") or {}
                authenticated = carried_api_key or state.get("client_id") is not None
                if authenticated and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))

                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
