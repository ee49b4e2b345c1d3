"""The application factory, and `app` for `uvicorn app.main:app`.

`create_app(settings)` builds an app from explicit settings (tests use it).
`app` is built from the environment on first access, not at import, so that
importing this module never reads the environment or refuses to start.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.concurrency import run_in_threadpool

from app.articles import router as articles
from app.checks import Problem, UnsafeConfigurationError, errors_only, find_settings_problems
from app.db import Database
from app.health import ReadinessCheck
from app.health import protected_router as identity_router
from app.health import public_router as health_router
from app.security.access_log import AccessLogMiddleware
from app.security.api_key import APIKeyAuth
from app.security.errors import ErrorBoundaryMiddleware, install_error_handlers
from app.security.request_id import add_request_id_middleware
from app.security.route_inventory import RouteProblem, find_route_problems
from app.settings import Settings
from app.web import router as web

logger = logging.getLogger(__name__)

# Routes anyone may call. Every other route must depend on the API key;
# create_app refuses to build an app with a route that is neither.
PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/api/articles"),
        ("GET", "/api/articles/{article_id}"),
        ("GET", "/"),
        ("GET", "/static/app.js"),
        ("GET", "/static/app.css"),
    }
)
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json")


def create_app(settings: Settings) -> FastAPI:
    """Build the service from `settings`, refusing unsafe production settings."""
    problems = find_settings_problems(settings)
    if settings.is_production and errors_only(problems):
        raise UnsafeConfigurationError(errors_only(problems))
    for problem in problems:
        if settings.is_production:
            logger.warning("%s", problem)

    database = Database(settings.sqlalchemy_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(database.create_schema)
        logger.info("service started: env=%s", settings.app_env)
        try:
            yield
        finally:
            database.dispose()
            logger.info("service stopped")

    app = FastAPI(
        title="Hardened FastAPI service",
        # debug=True would make Starlette answer errors with tracebacks; no
        # setting turns it on, in any environment.
        debug=False,
        docs_url="/docs" if settings.show_docs else None,
        redoc_url="/redoc" if settings.show_docs else None,
        openapi_url="/openapi.json" if settings.show_docs else None,
        lifespan=lifespan,
    )
    auth = APIKeyAuth(settings.api_keys)
    app.state.settings = settings
    app.state.database = database
    app.state.auth = auth

    async def database_ready() -> None:
        await run_in_threadpool(app.state.database.ping)

    readiness_checks: dict[str, ReadinessCheck] = {"database": database_ready}
    app.state.readiness_checks = readiness_checks

    install_error_handlers(app)
    _include_routers(app, auth)

    route_problems = find_route_problems(app, auth, PUBLIC_ROUTES, framework_paths=DOCS_PATHS)
    if route_problems:
        raise UnsafeConfigurationError(
            [_route_problem_as_problem(problem) for problem in route_problems]
        )

    # Middleware added last runs first. From the outside in: request id (so
    # every later layer and every response has one), access log, then the
    # error boundary, which turns an unhandled exception into the generic 500.
    app.add_middleware(ErrorBoundaryMiddleware)
    app.add_middleware(AccessLogMiddleware)
    add_request_id_middleware(app)
    return app


def _include_routers(app: FastAPI, auth: APIKeyAuth) -> None:
    protected = [Depends(auth)]
    app.include_router(health_router)
    app.include_router(identity_router, dependencies=protected)
    app.include_router(articles.public_router)
    app.include_router(articles.protected_router, dependencies=protected)
    app.include_router(web.router)


def _route_problem_as_problem(problem: RouteProblem) -> Problem:
    return Problem(
        f"route {problem.method} {problem.path}",
        f"{problem.reason}; protect it with the API key or add it to PUBLIC_ROUTES",
    )


_app: FastAPI | None = None


def __getattr__(name: str) -> Any:
    # Module-level __getattr__ (PEP 562): `uvicorn app.main:app` and
    # `fastapi run app/main.py` look up `app`, which is built here once.
    global _app
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if _app is None:
        from app.entrypoint import build_app_from_environment

        _app = build_app_from_environment()
    return _app
