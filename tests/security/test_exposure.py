"""Exposure at the edge in production: no docs, no debug routes, generic bodies only."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.main import PUBLIC_ROUTES, create_app
from app.security.route_inventory import find_route_problems
from tests.conftest import SettingsFactory
from tests.helpers import PRODUCTION_SETTINGS

EXPOSED_PATHS = ["/docs", "/redoc", "/openapi.json", "/debug/config"]


def test_production_routes_not_debug_like(make_settings: SettingsFactory) -> None:
    app = create_app(make_settings(**PRODUCTION_SETTINGS))
    # No framework paths are excused: in production the docs routes do not exist.
    problems = find_route_problems(app, app.state.auth, PUBLIC_ROUTES, framework_paths=())
    assert problems == []


# --- the faulty pattern ----------------------------------------------------------------


def _faulty_app() -> FastAPI:
    """The audited fault: default docs on, and a diagnostic route left in."""
    app = FastAPI()

    @app.get("/debug/config")
    def debug_config() -> dict[str, str]:
        return {"database_url": "postgresql://app@db.internal/app"}

    return app


def _fixed_app(make_settings: SettingsFactory) -> FastAPI:
    return create_app(make_settings(**PRODUCTION_SETTINGS))


@pytest.mark.parametrize(
    "build",
    [
        _fixed_app,
        pytest.param(_faulty_app, marks=pytest.mark.xfail(strict=True, reason="exposed")),
    ],
)
@pytest.mark.parametrize("path", EXPOSED_PATHS)
def test_production_exposes_no_internals(
    make_settings: SettingsFactory, build: object, path: str
) -> None:
    app = build(make_settings) if build is _fixed_app else build()  # type: ignore[operator]
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get(path)

    assert response.status_code == 404
    assert response.json() == {"error": "not found", "error_id": response.headers["x-request-id"]}
