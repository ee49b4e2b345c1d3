"""The front end: the articles page at `/` and its script and stylesheet.

The three files in `app/static/` are served by fixed routes, not a
directory mount, so no request path ever reaches the file system. Each
response carries the page's own Content-Security-Policy, which a security
headers middleware that fills in only missing headers leaves in place.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

# The page may load only the service's own script and style and call only
# its own API. Inline script, inline style and eval are not allowed, so
# stored markup that reached the DOM could still not run.
# require-trusted-types-for makes Chromium reject any plain string assigned
# to an HTML or script sink (innerHTML, document.write, script.src).
# `trusted-types 'none'` forbids creating a policy that would turn strings
# into trusted values. The page needs no such policy because it builds DOM
# nodes.
PAGE_CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types 'none'",
    ]
)
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_CONTENT_SECURITY_POLICY,
    # Revalidate on every load (cheap with the ETag), so a new deploy's
    # script is never mixed with an old cached page.
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)


def _static_file(name: str, media_type: str) -> FileResponse:
    return FileResponse(STATIC_DIR / name, media_type=media_type, headers=PAGE_HEADERS)


@router.get("/")
def page() -> FileResponse:
    return _static_file("index.html", "text/html")


@router.get("/static/app.js")
def script() -> FileResponse:
    # A module script must come with a JavaScript type; browsers refuse any
    # other type for modules.
    return _static_file("app.js", "text/javascript")


@router.get("/static/app.css")
def stylesheet() -> FileResponse:
    return _static_file("app.css", "text/css")
