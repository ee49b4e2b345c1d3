"""Every route is protected by the API key or listed as public; no debug routes."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, Depends, FastAPI

from app.checks import UnsafeConfigurationError
from app.docs_routes import DOCS_PATHS
from app.main import PUBLIC_ROUTES, create_app
from app.security.route_inventory import DEBUG_LIKE_PATH, find_route_problems
from tests.conftest import SettingsFactory
from tests.helpers import PRODUCTION_SETTINGS


def test_service_routes_are_protected_or_public(make_settings: SettingsFactory) -> None:
    for overrides in (PRODUCTION_SETTINGS, {"app_env": "development"}):
        app = create_app(make_settings(**overrides))
        problems = find_route_problems(app, app.state.auth, PUBLIC_ROUTES, framework_paths=())
        docs = {"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"}
        assert [p for p in problems if p.path not in docs] == []


def test_public_list_names_only_real_routes(make_settings: SettingsFactory) -> None:
    from fastapi.routing import iter_route_contexts

    app = create_app(make_settings())
    routes = {
        (method, route.path)
        for route in iter_route_contexts(app.routes)
        for method in (route.methods or ())
    }
    assert routes >= PUBLIC_ROUTES


def test_unprotected_route_is_found(make_settings: SettingsFactory) -> None:
    app = create_app(make_settings())
    router = APIRouter()

    @router.post("/api/forgotten")
    def forgotten() -> None: ...

    app.include_router(router)
    problems = find_route_problems(app, app.state.auth, PUBLIC_ROUTES, framework_paths=DOCS_PATHS)
    assert [(p.method, p.path) for p in problems] == [("POST", "/api/forgotten")]


def test_route_protected_by_other_dependency_is_found(make_settings: SettingsFactory) -> None:
    app = create_app(make_settings())

    def looks_like_auth() -> None: ...

    @app.get("/api/other", dependencies=[Depends(looks_like_auth)])
    def other() -> None: ...

    problems = find_route_problems(app, app.state.auth, PUBLIC_ROUTES, framework_paths=DOCS_PATHS)
    assert [(p.method, p.path) for p in problems] == [("GET", "/api/other")]


@pytest.mark.parametrize(
    "path",
    [
        "/debug/config",
        "/_debug",
        "/config",
        "/env",
        "/api/test",
        "/testing/reset",
        "/admin",
        "/api/internal/dump",
        "/settings.json",
    ],
)
def test_debug_like_route_is_found(make_settings: SettingsFactory, path: str) -> None:
    app = create_app(make_settings())
    auth = app.state.auth

    @app.get(path, dependencies=[Depends(auth)])
    def diagnostic() -> None: ...

    problems = find_route_problems(app, auth, PUBLIC_ROUTES, framework_paths=DOCS_PATHS)
    assert [p.reason for p in problems] == ["path looks like a debug route"]


@pytest.mark.parametrize(
    "path", ["/api/articles", "/api/contest", "/api/latest", "/api/environmental"]
)
def test_ordinary_paths_are_not_debug_like(path: str) -> None:
    assert DEBUG_LIKE_PATH.search(path) is None


def test_create_app_refuses_unprotected_router(
    make_settings: SettingsFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    import app.main as main

    original = main._include_routers

    def include_with_extra(app: FastAPI, auth: object) -> None:
        original(app, auth)  # type: ignore[arg-type]
        extra = APIRouter()

        @extra.get("/api/debug/config")
        def debug_config() -> dict[str, str]:
            return {}

        app.include_router(extra)

    monkeypatch.setattr(main, "_include_routers", include_with_extra)
    with pytest.raises(UnsafeConfigurationError) as caught:
        create_app(make_settings())
    message = str(caught.value)
    assert "route GET /api/debug/config: path looks like a debug route" in message
    assert "route GET /api/debug/config: neither protected" in message
