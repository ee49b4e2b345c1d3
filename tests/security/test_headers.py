"""Security headers on every response, of every status, in production and development."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import Depends, FastAPI, HTTPException
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.testclient import TestClient
from httpx2 import Response
from pydantic import BaseModel

from app.main import create_app
from app.security.headers import SecurityHeadersMiddleware
from tests.conftest import SettingsFactory
from tests.helpers import ALICE_KEY, PRODUCTION_SETTINGS, auth

EXPECTED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": (
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
        "microphone=(), payment=(), usb=()"
    ),
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
}
HSTS = "max-age=63072000; includeSubDomains"
PAGE_POLICY = "default-src 'self'; script-src 'self'"


class Probe(BaseModel):
    count: int


def _add_status_routes(app: FastAPI) -> None:
    protected = [Depends(app.state.auth)]

    @app.post("/api/too-large", dependencies=protected)
    def too_large() -> None:
        raise HTTPException(413)

    @app.get("/api/limited", dependencies=protected)
    def limited() -> None:
        raise HTTPException(429, headers={"Retry-After": "60"})

    @app.get("/api/fail", dependencies=protected)
    def fail() -> None:
        raise RuntimeError("boom")

    @app.post("/api/probe", dependencies=protected)
    def probe(body: Probe) -> dict[str, int]:
        return {"count": body.count}

    @app.get("/page")
    def page() -> HTMLResponse:
        return HTMLResponse("<p>page</p>", headers={"Content-Security-Policy": PAGE_POLICY})

    @app.get("/cached", dependencies=protected)
    def cached() -> JSONResponse:
        return JSONResponse({}, headers={"Cache-Control": "private, max-age=60"})


@pytest.fixture(params=["production", "development"])
def env_client(request: pytest.FixtureRequest, make_settings: SettingsFactory) -> Iterator[Any]:
    overrides = PRODUCTION_SETTINGS if request.param == "production" else {"app_env": "development"}
    app = create_app(make_settings(**overrides))
    _add_status_routes(app)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield request.param, client


# (method, path, headers, status): one request for each status the issue lists.
REQUESTS = [
    ("GET", "/healthz", {}, 200),
    ("GET", "/api/me", {}, 401),
    ("GET", "/no/such/path", {}, 404),
    ("DELETE", "/api/articles", {}, 405),
    ("POST", "/api/too-large", auth(), 413),
    ("POST", "/api/probe", auth(), 422),
    ("GET", "/api/limited", auth(), 429),
    ("GET", "/api/fail", auth(), 500),
    ("GET", "/healthz", {"Host": "evil.test"}, 400),
]


def assert_security_headers(response: Response, *, production: bool) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get_list(name) == [value], name
    if production:
        assert response.headers.get_list("strict-transport-security") == [HSTS]
    else:
        assert "strict-transport-security" not in response.headers
    assert len(response.headers.get_list("x-request-id")) == 1


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"), REQUESTS, ids=[str(r[3]) for r in REQUESTS]
)
def test_every_status_has_headers(
    env_client: tuple[str, TestClient],
    method: str,
    path: str,
    headers: dict[str, str],
    status: int,
) -> None:
    env, client = env_client
    response = client.request(method, path, headers=headers)

    assert response.status_code == status
    assert_security_headers(response, production=env == "production")


def test_authenticated_response_not_stored(env_client: tuple[str, TestClient]) -> None:
    _, client = env_client
    assert client.get("/api/me", headers=auth()).headers["cache-control"] == "no-store"


def test_rejected_key_response_not_stored(env_client: tuple[str, TestClient]) -> None:
    _, client = env_client
    response = client.get("/api/me", headers=auth(ALICE_KEY + "x"))
    assert response.status_code == 401
    assert response.headers["cache-control"] == "no-store"


def test_anonymous_response_has_no_cache_control(env_client: tuple[str, TestClient]) -> None:
    _, client = env_client
    assert "cache-control" not in client.get("/healthz").headers


def test_public_route_with_key_not_stored(env_client: tuple[str, TestClient]) -> None:
    _, client = env_client
    assert client.get("/healthz", headers=auth()).headers["cache-control"] == "no-store"


def test_route_cache_control_kept(env_client: tuple[str, TestClient]) -> None:
    _, client = env_client
    response = client.get("/cached", headers=auth())
    assert response.headers.get_list("cache-control") == ["private, max-age=60"]


def test_page_policy_wins_over_api_policy(env_client: tuple[str, TestClient]) -> None:
    _, client = env_client
    response = client.get("/page")
    assert response.headers.get_list("content-security-policy") == [PAGE_POLICY]
    assert response.headers["x-frame-options"] == "DENY"


def test_no_version_in_headers(env_client: tuple[str, TestClient]) -> None:
    _, client = env_client
    for method, path, headers, _status in REQUESTS:
        response = client.request(method, path, headers=headers)
        assert "server" not in response.headers
        for name, value in response.headers.items():
            for word in ("uvicorn", "starlette", "fastapi", "python"):
                assert word not in value.lower(), name


# --- the faulty pattern ----------------------------------------------------------------


def _faulty_app() -> FastAPI:
    """The usual set-up: headers added in a route, so error responses go without them."""
    app = FastAPI()

    @app.get("/data")
    def data() -> JSONResponse:
        return JSONResponse({}, headers={"X-Content-Type-Options": "nosniff"})

    return app


def _fixed_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(SecurityHeadersMiddleware)
    app.get("/data")(lambda: {})
    return app


@pytest.mark.parametrize(
    "build",
    [
        _fixed_app,
        pytest.param(_faulty_app, marks=pytest.mark.xfail(strict=True, reason="route only")),
    ],
)
def test_error_response_has_headers(build: object) -> None:
    with TestClient(build()) as client:  # type: ignore[operator]
        response = client.get("/no/such/path")
    assert response.status_code == 404
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == EXPECTED["content-security-policy"]
