"""The interactive API docs, with a Content-Security-Policy that lets them load.

Swagger UI and ReDoc come from a CDN and start with an inline script, which
the API's default policy (`default-src 'none'`) blocks, leaving a blank
page. These routes exist only outside production (`Settings.show_docs`), so
they send a policy of their own that allows exactly what the two pages load.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse

OPENAPI_URL = "/openapi.json"
SWAGGER_URL = "/docs"
SWAGGER_REDIRECT_URL = "/docs/oauth2-redirect"
REDOC_URL = "/redoc"
# The framework's routes, which the route inventory leaves to `show_docs`.
DOCS_PATHS = (SWAGGER_URL, SWAGGER_REDIRECT_URL, REDOC_URL, OPENAPI_URL)
CDN = "https://cdn.jsdelivr.net"
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; "
    f"script-src {CDN} 'unsafe-inline'; "
    f"style-src {CDN} https://fonts.googleapis.com 'unsafe-inline'; "
    "font-src https://fonts.gstatic.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "worker-src blob:; "
    "connect-src 'self'; "
    "base-uri 'none'; "
    "form-action 'none'; "
    "frame-ancestors 'none'"
)


def _with_docs_policy(response: HTMLResponse) -> HTMLResponse:
    response.headers["Content-Security-Policy"] = DOCS_CONTENT_SECURITY_POLICY
    return response


def add_docs_routes(app: FastAPI) -> None:
    """Serve /docs, /docs/oauth2-redirect and /redoc for the schema at /openapi.json."""

    async def swagger_ui() -> HTMLResponse:
        return _with_docs_policy(
            get_swagger_ui_html(
                openapi_url=OPENAPI_URL,
                title=f"{app.title} - Swagger UI",
                oauth2_redirect_url=SWAGGER_REDIRECT_URL,
            )
        )

    async def swagger_ui_redirect() -> HTMLResponse:
        return _with_docs_policy(get_swagger_ui_oauth2_redirect_html())

    async def redoc() -> HTMLResponse:
        return _with_docs_policy(
            get_redoc_html(openapi_url=OPENAPI_URL, title=f"{app.title} - ReDoc")
        )

    app.add_api_route(SWAGGER_URL, swagger_ui, methods=["GET"], include_in_schema=False)
    app.add_api_route(
        SWAGGER_REDIRECT_URL, swagger_ui_redirect, methods=["GET"], include_in_schema=False
    )
    app.add_api_route(REDOC_URL, redoc, methods=["GET"], include_in_schema=False)
